"""What the privacy modules share: one record's row, the records that reference it, and
audit entries appended under the audit tail lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from bridge import audit
from bridge.db import Database
from bridge.errors import ApiError
from bridge.sync.rows import fetch_by_ids
from bridge.sync.tail import lock_audit_tail
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.sql import table_name
from schema.types import FieldType


def record(db: Database, dictionary: Dictionary, conn: Connection, entity: str,
           record_id: str) -> dict[str, Any]:
    """The canonical row of one record (tombstones too), or ``RECORD_NOT_FOUND``."""
    if entity not in dictionary.entities:
        raise ApiError(ErrorCode.UNKNOWN_ENTITY, name=entity)
    found = fetch_by_ids(conn, db, dictionary, dictionary.entity(entity), [record_id])
    if record_id not in found:
        raise ApiError(ErrorCode.RECORD_NOT_FOUND, kind=entity, record_id=record_id,
                       entity=entity)
    return found[record_id]


def referencing(db: Database, dictionary: Dictionary, conn: Connection, entity: str,
                ids: list[str], live_only: bool = False) -> dict[str, list[str]]:
    """Entity -> ids of its records whose reference fields point at one of ``ids``."""
    out: dict[str, list[str]] = {}
    if not ids:
        return out
    for e in dictionary:
        refs = [f.code for f in e.fields if f.type is FieldType.REFERENCE and f.ref == entity]
        if not refs or e.code == entity:
            continue
        t = db.table(table_name(e.code))
        found: set[str] = set()
        for code in refs:
            q = select(t.c.id).where(db.one_of(t.c[code], ids))
            if live_only:
                q = q.where(t.c.deleted.is_(False))
            found |= set(conn.execute(q).scalars())
        if found:
            out[e.code] = sorted(found)
    return out


def append_audit(db: Database, conn: Connection, entries: list[audit.Entry]) -> None:
    """Append ``entries`` inside ``db.write()``, queued with pulls on the tail lock."""
    lock_audit_tail(db, conn)
    audit.append(db, conn, entries)
