"""The dry run of an import: every staged row gets its ``RowDecision``, stored for the
review sheet and for confirm; nothing reaches the entity tables.

1. each row is validated as a push would (``bridge.imports.validate``; a USCC shared in
   the file is decided per cluster, a USCC with a bad check character dropped with a
   warning);
2. every row, valid or not, is profiled (``schema.matching``; an invalid row from its raw
   text) and clustered among the others (blocking, ``compare``, union-find: one cluster per
   legal entity, branch clusters with their head office's), so an invalid row keeps its
   real cluster; a unique value shared by two clusters makes their later rows invalid;
3. each row's candidates among the existing records the user may see are found through
   the match keys (``bridge.matching.match``) and compared;
4. per cluster: a row that is an existing record is a ``match``; the cluster's other rows
   are ``duplicate``s of its head row (the first match, else the first row); a head
   without a match is a ``branch`` (of a head-office row or an existing record),
   ``uncertain`` (a person decides: of an existing record, or of an earlier cluster's head
   row, ``uncertain_of``) or ``new``.

Survivorship: a ``match`` or ``duplicate`` never overwrites with a blank and fills blanks;
two different non-blank values are a ``FieldDifference`` for the review sheet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from bridge import gcpause
from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.imports import store, survive
from bridge.imports.store import Staged
from bridge.imports.validate import HINT_TYPES, Canonical, unique_clashes, validate_rows
from bridge.matching.keys import cached_profile, company_record
from bridge.matching.match import Found, candidates, decide, fetch_visible
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.matching import (
    BlockIndex,
    Clustering,
    Match,
    Profile,
    blocking_keys,
    cluster,
    compare,
    query_keys,
)
from schema.permissions import visible_fields
from schema.types import Entity
from schema.values import is_blank
from schema.wire import ErrorItem, WarningItem
from schema.wire_import import DryRunOut, FieldDifference, RowDecision

Step = Callable[..., None]  # (phase, done, total): the dry run's progress


def _no_step(phase: str, done: int = 0, total: int = 0) -> None:
    """No progress recorded (``decide_all`` outside a stored import)."""


LOOKUP_ROWS = 20_000  # source rows whose candidates are looked up and held at once
ADMIN_WARM = User("warm-up", "", "admin", None, None)


@dataclass(slots=True)
class _Row:
    """A row while it is decided (``errors``: invalid, never a cluster's head)."""

    staged: Staged
    values: Canonical
    profile: Profile
    found: list[Found]
    errors: list[ErrorItem]
    warnings: list[WarningItem]

    @property
    def valid(self) -> bool:
        return not self.errors

    def best(self, decision: str, branch_side: str | None = None) -> Found | None:
        for f in self.found:
            if f.match.decision == decision and (
                    branch_side is None or f.match.reasons[-1] == branch_side):
                return f
        return None


def warm(dictionary: Dictionary) -> None:
    """Load what the first dry run would (the validation backends, the name tables), as the
    bridge does at start (``bridge.app``)."""
    entity = dictionary.entity(next(iter(store.IMPORTABLE)))
    validate_rows(dictionary, ADMIN_WARM, entity.code, [Staged(1, None, None, {
        entity.code: {entity.display_field: "北京恒通科技有限公司"}})])
    cached_profile(company_record(entity.code, {entity.display_field: "恒通科技"}))


def run(db: Database, dictionary: Dictionary, user: User, import_id: str) -> DryRunOut:
    """Decide every staged row and store the decisions (the import becomes ``checked``).

    The rows are decided on a read snapshot, outside the write lock (pushes go on); rows
    added meanwhile make it decide again, so none is left without a decision. A dry run
    that fails leaves no progress behind."""
    try:
        for _ in range(3):
            out = _run_once(db, dictionary, user, import_id)
            if out is not None:
                return out
        raise ApiError(ErrorCode.IMPORT_ROWS_CHANGING, import_id=import_id)
    except BaseException:
        store.set_progress(db, import_id, None)
        raise


def _run_once(db: Database, dictionary: Dictionary, user: User, import_id: str
              ) -> DryRunOut | None:
    with gcpause.paused(), db.read() as conn:  # a burst of objects none of which is garbage
        rec = store.fetch(conn, db, user, import_id)
        store.require_state(rec, ErrorCode.IMPORT_NOT_STAGED, "staged", "checked")
        staged = store.load_rows(conn, db, import_id)

        def step(phase: str, done: int = 0, total: int = 0) -> None:
            store.set_progress(db, import_id, phase, done, total)

        decide_all(conn, db, dictionary, user, dictionary.entity(rec.entity), staged,
                   step=step)
    store.set_progress(db, import_id, "save")
    counts: dict[str, int] = dict(Counter(s.kind for s in staged if s.kind))
    with gcpause.paused(), db.write() as conn:
        rec = store.fetch(conn, db, user, import_id, lock=True)
        store.require_state(rec, ErrorCode.IMPORT_NOT_STAGED, "staged", "checked")
        if rec.rows != len(staged):
            return None
        store.save_decisions(conn, db, import_id, staged)
        store.set_state(conn, db, import_id, "checked", counts=counts)
        rec = store.fetch(conn, db, user, import_id)
    return DryRunOut.model_validate({"import": store.out(rec), "counts": counts})


def decide_all(conn: Connection, db: Database, dictionary: Dictionary, user: User,
               entity: Entity, staged: list[Staged], step: Step = _no_step) -> None:
    """Give every staged row its decision (``set_decision``; choices made are kept).

    Every row is matched and clustered, valid or not (an invalid row is profiled from its
    raw text), so an invalid row still gets its real ``cluster``; its ``errors`` say what
    to fix."""
    warnings: dict[int, list[WarningItem]] = {}
    step("validate", 0, len(staged))
    canonical, errors = validate_rows(dictionary, user, entity.code, staged, warnings)
    matched_on = [_profiled(entity, s, canonical) for s in staged]
    profiles = [cached_profile(company_record(entity.code, v)) for v in matched_on]
    values = [canonical.get(s.source_row, {}) for s in staged]
    for s in staged:
        s.values = {}  # checked: the canonical values are what matching reads
    step("match", 0, len(staged))
    keys = [query_keys(p) for p in profiles]
    matches = {pair: compare(profiles[pair[0]], profiles[pair[1]])
               for pair in _pairs(profiles, keys)}
    name = entity.display_field
    names = [None if is_blank(n := v.get(name)) else str(n) for v in matched_on]
    del matched_on
    found: list[list[Found]] = []
    for start in range(0, len(staged), LOOKUP_ROWS):  # the candidates of a chunk at a time
        step("lookup", start, len(staged))
        part = slice(start, start + LOOKUP_ROWS)
        per_row, records = candidates(conn, db, dictionary, user, entity, keys[part],
                                      names[part])
        found += [decide(p, ids, records, n, name)
                  for p, ids, n in zip(profiles[part], per_row, names[part], strict=True)]
    del keys
    step("decide", 0, len(staged))
    c = cluster(profiles, matches)
    clashes = unique_clashes(entity, staged, canonical,
                             {s.source_row: c.cluster_of[i] for i, s in enumerate(staged)})
    for n, errs in clashes.items():
        errors.setdefault(n, []).extend(errs)
    rows = [_Row(s, v, p, f, errors.get(s.source_row, []), warnings.get(s.source_row, []))
            for s, v, p, f in zip(staged, values, profiles, found, strict=True)]
    # the records matched, with every field the user may see (for the differences)
    matched = {hit.record.id for r in rows if r.valid and (hit := r.best("same"))}
    full = fetch_visible(conn, db, dictionary, user, entity, matched)
    _decide_clusters(entity, user, rows, c, matches, {k: v.values for k, v in full.items()})
    survive.annotate(conn, db, entity.code, staged)  # who wins each difference, and why


def _profiled(entity: Entity, s: Staged, canonical: dict[int, Canonical]) -> dict[str, Any]:
    """The values a row is matched on: its canonical ones, with a dropped hint (a USCC
    with a wrong check character) as typed; the raw text of an invalid row."""
    raw = s.values.get(entity.code, {})
    if s.source_row not in canonical:
        return raw
    values = canonical[s.source_row].get(entity.code, {})
    dropped = {f.code: raw[f.code] for f in entity.fields
               if f.type in HINT_TYPES and f.code in raw and f.code not in values}
    return {**values, **dropped} if dropped else values


def _pairs(profiles: list[Profile], keys: list[list[str]]) -> set[tuple[int, int]]:
    """``schema.matching.candidate_pairs`` with each row's query keys computed once (its
    blocking keys are the query keys less the USCC neighbours, ``u:`` keys it adds)."""
    index = BlockIndex()
    pairs: set[tuple[int, int]] = set()
    for i, (p, k) in enumerate(zip(profiles, keys, strict=True)):
        pairs.update((j, i) for j in index.candidates(k))
        index.add(i, k if not p.uscc_typed else blocking_keys(p))
    return pairs


def _heads(rows: list[_Row], groups: dict[int, list[int]]) -> dict[int, int | None]:
    """Each cluster's head row: its first valid row with an existing record, else its first
    valid row (None: every row of it is invalid)."""
    heads: dict[int, int | None] = {}
    for root, members in groups.items():
        valid = [i for i in members if rows[i].valid]
        matched = [i for i in valid if rows[i].best("same")]
        heads[root] = matched[0] if matched else (valid[0] if valid else None)
    return heads


def _label(rows: list[_Row], members: list[int], head: _Row | None) -> str:
    """``r:<record id>`` for a cluster holding an existing record, else ``s:<first row>``."""
    own = head.best("same") if head else next(
        (hit for i in members if (hit := rows[i].best("same"))), None)
    return f"r:{own.record.id}" if own else f"s:{rows[members[0]].staged.source_row}"


def _decide_clusters(entity: Entity, user: User, rows: list[_Row], c: Clustering,
                     matches: dict[tuple[int, int], Match],
                     full: dict[str, dict[str, Any]]) -> None:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, root in enumerate(c.cluster_of):
        groups[root].append(i)
    heads = _heads(rows, groups)
    doubt = _in_file_uncertain(rows, c, matches, heads)
    visible = {f.code for f in visible_fields(user.role, entity)}
    for root, members in groups.items():
        head = rows[h] if (h := heads[root]) is not None else None
        label = _label(rows, members, head)
        for i in members:
            r = rows[i]
            if not r.valid:
                r.staged.set_decision(_base(r, label, decision="invalid", errors=r.errors))
            elif (hit := r.best("same")) is not None:
                r.staged.set_decision(_matched(entity, r, hit, label, visible,
                                               full.get(hit.record.id, hit.record.values)))
            elif r is head:
                r.staged.set_decision(_head(r, label, c.parent.get(root), heads, rows,
                                            doubt.get(i)))
            elif head is not None:
                r.staged.set_decision(_duplicate(entity, r, head, label, visible))


def _in_file_uncertain(rows: list[_Row], c: Clustering,
                       matches: dict[tuple[int, int], Match], heads: dict[int, int | None]
                       ) -> dict[int, tuple[int, Match]]:
    """Head row -> (the earlier cluster's head row it may be, the pair's match) for the
    ``uncertain`` pairs left between two clusters: the strongest pair per head."""
    out: dict[int, tuple[int, Match]] = {}
    for i, j in c.uncertain:
        a, b = heads[c.cluster_of[i]], heads[c.cluster_of[j]]
        m = matches.get((i, j)) or matches.get((j, i))
        if a is None or b is None or a == b or m is None:
            continue
        first, later = min(a, b), max(a, b)
        if later not in out or out[later][1].score < m.score:
            out[later] = (first, m)
    return out


def _base(r: _Row, label: str, **kw: Any) -> RowDecision:
    s = r.staged
    return RowDecision(source_row=s.source_row, sheet=s.sheet, line=s.line, cluster=label,
                       warnings=r.warnings, **kw)


def _differences(entity: Entity, incoming: dict[str, Any], existing: dict[str, Any],
                 visible: set[str]) -> list[FieldDifference]:
    """Fields both sides hold with different non-blank values (blanks never count; the
    name is how the two were found to be one company, ``record_name`` shows it)."""
    return [FieldDifference(field=code, entity=entity.code, existing=existing[code],
                            incoming=value)
            for code, value in incoming.items()
            if code in visible and code != entity.display_field and not is_blank(value)
            and not is_blank(existing.get(code)) and existing[code] != value]


def _matched(entity: Entity, r: _Row, hit: Found, label: str, visible: set[str],
             stored: dict[str, Any]) -> RowDecision:
    rec = hit.record
    return _base(r, label, decision="match", record_id=rec.id,
                 record_name=rec.values.get(entity.display_field), score=hit.match.score,
                 reasons=list(hit.match.reasons),
                 differences=_differences(entity, r.values.get(entity.code, {}), stored,
                                          visible))


def _duplicate(entity: Entity, r: _Row, head: _Row, label: str,
               visible: set[str]) -> RowDecision:
    m = compare(r.profile, head.profile)
    return _base(r, label, decision="duplicate", duplicate_of=head.staged.source_row,
                 score=m.score, reasons=list(m.reasons),
                 differences=_differences(entity, r.values.get(entity.code, {}),
                                          head.values.get(entity.code, {}), visible))


def _head(r: _Row, label: str, parent: int | None, heads: dict[int, int | None],
          rows: list[_Row], doubt: tuple[int, Match] | None) -> RowDecision:
    """A cluster's head row without an existing record: a branch, uncertain (of a record,
    else of an earlier source row: ``uncertain_of``), or new."""
    if parent is not None and (top_i := heads.get(parent)) is not None:
        top = rows[top_i]
        own = top.best("same")
        return _base(r, label, decision="branch", parent_row=top.staged.source_row,
                     record_id=own.record.id if own else None,
                     record_name=own.record.values.get("name") if own else None,
                     reasons=["branch_of_row"])
    if (hit := r.best("branch_of", "branch_a")) is not None:
        return _base(r, label, decision="branch", record_id=hit.record.id,
                     record_name=hit.record.values.get("name"), score=hit.match.score,
                     reasons=list(hit.match.reasons))
    if (hit := r.best("uncertain")) is not None:
        return _base(r, label, decision="uncertain", record_id=hit.record.id,
                     record_name=hit.record.values.get("name"), score=hit.match.score,
                     reasons=list(hit.match.reasons))
    if doubt is not None:
        other, m = doubt
        return _base(r, label, decision="uncertain", uncertain_of=rows[other].staged.source_row,
                     score=m.score, reasons=list(m.reasons))
    return _base(r, label, decision="new")
