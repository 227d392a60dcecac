"""Subject access (PIPL art. 45, GDPR art. 15): everything stored about one subject.

The export holds the subject's records (a customer subject: also its contacts and the
records that reference it), tombstones included, with every system column; each record's
audit history with its personal values opened (an erased entry says ``erased``); and the
holds on them. It is itself audited (``export``, with counts, never values).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from bridge import audit
from bridge.auth import User, as_utc, now
from bridge.db import Database
from bridge.privacy import hold
from bridge.privacy.subjects import cover, history, parse_subject
from bridge.sync.tail import audit_only
from schema.dictionary import Dictionary
from schema.sql import table_name


def subject_export(db: Database, dictionary: Dictionary, user: User,
                   subject: str) -> dict[str, Any]:
    """The export of ``subject`` as plain JSON values (see the module docstring)."""
    s = parse_subject(subject)
    with db.read() as conn:
        cov = cover(db, dictionary, conn, s)
        ids: dict[str, list[str]] = {}
        for t in cov.targets:
            ids.setdefault(t.entity, []).append(t.record_id)
        for entity, refs in cov.referencing.items():
            ids.setdefault(entity, []).extend(refs)
        records = {e: _rows(db, conn, e, rids) for e, rids in ids.items()}
        trail = [entry for e, rids in ids.items() for rid in rids
                 for entry in history(db, conn, e, rid)]
        holds = hold.active_holds(db, conn, [(e, r) for e, rids in ids.items() for r in rids])
    trail.sort(key=lambda x: x["id"])
    out = {"subject": str(s), "exported_at": now().isoformat(timespec="seconds"),
           "exported_by": user.username, "records": records, "audit": trail, "holds": holds}
    with audit_only(db) as conn:
        audit.append(db, conn, [audit.Entry(user.username, "export", s.entity, s.record_id, {
            "records": sum(len(v) for v in records.values()), "audit_entries": len(trail)})])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return float(value)
    return value


def _rows(db: Database, conn: Connection, entity: str, ids: list[str]) -> list[dict[str, Any]]:
    """Every column of ``ids``' rows (references as the ids stored), in id order."""
    t = db.table(table_name(entity))
    q = select(t).where(db.one_of(t.c.id, ids)).order_by(t.c.id)
    return [{k: _plain(v) for k, v in r._mapping.items()} for r in conn.execute(q)]
