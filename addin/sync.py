"""Push and pull, in the order they run, between a loaded :class:`~addin.book.Book` and the
bridge. The commands (``addin.commands``) call these steps one after the other:

push: :func:`outgoing` picks the rows to send (rows with problems are held back and stay
pending), :func:`send` sends them in batches, :func:`record` writes each row's verdict
(the server's resulting row, its version, warnings, conflicts, rejections) into its sheet
and ``_base``; pull: :func:`merge_pull` brings the server's rows into a sheet.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from addin.book import Book
from addin.changes import SortedFields, row_hash, same
from addin.client import BridgeClient, BridgeError
from addin.errors import code_of
from addin.sheets import (
    BaseStore,
    Conflict,
    Level,
    Problem,
    RowPlan,
    Sheet,
    as_int,
    display_cells,
    put_values,
    to_cell,
    to_text,
)
from addin.types import EntityCode, FrameLabel, RecordId, Values
from schema.errors import ErrorCode, Lang
from schema.layout import ROW_HASH, ROW_ID, ROW_VERSION, STATUS
from schema.types import FieldType
from schema.wire import EntityPull, ErrorItem, PushRequest, PushResponse, RowChange, RowResult

_ID_NAMESPACE = uuid.UUID("5b0c9a52-3d0e-4c57-9a55-7e1d2c3b4a59")
PUSH_COUNTS = ("inserted", "updated", "deleted", "merged", "conflicts", "rejected")


# push -------------------------------------------------------------------------------------------
@dataclass
class Outgoing:
    """The rows of one push and where each came from."""

    rows: list[RowChange] = field(default_factory=list)
    where: dict[tuple[EntityCode, RecordId], tuple[Sheet, RowPlan]] = field(
        default_factory=dict)
    held: int = 0  # rows with problems, kept back (still pending)


def stable_insert_id(user: str, meta: dict[str, str], entity: str, plan: RowPlan) -> str:
    """A new row's record id, the same for the same row until the workbook's sync state
    moves on: if every attempt of a push failed after the server committed, pushing the
    unchanged workbook again sends the same ids and the same key, and the bridge answers
    with its stored result instead of creating the rows twice. The workbook's own id (given
    at sign-in) keeps two workbooks of one user apart when they type the same row."""
    seed = json.dumps([user, meta.get("server_url"), meta.get("cursor"), meta.get("last_push"),
                       entity, str(plan.label), plan.values, meta.get("workbook_id")],
                      sort_keys=True, default=str, ensure_ascii=False)
    return str(uuid.uuid5(_ID_NAMESPACE, seed))


def batch_key(template: str, rows: list[RowChange]) -> str:
    """Idempotency key of a batch: its content, so a resend of the same batch replays."""
    body = json.dumps([template, [r.model_dump() for r in rows]], sort_keys=True,
                      default=str, ensure_ascii=False)
    return "push-" + hashlib.sha256(body.encode()).hexdigest()


def outgoing(book: Book, user: str) -> Outgoing:
    """Every row that has something to send and no error (dictionary order: parents before
    children); rows with errors are held back, and so are rows referring to a held row by
    its name; new rows marked delete are dropped."""
    out = Outgoing()
    held_names: dict[EntityCode, set[str]] = {}
    for code, sheet in book.tables.items():
        hold_dependents(sheet, held_names)
        with_errors = {p.row for p in sheet.errors}
        sheet.drop([p.label for p in sheet.plans.values() if p.op == "drop"])
        display = sheet.entity.display_field
        for plan in sheet.plans.values():
            if plan.op is None or plan.op == "drop":
                continue
            if plan.label in with_errors:
                plan.held = True
                out.held += 1
                if plan.values.get(display) is not None:
                    held_names.setdefault(code, set()).add(str(plan.values[display]))
                continue
            if plan.op == "insert":
                plan.id = stable_insert_id(user, book.meta, code, plan)
            out.where[(code, str(plan.id))] = (sheet, plan)
            out.rows.append(RowChange(
                op=plan.op, entity=code, id=str(plan.id), values=plan.values, base=plan.base,
                base_version=plan.base_version if plan.op != "insert" else None,
                row=int(plan.label)))
    return out


def hold_dependents(sheet: Sheet, held_names: dict[EntityCode, set[str]]) -> None:
    """A row naming a record whose own row is held (a new customer not sent, a renamed one)
    would be refused by the bridge: it gets an error saying which row to fix first."""
    refs = [f for f in sheet.entity.fields
            if f.type is FieldType.REFERENCE and held_names.get(str(f.ref))]
    for plan in [p for p in sheet.plans.values() if p.op in ("insert", "update")]:
        for f in refs:
            value = plan.values.get(f.code)
            if value is not None and str(value) in held_names[str(f.ref)]:
                sheet.problems.append(Problem.of(ErrorCode.REFERENCE_HELD, "error",
                                                 sheet=sheet.sheet,
                                                 row=plan.label, field=f.code, value=value,
                                                 zh={"field": f.zh}, en={"field": f.en}))


def send(client: BridgeClient, rows: list[RowChange], template: str, batch_rows: int,
         all_or_none: bool, progress: Callable[[str, float], None]
         ) -> tuple[list[PushResponse], BridgeError | None]:
    """Push ``rows`` in batches; the answers so far and the failure that stopped it.

    Nothing reached the server when the first batch fails: that error is raised. With
    ``all_or_none`` each batch is applied whole or not at all, and a refused batch stops
    the push (batches already applied stay applied)."""
    answers: list[PushResponse] = []
    progress(f"推送 {len(rows)} 行 / Pushing {len(rows)} rows", 0.3)
    for start in range(0, len(rows), max(batch_rows, 1)):
        batch = rows[start:start + batch_rows]
        req = PushRequest(idempotency_key=batch_key(template, batch), template_version=template,
                          all_or_none=all_or_none, rows=batch)
        try:
            answer = client.push(req)
        except BridgeError as exc:
            if not answers:
                raise  # nothing reached the server: the workbook stays as it was
            return answers, exc
        answers.append(answer)
        if all_or_none and any(r.status == "rejected" for r in answer.results):
            break
    return answers, None


def record(book: Book, out: Outgoing, results: list[RowResult]) -> dict[str, int]:
    """Write every verdict into its row and ``_base``; counts by outcome."""
    counts = dict.fromkeys(PUSH_COUNTS, 0)
    cells: dict[str, dict[FrameLabel, dict[str, Any]]] = {}
    gone: dict[str, list[FrameLabel]] = {}
    for res in results:
        found = out.where.get((res.entity, res.id))
        if found is None:
            continue
        sheet, plan = found
        counts[_outcome(plan, res)] += 1
        if res.status == "rejected":
            sheet.problems += _errors(sheet, plan, res.errors)
        elif res.status == "conflict":
            cells.setdefault(sheet.sheet, {})[plan.label] = _conflict(book, sheet, plan, res)
        elif plan.op == "delete":
            book.base.drop(sheet.entity.code, str(plan.id))
            gone.setdefault(sheet.sheet, []).append(plan.label)
        else:
            cells.setdefault(sheet.sheet, {})[plan.label] = _applied(book, sheet, plan, res)
    for sheet in book.tables.values():
        sheet.update_rows(cells.get(sheet.sheet, {}))
        sheet.drop(gone.get(sheet.sheet, []))
    return counts


def _outcome(plan: RowPlan, res: RowResult) -> str:
    if res.status == "applied":
        return {"insert": "inserted", "delete": "deleted"}.get(plan.op or "", "updated")
    return {"merged": "merged", "conflict": "conflicts"}.get(res.status, "rejected")


def _errors(sheet: Sheet, plan: RowPlan, items: list[ErrorItem],
            level: Level = "error") -> list[Problem]:
    """The bridge's problems with a row, pointing at its cells."""
    return [Problem(code_of(e.code), e.message_zh, e.message_en, level, sheet.sheet, plan.label,
                    e.field if e.field in sheet.cols else None) for e in items]


