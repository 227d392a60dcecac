"""Confirm and undo of an import.

Confirm turns the stored decisions and the review's choices into push rows and sends them
through ``bridge.sync.push.push`` as the confirming user, in chunks with idempotency keys
``import-<id>-<n>`` (so everything is validated, permission-checked and audited exactly as
a push, and a repeated confirm replays instead of writing twice):

- ``new``, ``branch`` (and ``uncertain`` without a choice, unless ``uncertain="skip"``):
  one inserted customer per cluster head, its ``duplicate`` rows folded in (a blank never
  overwrites, the first value wins unless a later row was verified more recently, a
  ``keep`` field of a later row wins: ``bridge.imports.survive``); a branch carries
  its head office in ``parent`` when the dictionary has that field, in a later push than
  the head offices;
- ``match`` (or a ``merge`` choice): an update of the existing record that fills its blank
  fields and sets the ``keep`` fields and those whose incoming value was verified after
  the stored field last changed (unless ``keep_existing``), with the stored values as the
  base (someone's edit since is a conflict, never overwritten); nothing to fill: nothing
  sent;
- a row's contact: inserted and linked to the row's customer by that customer's record id
  (names are not unique: two customers of one name each keep their own contact);
- an in-file ``uncertain`` row (``uncertain_of``) with a ``merge`` choice folds into that
  row's customer, without a choice (or ``new``) it is kept apart;
- ``invalid`` rows and ``skip`` choices are left out.

Undo (admins): ``undo_push`` over each of the import's pushes, newest first.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

from sqlalchemy import select

from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.imports import store, survive
from bridge.imports.store import IMPORTABLE, Staged
from bridge.imports.validate import Canonical, validate_rows
from bridge.matching.match import fetch_visible
from bridge.permissions import scope_filter
from bridge.sync.push import push
from bridge.sync.undo import undo_push
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.sql import display_key, table_name
from schema.types import Entity
from schema.values import is_blank
from schema.wire import ErrorItem, PushRequest, RowChange, RowStatus
from schema.wire_import import ConfirmIn, ConfirmOut, ImportOut

NAMESPACE = uuid.UUID("5b0f3c9e-6c55-4d57-9a64-3c1f4c2b9e10")  # ids of imported records
PARENT = "parent"  # the customer's head-office reference (added by the history work)
MAX_ERRORS = 1000


@dataclass
class _Group:
    """The rows that become one customer: inserted (``record_id`` None) or updated."""

    head: Staged
    record_id: str | None = None
    rows: list[Staged] = field(default_factory=list)
    parent_row: int | None = None  # a branch of the customer of that source row
    parent_id: str | None = None  # ... or of that existing record

    @property
    def branch(self) -> bool:
        return self.parent_row is not None or self.parent_id is not None


def record_uuid(import_id: str, source_row: int, entity: str) -> str:
    """The id an imported row's record gets: the same on every confirm of the import."""
    return str(uuid.uuid5(NAMESPACE, f"{import_id}:{source_row}:{entity}"))


def _left_out(s: Staged, canonical: dict[int, Canonical], body: ConfirmIn) -> bool:
    """Invalid rows, ``skip`` choices and (with ``uncertain="skip"``) unreviewed
    uncertain rows are not written."""
    d, c = s.decision, s.choice
    if d is None or d.decision == "invalid" or s.source_row not in canonical:
        return True
    if c is not None:
        return c.choice == "skip"
    return d.decision == "uncertain" and body.uncertain == "skip"


def _target(s: Staged, key_of: dict[int, tuple[str, Any]]) -> tuple[str, Any]:
    """Which customer a row becomes: ``("r", record id)`` or ``("s", head source row)``."""
    d, c = s.decision, s.choice
    assert d is not None
    if c is not None and c.choice == "merge" and not (c.record_id or d.record_id) and \
            d.uncertain_of in key_of:  # an in-file uncertain pair: into the other row's
        return key_of[d.uncertain_of]
    if c is not None:
        return ("r", c.record_id or d.record_id) if c.choice == "merge" else ("s", s.source_row)
    if d.decision == "match":
        return "r", d.record_id
    if d.decision == "duplicate" and d.duplicate_of in key_of:
        return key_of[d.duplicate_of]
    return "s", s.source_row


