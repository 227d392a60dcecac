"""Pull: the rows and columns a user may see, full or since a change cursor, columnar.

The cursor is the change number of the last push committed before the pull's snapshot;
an incremental pull returns rows changed after it: visible ones as rows, deleted ones
and ones that left the caller's scope as removals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, literal

from bridge import audit, export, gcpause
from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.permissions import scope_filter
from bridge.settings import Settings
from bridge.sync.rows import columns_out, fetch_columns, select_rows
from bridge.sync.tail import audit_only
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.permissions import row_scope, visible_fields
from schema.types import Entity, Scope
from schema.wire import PullResponse


def pull(db: Database, dictionary: Dictionary, user: User, since: int | None = None,
         entities: list[str] | None = None, settings: Settings | None = None
         ) -> dict[str, Any]:
    """A ``PullResponse``-shaped dict (plain values, ready for orjson); the pull is
    recorded in the audit trail and the pull log (who, since when, how many rows of which
    entities), and refused over a cap of the user's role (``bridge.export``; no caps
    without ``settings``)."""
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
    caps = export.Caps.of(settings, user.role)
    rec = export.PullRecord(user, now(), since is None, since, cursor, counts,
                            caps.counted(counts))
    _record(db, rec, caps)
    answer = {"cursor": cursor, "full": since is None, "entities": out, "pull_id": rec.id,
              "pulled_by": user.username, "pulled_at": rec.at.isoformat()}
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


def _record(db: Database, rec: export.PullRecord, caps: export.Caps) -> None:
    """The pull's audit entry and log row, written without taking the change counter
    pushes hold (under the audit tail: one user's pulls check the day cap in turn); raises
    the refusal when the pull is over a cap (the refusal is logged and audited)."""
    with audit_only(db) as conn:
        refused = export.refusal(db, conn, rec, caps)
        if refused is not None:
            rec.refused = refused.code
        else:
            rec.flagged = export.unusual(db, conn, rec, caps)
        export.store(db, conn, rec)
        audit.append(db, conn, [audit.Entry(rec.user.username, "pull",
                                            changes=rec.audit_changes())])
    if refused is not None:
        raise refused
