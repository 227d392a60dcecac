"""Pull: the rows and columns a user may see, full or since a change cursor, columnar.

The cursor is the change number of the last push committed before the pull's snapshot;
an incremental pull returns rows changed after it: visible ones as rows, deleted ones
and ones that left the caller's scope as removals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, literal

from bridge import audit, gcpause
from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.permissions import scope_filter
from bridge.sync.rows import columns_out, fetch_columns, select_rows
from bridge.sync.tail import audit_only
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.permissions import row_scope, visible_fields
from schema.types import Entity, Scope
from schema.wire import PullResponse


def pull(db: Database, dictionary: Dictionary, user: User, since: int | None = None,
         entities: list[str] | None = None) -> dict[str, Any]:
    """A ``PullResponse``-shaped dict (plain values, ready for orjson); the pull is
    recorded in the audit trail (who, since when, how many rows of which entities)."""
    wanted = entities or list(dictionary.entities)
    for code in wanted:
        if code not in dictionary.entities:
            raise ApiError(ErrorCode.UNKNOWN_ENTITY, name=code)
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}  # rows sent, per entity that had any change to look at
    with gcpause.paused(), db.read() as conn:
        cursor = db.current_seq(conn)
        if since is not None and not 0 <= since <= cursor:
            raise ApiError(ErrorCode.CURSOR_INVALID, value=since)
        for entity in dictionary:
            if entity.code in wanted and row_scope(user.role, entity) is not Scope.NONE:
                out[entity.code], looked = _entity_pull(conn, db, dictionary, user, entity,
                                                        since, cursor)
                if looked:
                    counts[entity.code] = len(out[entity.code]["data"]["id"])
    _record(db, user, since, cursor, counts)
    answer = {"cursor": cursor, "full": since is None, "entities": out}
    assert answer.keys() == PullResponse.model_fields.keys()
    return answer


def _entity_pull(conn: Connection, db: Database, dictionary: Dictionary, user: User,
                 entity: Entity, since: int | None, cursor: int) -> tuple[dict[str, Any], bool]:
    """One entity's ``EntityPull``: visible rows (changed after ``since``), and the ids of
    changed rows that are deleted or left the user's scope; and whether any row was read."""
    fields = visible_fields(user.role, entity)
    q, t = select_rows(db, dictionary, entity, fields)
    visible = and_(t.c.deleted.is_(False), scope_filter(user, entity, t))
    if since is None:
        q = q.where(visible).add_columns(literal(True).label("_visible"))
    else:
        q = q.where(t.c.change_seq > since, t.c.change_seq <= cursor) \
            .add_columns(visible.label("_visible"))
    names, columns = fetch_columns(conn, q.order_by(t.c.change_seq, t.c.id))
    keep = ["id", "version", *(f.code for f in fields)]
    if not columns[0]:
        return {"columns": keep, "data": {c: [] for c in keep}, "removed": []}, False
    cols = dict(zip(names, columns, strict=True))
    shown = [bool(v) for v in cols["_visible"]]
    removed = [i for i, s in zip(cols["id"], shown, strict=True) if not s]
    if removed:
        cols = {k: [v for v, s in zip(vals, shown, strict=True) if s]
                for k, vals in cols.items()}
    data = dict(zip(keep, columns_out(entity, keep, [cols[k] for k in keep]), strict=True))
    return {"columns": keep, "data": data, "removed": removed}, True


def _record(db: Database, user: User, since: int | None, cursor: int,
            counts: dict[str, int]) -> None:
    """The pull's audit entry, written without taking the change counter pushes hold."""
    with audit_only(db) as conn:
        audit.append(db, conn, [audit.Entry(user.username, "pull", changes={
            "since": since, "cursor": cursor, "rows": counts})])