def _applied(book: Book, sheet: Sheet, plan: RowPlan, res: RowResult) -> dict[str, Any]:
    """An applied or merged insert/update: the row shows the server's resulting values
    (canonical; the server's copy wins where it sent one), ``_base`` takes them."""
    codes, rid = sheet.field_codes, str(plan.id)
    before = book.base.get(sheet.entity.code, rid)
    values: Values = dict(plan.current)
    values.update({c: before.values.get(c) if before else None for c in plan.unsent})
    values.update({c: v for c, v in (res.server or {}).items() if c in codes})
    version = res.version or as_int((res.server or {}).get("version")) or 1
    book.base.put(sheet.entity.code, rid, version, values)
    plan.op, plan.dirty = None, False
    zh = book.lang == "zh"
    sheet.statuses[plan.label] = (
        (f"已推送，并与他人的修改合并（版本 {version}）" if zh else
         f"Pushed and merged with others' changes (version {version})")
        if res.status == "merged" else
        (f"已推送（版本 {version}）" if zh else f"Pushed (version {version})"))
    sheet.problems += _errors(sheet, plan, getattr(res, "warnings", None) or [], "warning")
    return {**display_cells(sheet, values, book.lang), ROW_ID: rid, ROW_VERSION: version,
            ROW_HASH: row_hash(values, codes)}


