"""``bridge.bulk`` writes through the driver what SQLAlchemy itself would write: the same
values read back through SQLAlchemy, for every column type, on both backends; updates of
several column sets in one transaction; a rollback leaves nothing behind."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from bridge import bulk
from bridge.db import Database
from schema.sql import RECORD_COLUMNS, table_name

AT = datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=UTC)


def _opportunity(db: Database, n: int) -> list[dict[str, Any]]:
    codes = db.table(table_name("opportunity")).c.keys()
    base = {c: None for c in codes}
    return [{**base, "id": str(uuid.uuid4()), "version": 1, "created_by": "amy",
             "created_at": AT, "updated_by": "amy", "updated_at": AT, "deleted": False,
             "change_seq": 7, "name": f"商机{i}", "stage": "proposal", "amount": 1234.5 + i,
             "expected_close": date(2027, 1, i + 1), "owner": "amy", "shared": bool(i % 2)}
            for i in range(n)]


def _read(db: Database, ids: list[str]) -> list[dict[str, Any]]:
    t = db.table(table_name("opportunity"))
    with db.read() as conn:
        rows = conn.execute(select(t).where(t.c.id.in_(ids)).order_by(t.c.id)).all()
    return [dict(r._mapping) for r in rows]


def test_insert_rows_store_what_sqlalchemy_stores(db: Database) -> None:
    t = db.table(table_name("opportunity"))
    ours, theirs = _opportunity(db, 3), _opportunity(db, 3)
    for a, b in zip(ours, theirs, strict=True):
        b.update({k: v for k, v in a.items() if k != "id"})
    cols = list(t.c.keys())
    assert cols[:len(RECORD_COLUMNS)] == list(RECORD_COLUMNS)
    with db.write() as conn:
        bulk.insert_rows(conn, t, cols, [tuple(r[c] for c in cols) for r in ours])
        conn.execute(insert(t), theirs)
    got, want = _read(db, [r["id"] for r in ours]), _read(db, [r["id"] for r in theirs])
    strip = [{k: v for k, v in r.items() if k != "id"} for r in got]
    assert sorted(strip, key=str) == sorted(({k: v for k, v in r.items() if k != "id"}
                                             for r in want), key=str)
    assert {r["expected_close"] for r in got} == {date(2027, 1, i) for i in (1, 2, 3)}


def test_update_rows_in_several_column_sets_then_rollback(db: Database) -> None:
    t = db.table(table_name("opportunity"))
    rows = _opportunity(db, 4)
    cols = list(t.c.keys())
    with db.write() as conn:
        bulk.insert_rows(conn, t, cols, [tuple(r[c] for c in cols) for r in rows])
    ids = [r["id"] for r in rows]
    later = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with db.write() as conn:
        bulk.update_rows(conn, t, "id", ["stage", "version", "updated_at"],
                         [(ids[0], "won", 2, later), (ids[1], "lost", 2, later)])
        bulk.update_rows(conn, t, "id", ["amount", "expected_close", "version"],
                         [(ids[2], 99.5, date(2028, 2, 29), 2)])
        bulk.update_rows(conn, t, "id", ["deleted", "version"], [(ids[3], True, 2)])
    got = {r["id"]: r for r in _read(db, ids)}
    assert [got[i]["stage"] for i in ids] == ["won", "lost", "proposal", "proposal"]
    assert got[ids[0]]["updated_at"].replace(tzinfo=UTC) == later
    assert float(got[ids[2]]["amount"]) == 99.5
    assert got[ids[2]]["expected_close"] == date(2028, 2, 29)
    assert got[ids[3]]["deleted"] is True and got[ids[1]]["deleted"] is False
    extra = _opportunity(db, 1)[0]
    with pytest.raises(RuntimeError), db.write() as conn:
        bulk.update_rows(conn, t, "id", ["stage"], [(ids[0], "negotiation")])
        bulk.insert_rows(conn, t, cols, [tuple(extra[c] for c in cols)])
        raise RuntimeError("roll back")
    assert _read(db, [ids[0]])[0]["stage"] == "won"
    assert _read(db, [extra["id"]]) == []
