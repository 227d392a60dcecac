"""Stored match profiles (``bridge.matching.profiles``): written beside the match keys,
read back equal to a fresh parse, filled by migration 0007, and a candidate without a
usable stored profile is parsed as before (both backends)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bridge.auth import User
from bridge.db import Database, migrate
from bridge.matching import profiles
from bridge.matching.keys import cached_profile, company_record, replace_keys
from bridge.matching.match import fetch_visible
from schema.dictionary import build_dictionary
from schema.matching import CompanyRecord, profile
from tests.bridge.helpers import VALID_USCC
from tests.schema.labelled_companies import labelled_companies

ADMIN = User("admin", "Administrator", "admin", None, None)
NAMES = ["恒通科技（北京）有限公司", "星辰贸易公司上海分公司", "已删除公司",
         "月光物流有限公司销售部"]


def test_a_profile_reads_back_equal_to_its_parse() -> None:
    for r in labelled_companies(200):  # branches, departments, typos, messy phones, USCCs
        p = profile(r.record)
        assert profiles.decode(profiles.encode(p)) == p
    p = profile(CompanyRecord("恒通科技有限公司", phone="010-1234 5678 / 13800138000"))
    stale = profiles.encode(p).replace(f"[{profiles.VERSION},", f"[{profiles.VERSION + 1},")
    assert [profiles.decode(t) for t in (stale, "", None, "[1,2]", "{", "[]")] == [None] * 6


def _store(db: Database, rows: list[dict[str, object]]) -> list[str]:
    """Customers written straight into the table (no keys, no profiles); their ids."""
    ids = [str(uuid.uuid4()) for _ in rows]
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        for rid, v in zip(ids, rows, strict=True):
            conn.execute(text(
                "INSERT INTO crm_customer (id, version, created_by, created_at, updated_by, "
                "updated_at, deleted, change_seq, owner, name, uscc, phone) VALUES (:id, 1, "
                "'x', :at, 'x', :at, :d, 1, 'admin', :n, :u, :p)"),
                {"id": rid, "at": now, "d": v["name"] == "已删除公司", "n": v["name"],
                 "u": v.get("uscc"), "p": v.get("phone")})
    return ids


def _stored(db: Database) -> dict[str, str]:
    with db.read() as conn:
        return dict(conn.execute(text(
            "SELECT record_id, profile FROM sys_match_profile WHERE entity = 'customer'")).all())


ROWS: list[dict[str, object]] = [
    {"name": NAMES[0], "uscc": VALID_USCC[0], "phone": "+861012345678"},
    {"name": NAMES[1]}, {"name": NAMES[2]}, {"name": NAMES[3], "phone": "+862155551234"}]


def test_migration_0007_fills_the_profiles_of_existing_customers(db: Database) -> None:
    ids = _store(db, ROWS)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM sys_match_profile"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    migrate(db)
    stored = _stored(db)
    assert set(stored) == {ids[0], ids[1], ids[3]}  # a deleted record has none
    for rid, v in zip(ids, ROWS, strict=True):
        if rid in stored:
            assert profiles.decode(stored[rid]) == profile(company_record("customer", {
                k: str(x) for k, x in v.items()}))
    migrate(db)  # at the head already: nothing more
    assert _stored(db) == stored


def test_a_candidates_profile_is_read_not_parsed(db: Database) -> None:
    dictionary = build_dictionary()
    [rid] = _store(db, ROWS[:1])
    other = profile(CompanyRecord("别的贸易公司"))
    with db.write() as conn:
        replace_keys(db, conn, "customer", {rid: ROWS[0]})
        conn.execute(text("UPDATE sys_match_profile SET profile = :p"),
                     {"p": profiles.encode(other)})
    with db.read() as conn:
        found = fetch_visible(conn, db, dictionary, ADMIN, dictionary.entity("customer"),
                              {rid}, only_matched=True)
    assert found[rid].profile == other


@pytest.mark.parametrize("damaged", [False, True])
def test_candidates_read_the_stored_profile_or_are_parsed(db: Database, damaged: bool) -> None:
    dictionary = build_dictionary()
    entity = dictionary.entity("customer")
    ids = _store(db, ROWS)
    with db.write() as conn:
        replace_keys(db, conn, "customer", {rid: v for rid, v in zip(ids, ROWS, strict=True)})
        if damaged:
            conn.execute(text("UPDATE sys_match_profile SET profile = '[0]'"))
    assert len(_stored(db)) == 4  # the push engine writes one per written record
    with db.read() as conn:
        found = fetch_visible(conn, db, dictionary, ADMIN, entity, set(ids), only_matched=True)
    assert set(found) == {ids[0], ids[1], ids[3]}  # never a deleted record
    for rid, v in zip(ids, ROWS, strict=True):
        if rid in found:
            assert found[rid].profile == cached_profile(company_record("customer", v))
            assert found[rid].values["name"] == v["name"]
    with db.write() as conn:  # a change rewrites the profile, a delete removes it
        replace_keys(db, conn, "customer", {ids[0]: {"name": "月光物流有限公司"},
                                            ids[1]: None})
    stored = _stored(db)
    assert ids[1] not in stored
    assert profiles.decode(stored[ids[0]]) == profile(CompanyRecord("月光物流有限公司"))
