"""Writing a push's accepted rows in bulk, and queueing their audit entries.

Every tuple handed to ``bridge.bulk`` is built from a list of column names, value by
name, so nothing depends on the order of the table's columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bridge import audit, bulk
from bridge.auth import now
from bridge.matching.keys import matched_fields, replace_keys
from bridge.sync.batch import Ctx, Row
from bridge.sync.rows import to_db
from schema.clock import stamp
from schema.sql import NAME_KEY, RECORD_COLUMNS, display_key, table_name
from schema.types import Entity, Field, FieldType

STAMP_COLUMNS = ("updated_by", "updated_at", "change_seq")
HISTORY_KEY = "$history"  # an insert's audit changes: the history it was imported with


def stored_value(f: Field, r: Row) -> Any:
    """What ``f``'s column stores for row ``r``: a reference's resolved id (the row holds
    the referenced record's name), any other field's value as the column wants it."""
    if f.type is FieldType.REFERENCE:
        return r.ref_ids.get(f.code)
    return to_db(f, r.new.get(f.code))


def write(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Apply the accepted rows in bulk and queue their audit entries."""
    t = ctx.db.table(table_name(entity.code))
    keyed = NAME_KEY in t.c
    live, system = [r for r in rows if r.live], _record(ctx)
    _insert(ctx, entity, t, keyed, system, [r for r in live if r.change.op == "insert"])
    _update(ctx, entity, t, keyed, system, [r for r in live if r.change.op == "update"])
    _delete(ctx, entity, t, system, [r for r in live if r.change.op == "delete"])
    _match_keys(ctx, entity, live)
    if entity.has_field("stage"):
        bulk.insert_rows(ctx.conn, ctx.db.table("sys_stage_history"),
                         ["opportunity_id", "stage", "entered_at", "change_seq"],
                         _stage_entries(ctx, live, system["updated_at"]))


def _stage_entries(ctx: Ctx, rows: list[Row], at: Any) -> list[tuple[Any, ...]]:
    """The stage history rows of a write: a history import's own days, else the stage each
    written row now holds, entered at the push time ``at``."""
    entries: list[tuple[Any, ...]] = []
    for r in rows:
        if r.stage_history is not None:
            entries += [(r.change.id, stage, entered, ctx.seq)
                        for stage, entered in r.stage_history]
        elif "stage" in r.changed and r.new.get("stage"):
            entries.append((r.change.id, r.new["stage"], at, ctx.seq))
    return entries


def _match_keys(ctx: Ctx, entity: Entity, live: list[Row]) -> None:
    """Keep the match keys (``bridge.matching.keys``) of the written records in step."""
    matched = matched_fields(entity.code)
    if not matched:
        return
    records = {r.change.id: (None if r.change.op == "delete" else r.new) for r in live
               if r.change.op != "update" or matched & r.changed.keys()}
    replace_keys(ctx.db, ctx.conn, entity.code, records)


def _record(ctx: Ctx) -> dict[str, Any]:
    """The system columns a write stamps (an insert's; the version is set per row)."""
    at, user = now(), ctx.user.username
    return {"version": 1, "created_by": user, "created_at": at, "updated_by": user,
            "updated_at": at, "deleted": False, "change_seq": ctx.seq}


def _insert(ctx: Ctx, entity: Entity, t: Any, keyed: bool, system: dict[str, Any],
            rows: list[Row]) -> None:
    if not rows:
        return
    columns: Sequence[str] = [*RECORD_COLUMNS, *entity.field_codes(),
                              *([NAME_KEY] if keyed else [])]
    refs = [f.code for f in entity.fields if f.type is FieldType.REFERENCE]
    rows = _links_first(entity, rows)
    dated = [f for f in entity.fields if f.type in (FieldType.DATE, FieldType.DATETIME)]
    records = []
    for r in rows:
        # by name: the row's values, the stamps over them, then what a column stores
        values = {**r.new, **system, "id": r.change.id}
        if r.created_at is not None:  # a history import's own creation time
            values["created_at"] = r.created_at
        for code in refs:
            values[code] = r.ref_ids.get(code)
        for f in dated:
            values[f.code] = to_db(f, values.get(f.code))
        if keyed:
            values[NAME_KEY] = display_key(r.new.get(entity.display_field))
        records.append(tuple(map(values.get, columns)))
        r.changed = {c: [None, v] for c in entity.field_codes()
                     if (v := r.new.get(c)) is not None}
        r.result.version = 1
        ctx.audit.append(audit.Entry(ctx.user.username, "insert", entity.code, r.change.id,
                                     _with_history(r), ctx.key, ctx.seq))
    bulk.insert_rows(ctx.conn, t, columns, records)


def _with_history(r: Row) -> dict[str, Any]:
    """An insert's audit changes; with a history import's moments under ``HISTORY_KEY``
    (the entry itself keeps the push time)."""
    if r.created_at is None and r.stage_history is None:
        return r.changed
    told: dict[str, Any] = {}
    if r.created_at is not None:
        told["created_at"] = stamp(r.created_at)
    if r.stage_history is not None:
        told["stages"] = [[code, stamp(at)] for code, at in r.stage_history]
    return {**r.changed, HISTORY_KEY: [None, told]}


def _links_first(entity: Entity, rows: list[Row]) -> list[Row]:
    """``rows`` with each record before the new records that link to it (a head office
    before its branches: SQLite checks a foreign key after each row it inserts)."""
    own = [f.code for f in entity.fields if f.type is FieldType.REFERENCE and f.ref == entity.code]
    if not own:
        return rows
    unplaced = {r.change.id for r in rows}  # new records not yet in ``ordered``
    ordered: list[Row] = []
    left = rows
    while left:
        ready = [r for r in left if all(r.ref_ids.get(c) not in unplaced
                                        or r.ref_ids.get(c) == r.change.id for c in own)]
        if not ready:  # a loop (refused before writing): keep the order sent
            ready = left
        ordered += ready
        unplaced -= {r.change.id for r in ready}
        left = [r for r in left if r.change.id in unplaced]
    return ordered


def _update(ctx: Ctx, entity: Entity, t: Any, keyed: bool, system: dict[str, Any],
            rows: list[Row]) -> None:
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        stored = r.stored
        assert stored is not None
        # only pushed fields can differ from the stored row (see ``push._merge``)
        # (and references a check filled in: an order's customer, say)
        r.changed = {c: [old, v] for c in entity.field_codes()
                     if (c in r.change.values or c in r.ref_ids)
                     and (v := r.new.get(c)) != (old := stored.get(c))}
        r.result.version = stored["version"]
        if not r.changed:
            continue
        r.result.version = version = stored["version"] + 1
        values = {c: stored_value(entity.field(c), r) for c in r.changed}
        if keyed and entity.display_field in r.changed:
            values[NAME_KEY] = display_key(r.new.get(entity.display_field))
        values |= {"version": version, **{c: system[c] for c in STAMP_COLUMNS}}
        columns = tuple(sorted(values))
        updates[columns].append((r.change.id, *(values[c] for c in columns)))
        ctx.audit.append(audit.Entry(ctx.user.username, "update", entity.code, r.change.id,
                                     r.changed, ctx.key, ctx.seq))
    for columns, records in updates.items():
        bulk.update_rows(ctx.conn, t, "id", columns, records)


def _delete(ctx: Ctx, entity: Entity, t: Any, system: dict[str, Any],
            rows: list[Row]) -> None:
    columns = ("deleted", "version", *STAMP_COLUMNS)
    records = []
    for r in rows:
        if r.stored is None:  # already deleted: nothing to write
            continue
        r.result.version = version = r.stored["version"] + 1
        values = {**system, "deleted": True, "version": version}
        records.append((r.change.id, *(values[c] for c in columns)))
        ctx.audit.append(audit.Entry(ctx.user.username, "delete", entity.code, r.change.id,
                                     None, ctx.key, ctx.seq))
    bulk.update_rows(ctx.conn, t, "id", columns, records)