def _conflict(book: Book, sheet: Sheet, plan: RowPlan, res: RowResult) -> dict[str, Any]:
    """Take theirs where only they changed, keep mine elsewhere, list the clashes on the
    Conflicts sheet; ``_base`` becomes the server's copy."""
    entity, codes, rid = sheet.entity, sheet.field_codes, str(plan.id)
    b = book.base.get(entity.code, rid)
    old = dict(b.values) if b else {}
    new_base = dict(old)
    version = b.version if b else (plan.base_version or 1)
    take: Values = {}
    if res.server:
        theirs = {c: v for c, v in res.server.items() if c in codes}
        clashing = {fc.field for fc in res.conflicts}
        take = {c: v for c, v in theirs.items() if c not in clashing
                and same(plan.current.get(c), old.get(c)) and not same(v, plan.current.get(c))}
        new_base.update(theirs)
        version = as_int(res.server.get("version")) or res.version or version
    new_base.update({fc.field: fc.theirs for fc in res.conflicts})
    book.base.put(entity.code, rid, version, new_base)
    sheet.problems += _list_conflicts(book, sheet, plan, res)
    return {**display_cells(sheet, take, book.lang), ROW_VERSION: version,
            ROW_HASH: row_hash(new_base, codes)}


def _list_conflicts(book: Book, sheet: Sheet, plan: RowPlan, res: RowResult) -> list[Problem]:
    """The row's clashes replace its earlier ones on the Conflicts sheet; its problems."""
    entity, rid = sheet.entity, str(plan.id)
    book.conflicts[:] = [c for c in book.conflicts if not (c.entity == entity.code
                                                            and c.id == rid)]
    problems = _errors(sheet, plan, res.errors)
    if not res.conflicts and not res.errors:  # e.g. a delete of a record changed since
        problems.append(Problem.of(ErrorCode.SERVER_CHANGED_KEPT, "error", sheet=sheet.sheet,
                                   row=plan.label, field=STATUS))
    for fc in [fc for fc in res.conflicts if entity.has_field(fc.field)]:
        f = entity.field(fc.field)
        book.conflicts.append(Conflict(entity.code, rid, plan.label, fc.field,
                                       to_text(fc.base, f, book.lang),
                                       to_text(fc.theirs, f, book.lang),
                                       to_text(fc.mine, f, book.lang)))
        problems.append(Problem.of(ErrorCode.CONFLICT_UNRESOLVED, "error", sheet=sheet.sheet,
                                   row=plan.label, field=fc.field))
    return problems


# pull -------------------------------------------------------------------------------------------
@dataclass
class ServerRows:
    """One entity's pulled rows, by record id: canonical values, versions, hashes, cells."""

    ids: list[RecordId]
    records: dict[RecordId, Values]
    versions: dict[RecordId, int]
    hashes: dict[RecordId, str]
    display: pd.DataFrame  # what the field cells show, index = record id

    @classmethod
    def of(cls, sheet: Sheet, ep: EntityPull, lang: Lang) -> ServerRows:
        codes = sheet.field_codes
        n = len(ep.data.get("id", []))
        frame = pd.DataFrame({c: ep.data.get(c, [None] * n) for c in ("id", "version", *codes)},
                             dtype=object)
        frame["id"] = frame["id"].map(str)
        frame = frame.drop_duplicates("id", keep="last").set_index("id")
        ids = [str(r) for r in frame.index]
        records = cast(dict[RecordId, Values], frame[codes].to_dict("index")) if codes else {
            rid: {} for rid in ids}
        order = SortedFields.of(codes)
        fields = {c: sheet.entity.field(c) for c in codes}
        display = pd.DataFrame({c: [to_cell(v, fields[c], lang) for v in frame[c]]
                                for c in codes}, index=frame.index, dtype=object)
        return cls(ids, records, {str(rid): as_int(v) or 1
                                  for rid, v in frame["version"].items()},
                   {rid: row_hash(records[rid], order) for rid in ids}, display)


def merge_pull(sheet: Sheet, ep: EntityPull, full: bool, base: BaseStore,
               lang: Lang) -> dict[str, int]:
    """Update clean rows, add new ones, drop removed ones; dirty rows are kept and marked
    (the sheet's problems say so). Returns the counts."""
    server = ServerRows.of(sheet, ep, lang)
    local = sheet.labels_by_id()
    dirty = {p.id for p in sheet.plans.values() if p.id and p.dirty}
    matched = [rid for rid in server.ids if rid in local and rid not in dirty]
    added = [rid for rid in server.ids if rid not in local]
    counts = {"added": len(added), "updated": _refresh(sheet, server, matched, local),
              "removed": 0, "kept": _keep_dirty(sheet, server, local, dirty, base)}
    _append(sheet, server, added)
    for rid in (*matched, *added):
        base.put(sheet.entity.code, rid, server.versions[rid], server.records[rid])
    removed = {str(r) for r in ep.removed}
    if full:
        removed |= set(local) - set(server.ids)
    _restore(sheet, base, set(server.ids) | removed, lang)
    kept, dropped = _remove(sheet, base, removed, local, dirty)
    counts["kept"] += kept
    counts["removed"] = dropped
    return counts


