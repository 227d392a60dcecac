"""Writing a push's accepted rows in bulk, and queueing their audit entries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bridge import audit, bulk
from bridge.auth import now
from bridge.sync.batch import Ctx, Row
from bridge.sync.rows import to_db
from schema.sql import RECORD_COLUMNS, table_name
from schema.types import Entity, FieldType

STAMP_COLUMNS = ("updated_by", "updated_at", "change_seq")


def write(ctx: Ctx, entity: Entity, rows: list[Row]) -> None:
    """Apply the accepted rows in bulk and queue their audit entries."""
    t = ctx.db.table(table_name(entity.code))
    at, user, seq = now(), ctx.user.username, ctx.seq
    fields = entity.fields
    codes, by_code = entity.field_codes(), {f.code: f for f in fields}
    has_stage = entity.has_field("stage")
    # a reference column stores the resolved id (``<code>__id``), not the name
    stored = [f"{f.code}__id" if f.type is FieldType.REFERENCE else f.code for f in fields]
    dated = [i for i, f in enumerate(fields) if f.type in (FieldType.DATE, FieldType.DATETIME)]
    stamp = (user, at, seq)
    inserts: list[tuple[Any, ...]] = []
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    deletes: list[tuple[Any, ...]] = []
    stages: list[tuple[Any, ...]] = []
    for r in rows:
        if not r.live:
            continue
        rc, new = r.rc, r.new
        if rc.op == "insert":
            values = [new.get(c) for c in stored]
            for i in dated:
                values[i] = to_db(fields[i], values[i])
            inserts.append((rc.id, 1, user, at, user, at, False, seq, *values))
            r.changed = {c: [None, v] for c in codes if (v := new.get(c)) is not None}
            r.result.version = 1
            ctx.audit.append(audit.Entry(user, "insert", entity.code, rc.id, r.changed,
                                         ctx.key, seq))
        elif rc.op == "update":
            cur = r.current
            assert cur is not None
            # only pushed fields can differ from the stored row (see ``_merge``)
            r.changed = {c: [old, v] for c in codes if c in rc.values
                         and (v := new.get(c)) != (old := cur.get(c))}
            r.result.version = cur["version"]
            if not r.changed:
                continue
            cols = tuple(sorted(r.changed))
            updates[cols].append((rc.id, *(to_db(by_code[c], new.get(f"{c}__id", new.get(c)))
                                           for c in cols), cur["version"] + 1, *stamp))
            r.result.version = cur["version"] + 1
            ctx.audit.append(audit.Entry(user, "update", entity.code, rc.id, r.changed,
                                         ctx.key, seq))
        elif r.current is not None:  # delete of a live row
            deletes.append((rc.id, True, r.current["version"] + 1, *stamp))
            r.result.version = r.current["version"] + 1
            ctx.audit.append(audit.Entry(user, "delete", entity.code, rc.id, None, ctx.key, seq))
        if has_stage and "stage" in r.changed and new.get("stage"):
            stages.append((rc.id, new["stage"], at, seq))
    bulk.insert_rows(ctx.conn, t, [*RECORD_COLUMNS, *codes], inserts)
    for cols, recs in updates.items():
        bulk.update_rows(ctx.conn, t, "id", [*cols, "version", *STAMP_COLUMNS], recs)
    bulk.update_rows(ctx.conn, t, "id", ["deleted", "version", *STAMP_COLUMNS], deletes)
    bulk.insert_rows(ctx.conn, ctx.db.table("sys_stage_history"),
                     ["opportunity_id", "stage", "entered_at", "change_seq"], stages)
