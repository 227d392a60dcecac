"""Legal holds: a record under an active hold is neither erased nor removed by retention.

Adding and releasing a hold are audited (``hold``, ``hold_release``); a released hold stays
in ``sys_legal_hold`` with who released it and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from bridge import audit
from bridge.auth import User, as_utc, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.privacy.records import append_audit, record
from schema.dictionary import Dictionary
from schema.errors import ErrorCode

TABLE = "sys_legal_hold"


def _wire(m: Any) -> dict[str, Any]:
    out = dict(m)
    for k in ("created_at", "released_at"):
        if out.get(k) is not None:
            out[k] = as_utc(out[k]).isoformat(timespec="seconds")
    return out


def add_hold(db: Database, dictionary: Dictionary, conn: Connection, user: User, entity: str,
             record_id: str, reason: str) -> dict[str, Any]:
    """Put one record under a hold (call inside ``db.write()``); the new hold."""
    record(db, dictionary, conn, entity, record_id)
    t = db.table(TABLE)
    hold_id = conn.execute(insert(t).values(
        entity=entity, record_id=record_id, reason=reason, created_by=user.username,
        created_at=now()).returning(t.c.id)).scalar_one()
    append_audit(db, conn, [audit.Entry(user.username, "hold", entity, record_id,
                                        {"hold": hold_id, "reason": reason})])
    return get_hold(db, conn, hold_id)


def get_hold(db: Database, conn: Connection, hold_id: int) -> dict[str, Any]:
    t = db.table(TABLE)
    row = conn.execute(select(t).where(t.c.id == hold_id)).first()
    if row is None:
        raise ApiError(ErrorCode.HOLD_NOT_FOUND, hold=hold_id)
    return _wire(row._mapping)


def release_hold(db: Database, conn: Connection, user: User, hold_id: int) -> dict[str, Any]:
    """Release an active hold (call inside ``db.write()``); the released hold."""
    t = db.table(TABLE)
    held = conn.execute(select(t).where(t.c.id == hold_id, t.c.released_at.is_(None))).first()
    if held is None:
        raise ApiError(ErrorCode.HOLD_NOT_FOUND, hold=hold_id)
    conn.execute(t.update().where(t.c.id == hold_id)
                 .values(released_by=user.username, released_at=now()))
    append_audit(db, conn, [audit.Entry(user.username, "hold_release", held.entity,
                                        held.record_id, {"hold": hold_id})])
    return get_hold(db, conn, hold_id)


def list_holds(db: Database, conn: Connection, released: bool = False) -> list[dict[str, Any]]:
    """Active holds (and released ones when ``released``), oldest first."""
    t = db.table(TABLE)
    q = select(t).order_by(t.c.id)
    if not released:
        q = q.where(t.c.released_at.is_(None))
    return [_wire(r._mapping) for r in conn.execute(q)]


def active_holds(db: Database, conn: Connection,
                 records: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The active holds on any of ``records`` ((entity, id) pairs), oldest first."""
    by_entity: dict[str, list[str]] = {}
    for entity, rid in records:
        by_entity.setdefault(entity, []).append(rid)
    t = db.table(TABLE)
    out = []
    for entity, ids in by_entity.items():
        q = select(t).where(t.c.entity == entity, db.one_of(t.c.record_id, ids),
                            t.c.released_at.is_(None))
        out += [_wire(r._mapping) for r in conn.execute(q)]
    return sorted(out, key=lambda h: h["id"])


def held_error(subject: str, hold: dict[str, Any]) -> ApiError:
    """``ERASE_HELD`` naming the hold, its record, reason, author and day."""
    return ApiError(ErrorCode.ERASE_HELD, subject=subject, kind=hold["entity"],
                    entity=hold["entity"], id=hold["record_id"],
                    record_id=hold["record_id"], hold=hold["id"], reason=hold["reason"],
                    by=hold["created_by"], at=hold["created_at"][:10])