def _keep_dirty(sheet: Sheet, server: ServerRows, local: dict[RecordId, FrameLabel],
                dirty: set[RecordId], base: BaseStore) -> int:
    """Rows with unpushed edits the server also changed: kept, and said so."""
    kept = 0
    for rid in [r for r in server.ids if r in dirty]:
        b = base.get(sheet.entity.code, rid)
        if b is None or server.versions[rid] > b.version:
            kept += 1
            sheet.problems.append(Problem.of(ErrorCode.SERVER_CHANGED_KEPT, "warning",
                                             sheet=sheet.sheet, row=local[rid], field=STATUS))
    return kept


def _refresh(sheet: Sheet, server: ServerRows, matched: list[RecordId],
             local: dict[RecordId, FrameLabel]) -> int:
    """Clean rows take the server's values; returns how many changed."""
    order = SortedFields.of(sheet.field_codes)
    changed = [r for r in matched
               if server.hashes[r] != row_hash(sheet.plans[local[r]].current, order)
               or server.versions[r] != as_int(sheet.get(local[r], ROW_VERSION))]
    labels = [local[r] for r in matched]
    for label in labels:
        sheet.plans[label].stale_hash = False
    for c in sheet.field_codes:
        sheet.assign(labels, c, server.display.loc[matched, c].tolist())
    sheet.assign(labels, ROW_VERSION, [server.versions[r] for r in matched])
    sheet.assign(labels, ROW_HASH, [server.hashes[r] for r in matched])
    return len(changed)


def _append(sheet: Sheet, server: ServerRows, added: list[RecordId]) -> None:
    """Records new to this sheet go at the bottom."""
    shown = cast(dict[RecordId, dict[str, Any]], server.display.loc[added].to_dict("index")
                 ) if sheet.field_codes else {r: {} for r in added}
    sheet.append_rows([{**shown[r], ROW_ID: r, ROW_VERSION: server.versions[r],
                        ROW_HASH: server.hashes[r]} for r in added])


def _remove(sheet: Sheet, base: BaseStore, removed: set[RecordId],
            local: dict[RecordId, FrameLabel], dirty: set[RecordId]) -> tuple[int, int]:
    """Drop the rows of records gone from the server (or out of the user's sight), except
    those with unpushed edits; returns (kept, removed)."""
    kept, drop = 0, []
    for rid in sorted(removed):
        if rid in dirty and rid in local:
            kept += 1
            sheet.problems.append(Problem.of(ErrorCode.REMOVED_KEPT, "warning", sheet=sheet.sheet,
                                             row=local[rid], field=STATUS))
            continue
        if rid in local:
            drop.append(local[rid])
        base.drop(sheet.entity.code, rid)
    sheet.drop(drop)
    return kept, len(drop)


def _restore(sheet: Sheet, base: BaseStore, handled: set[RecordId], lang: Lang) -> None:
    """Put back, from ``_base``, records the user cleared or deleted from the sheet: only
    the Change column deletes."""
    code, order = sheet.entity.code, SortedFields.of(sheet.field_codes)
    for plan in [p for p in sheet.plans.values() if p.cleared and p.id]:
        b = base.get(code, str(plan.id))
        if b is not None and plan.id not in handled:
            put_values(sheet, plan.label, b.values, lang)
            sheet.set(plan.label, ROW_HASH, row_hash(b.values, order))
            sheet.problems.append(Problem.of(ErrorCode.ROW_RESTORED, "warning", sheet=sheet.sheet,
                                             row=plan.label, field=STATUS))
    present = set(sheet.labels_by_id())
    gone = [] if sheet.missing_id else [(rid, b) for (e, rid), b in base.rows.items()
                                        if e == code and rid not in present
                                        and rid not in handled]
    labels = sheet.append_rows([{**display_cells(sheet, {c: b.values.get(c) for c in order},
                                                 lang),
                                 ROW_ID: rid, ROW_VERSION: b.version,
                                 ROW_HASH: row_hash(b.values, order)} for rid, b in gone])
    sheet.problems += [Problem.of(ErrorCode.ROW_RESTORED, "warning", sheet=sheet.sheet, row=label,
                                  field=STATUS) for label in labels]
