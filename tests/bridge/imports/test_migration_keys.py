"""Migration 0005 fills the match keys of customers stored before it (both backends)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from bridge.db import Database, migrate
from bridge.matching.keys import match_keys
from tests.bridge.helpers import VALID_USCC


def test_migration_fills_the_match_keys_of_existing_customers(db: Database) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for i, (rid, name) in enumerate(zip(ids, ["恒通科技（北京）有限公司", "星辰贸易公司",
                                                  "已删除公司"], strict=True)):
            conn.execute(text(
                "INSERT INTO crm_customer (id, version, created_by, created_at, updated_by, "
                "updated_at, deleted, change_seq, name, uscc) VALUES (:id, 1, 'x', :at, 'x', "
                ":at, :d, 1, :n, :u)"), {"id": rid, "at": now, "d": i == 2, "n": name,
                                         "u": VALID_USCC[0] if i == 0 else None})
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    migrate(db)
    with db.read() as conn:
        rows = conn.execute(text("SELECT record_id, key FROM sys_match_key")).all()
    keys: dict[str, set[str]] = {}
    for rid, key in rows:
        keys.setdefault(rid, set()).add(key)
    assert keys[ids[0]] == set(match_keys("customer", {"name": "恒通科技（北京）有限公司",
                                                       "uscc": VALID_USCC[0]}))
    assert f"u:{VALID_USCC[0]}" in keys[ids[0]] and "n:星辰" in keys[ids[1]]
    assert ids[2] not in keys  # a deleted record has none
    migrate(db)  # at the head already: nothing more
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM sys_match_key")).scalar() == len(rows)
