"""Copies of a subject's values outside its records and its sealed audit entries.

Stored push answers (``sys_idempotency``: a server copy or an error may quote a value) and
staged import rows (``sys_import_row``) are searched for the values themselves, as stored
text and as JSON escapes them; a row holding one is deleted. A customer's match keys and
parsed profile (``sys_match_key``, ``sys_match_profile``) are deleted by record. Audit
entries cannot change without breaking the chain: :func:`clear_entries` counts the ones that
still hold a value in clear (values of fields the dictionary does not seal).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, or_, select, tuple_

from bridge.db import Database
from bridge.privacy.subjects import Coverage

COPIES: dict[str, tuple[str, ...]] = {
    "sys_idempotency": ("response",),
    "sys_import_row": ("values", "history", "decision"),
}
BY_RECORD = ("sys_match_key", "sys_match_profile")


def forms(values: set[str]) -> list[str]:
    """Each value as stored text may hold it: as is, and as JSON with ASCII escapes."""
    out: set[str] = set()
    for v in values:
        out |= {v, json.dumps(v)[1:-1]}
    return sorted(out)


def _mentions(columns: list[Any], values: list[str]) -> ColumnElement[bool]:
    return or_(*(c.contains(v, autoescape=True) for c in columns for v in values))


def _copy_keys(db: Database, conn: Connection, table: str,
               values: list[str]) -> list[tuple[Any, ...]]:
    t = db.table(table)
    pk = list(t.primary_key.columns)
    where = _mentions([t.c[c] for c in COPIES[table]], values)
    return [tuple(r) for r in conn.execute(select(*pk).where(where))]


def _by_record(db: Database, cov: Coverage, table: str) -> ColumnElement[bool]:
    t = db.table(table)
    return or_(*(
        (t.c.entity == x.entity) & (t.c.record_id == x.record_id) for x in cov.targets))


def count(db: Database, conn: Connection, cov: Coverage) -> dict[str, int]:
    """Rows per table that an erasure of ``cov`` deletes."""
    values = forms(cov.values)
    out = {table: len(_copy_keys(db, conn, table, values)) if values else 0
           for table in COPIES}
    for table in BY_RECORD:
        t = db.table(table)
        out[table] = int(conn.execute(select(func.count()).select_from(t)
                                      .where(_by_record(db, cov, table))).scalar_one())
    return out


def clear(db: Database, conn: Connection, cov: Coverage) -> dict[str, int]:
    """Delete the copies :func:`count` counts (inside ``db.write()``); rows per table."""
    values = forms(cov.values)
    out: dict[str, int] = {}
    for table in COPIES:
        keys = _copy_keys(db, conn, table, values) if values else []
        t = db.table(table)
        pk = list(t.primary_key.columns)
        for start in range(0, len(keys), 500):
            conn.execute(delete(t).where(tuple_(*pk).in_(keys[start:start + 500])))
        out[table] = len(keys)
    for table in BY_RECORD:
        out[table] = conn.execute(delete(db.table(table))
                                  .where(_by_record(db, cov, table))).rowcount
    return out


def clear_entries(db: Database, conn: Connection, cov: Coverage) -> int:
    """Audit entries whose stored text holds one of the values in clear (not sealed): the
    trail keeps them, since changing one would break the chain."""
    values = forms(cov.values)
    if not values:
        return 0
    t = db.table("sys_audit")
    return int(conn.execute(select(func.count()).select_from(t)
                            .where(_mentions([t.c.changes], values))).scalar_one())