def _group_rows(staged: list[Staged], canonical: dict[int, Canonical], body: ConfirmIn
                ) -> tuple[list[_Group], int]:
    """The customers to write (in source order of their heads) and the rows left out."""
    groups: dict[tuple[str, Any], _Group] = {}
    key_of: dict[int, tuple[str, Any]] = {}
    skipped = 0
    for s in staged:
        if _left_out(s, canonical, body):
            skipped += 1
            continue
        key = key_of[s.source_row] = _target(s, key_of)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(head=s, record_id=key[1] if key[0] == "r" else None)
            d = s.decision
            if s.choice is None and d is not None and d.decision == "branch":
                g.parent_row, g.parent_id = d.parent_row, d.record_id
        g.rows.append(s)
    return list(groups.values()), skipped


@dataclass
class _Plan:
    """The push rows, in the pushes they go in (head offices before branches)."""

    phases: list[list[list[RowChange]]] = field(default_factory=lambda: [[], []])
    unchanged: int = 0


def _customer_row(entity: Entity, g: _Group, values: dict[str, Any], take: set[str],
                  stored: dict[str, dict[str, Any]], ids: dict[int, str], history: bool
                  ) -> RowChange | None:
    """The insert of a new customer, or the update of a matched one: its blank fields
    filled, and the fields whose incoming value survives (``take``) set."""
    head = g.head
    if g.record_id is None:
        hist = head.history.get(entity.code) if history else None
        if g.branch and entity.has_field(PARENT):
            parent = ids.get(g.parent_row) if g.parent_row is not None else g.parent_id
            if parent is not None:  # by id: a head office's name may be shared
                values = {**values, PARENT: parent}
        return RowChange(op="insert", entity=entity.code, row=head.source_row, history=hist,
                         id=ids[head.source_row], values=values)
    current = stored.get(g.record_id)
    if current is None:  # gone or out of sight: the push says which, naming nothing
        return RowChange(op="update", entity=entity.code, id=g.record_id, base_version=1,
                         row=head.source_row, values={}, base={})
    change = {k: v for k, v in values.items() if entity.has_field(k) and (
        is_blank(current.get(k)) or k in take)}
    if not change:
        return None
    return RowChange(op="update", entity=entity.code, id=g.record_id, row=head.source_row,
                     base_version=current["version"], values=change,
                     base={k: current.get(k) for k in change})


def _plan(db: Database, dictionary: Dictionary, user: User, rec: Any, staged: list[Staged],
          body: ConfirmIn, max_rows: int) -> tuple[_Plan, int]:
    entity = dictionary.entity(rec.entity)
    canonical, _ = validate_rows(dictionary, user, entity.code, staged)
    groups, skipped = _group_rows(staged, canonical, body)
    wanted = {i for g in groups for i in (g.record_id, g.parent_id) if i}
    dated, _ = survive.row_moments(staged)
    with db.read() as conn:
        stored = {k: v.values for k, v in
                  fetch_visible(conn, db, dictionary, user, entity, wanted).items()}
        times = survive.field_times(conn, db, entity.code, {
            g.record_id for g in groups
            if g.record_id and any(s.source_row in dated for s in g.rows)})
    known = _known_children(db, dictionary, user, entity.code,
                            {g.record_id for g in groups if g.record_id})
    plan = _Plan()
    ids: dict[int, str] = {}  # source row -> the id of the customer it becomes
    for g in groups:
        rid = g.record_id or record_uuid(rec.id, g.head.source_row, entity.code)
        ids.update((s.source_row, rid) for s in g.rows)
    for g in groups:
        rows: list[RowChange] = []
        values, take = survive.group_values(
            entity.code, g.rows, canonical, stored.get(g.record_id) if g.record_id else None,
            times.get(g.record_id or ""), dated)
        row = _customer_row(entity, g, values, take, stored, ids, bool(rec.history))
        if row is None:
            plan.unchanged += 1
        else:
            rows.append(row)
        rows += _related_rows(rec, dictionary, g, canonical, ids, known)
        _add(plan.phases[1 if g.branch else 0], rows, max_rows)
    return plan, skipped


def _known_children(db: Database, dictionary: Dictionary, user: User, main: str,
                    record_ids: set[str]) -> set[tuple[str, str, str | None]]:
    """(entity, record id, name key) of the visible live related records (contacts) of the
    matched records: a row's contact already there is not inserted again."""
    found: set[tuple[str, str, str | None]] = set()
    if not record_ids:
        return found
    with db.read() as conn:
        for code in IMPORTABLE[main]:
            child = dictionary.entity(code)
            t = db.table(table_name(code))
            for link in (f.code for f in child.fields if f.ref == main):
                for chunk in _chunks(sorted(record_ids)):
                    q = select(t.c[link], t.c[child.display_field]).where(
                        db.one_of(t.c[link], chunk), t.c.deleted.is_(False),
                        scope_filter(user, child, t))
                    found.update((code, rid, display_key(name)) for rid, name in conn.execute(q))
    return found


def _chunks(items: list[str], size: int = 20_000) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _related_rows(rec: Any, dictionary: Dictionary, g: _Group, canonical: dict[int, Canonical],
                  ids: dict[int, str], known: set[tuple[str, str, str | None]]
                  ) -> list[RowChange]:
    """Each row's related records (its contact), linked to the group's customer by its
    record id; one the matched record already has (the same name) is not added again."""
    out = []
    for code in IMPORTABLE[rec.entity]:
        child = dictionary.entity(code)
        links = [f.code for f in child.fields if f.ref == rec.entity]
        for s in g.rows:
            values = canonical[s.source_row].get(code)
            if values and g.record_id and (
                    code, g.record_id, display_key(values.get(child.display_field))) in known:
                continue
            if values:
                hist = s.history.get(code) if rec.history else None
                out.append(RowChange(op="insert", entity=code, row=s.source_row, history=hist,
                                     id=record_uuid(rec.id, s.source_row, code),
                                     values={**values, **dict.fromkeys(
                                         links, ids[g.head.source_row])}))
    return out


def _add(chunks: list[list[RowChange]], rows: list[RowChange], max_rows: int) -> None:
    """Append one customer's rows, keeping them in one push of at most ``max_rows``."""
    if not rows:
        return
    if not chunks or len(chunks[-1]) + len(rows) > max_rows:
        chunks.append([])
    chunks[-1].extend(rows)


def confirm(db: Database, dictionary: Dictionary, user: User, import_id: str,
            body: ConfirmIn, max_rows: int) -> ConfirmOut:
    """Write the import through the push engine; the import becomes ``confirmed``."""
    with db.read() as conn:
        rec = store.fetch(conn, db, user, import_id)
        store.require_state(rec, ErrorCode.IMPORT_NOT_CHECKED, "checked")
        staged = store.load_rows(conn, db, import_id)
    plan, skipped = _plan(db, dictionary, user, rec, staged, body, max_rows)
    counts: Counter[str] = Counter({**dict.fromkeys(get_args(RowStatus), 0),
                                    "skipped": skipped, "unchanged": plan.unchanged})
    errors: list[ErrorItem] = []
    keys: list[str] = []
    for chunk in (c for phase in plan.phases for c in phase):
        key = f"import-{import_id}-{len(keys)}"
        answer = push(db, dictionary, user, PushRequest(
            idempotency_key=key, template_version=dictionary.version, rows=chunk),
            max_rows=max(max_rows, len(chunk)))
        keys.append(key)
        counts.update(answer.counts)
        errors += [e for r in answer.results for e in r.errors][:MAX_ERRORS - len(errors)]
    with db.write() as conn:
        rec = store.fetch(conn, db, user, import_id, lock=True)
        store.require_state(rec, ErrorCode.IMPORT_NOT_CHECKED, "checked")
        totals = {**store.loads(rec.counts), **{f"confirm_{k}": v for k, v in counts.items()}}
        store.set_state(conn, db, import_id, "confirmed", counts=totals, push_keys=keys)
        rec = store.fetch(conn, db, user, import_id)
    return ConfirmOut.model_validate({"import": store.out(rec), "counts": dict(counts),
                                      "errors": errors})


def undo(db: Database, dictionary: Dictionary, user: User, import_id: str) -> ImportOut:
    """Undo every push of a confirmed import, newest first (admins); ``undone``."""
    with db.read() as conn:
        rec = store.fetch(conn, db, user, import_id)
    store.require_state(rec, ErrorCode.IMPORT_NOT_CONFIRMED, "confirmed")
    counts: Counter[str] = Counter()
    for key in reversed(store.loads(rec.push_keys)):
        try:
            answer = undo_push(db, dictionary, user, key)
        except ApiError as exc:
            if exc.code is not ErrorCode.AUDIT_NOT_FOUND:  # a push that changed nothing
                raise
            continue
        counts.update({k: v for k, v in answer.counts.items() if v})
    with db.write() as conn:
        rec = store.fetch(conn, db, user, import_id, lock=True)
        store.require_state(rec, ErrorCode.IMPORT_NOT_CONFIRMED, "confirmed")
        totals = {**store.loads(rec.counts), **{f"undo_{k}": v for k, v in counts.items()}}
        store.set_state(conn, db, import_id, "undone", counts=totals)
        return store.out(store.fetch(conn, db, user, import_id))
