"""References by display name match by the ``schema.names`` key (width, case, brackets,
spaces), through a stored, indexed ``name_key``; a new record whose key equals a visible
record's is applied with a SIMILAR_RECORD warning (issue 16.5); on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from bridge.db import Database, migrate
from schema.names import name_key
from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge

ACME, STAR = "ACME Trading", "星辰科技（上海）有限公司"


def _push(c: object, *rows: dict[str, object]) -> list[dict[str, object]]:
    r = c.post("/push", json=body(*rows))  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def test_references_match_by_name_key(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        acme, star = insert("customer", name=ACME), insert("customer", name=STAR)
        assert [r["status"] for r in _push(c, acme, star)] == ["applied", "applied"]
        typed = ["ＡＣＭＥ Trading", "acme  trading", " Acme-Trading ", "星辰科技(上海)有限公司",
                 "星辰科技【上海】有限公司"]
        contacts = [insert("contact", customer=name, name=f"联系人{i}")
                    for i, name in enumerate(typed)]
        results = _push(c, *contacts)
        assert [r["status"] for r in results] == ["applied"] * 5, results
        # the answer carries the record's own name, as it is stored
        assert [r["server"]["customer"] for r in results] == [ACME] * 3 + [STAR] * 2
        pulled = c.get("/pull", params={"entities": "contact"}).json()["entities"]["contact"]
        by_id = dict(zip(pulled["data"]["id"], pulled["data"]["customer"], strict=True))
        assert [by_id[r["id"]] for r in contacts] == [ACME] * 3 + [STAR] * 2
        # an update by another spelling of the same customer changes nothing
        res = _push(c, update("contact", contacts[0]["id"], 1, {"customer": "acme trading"},
                              {"customer": ACME}))[0]
        assert res["status"] == "applied" and res["version"] == 1


def test_a_key_matching_several_records_is_ambiguous(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        assert [r["status"] for r in _push(c, insert("customer", name="Foo Ltd"),
                                           insert("customer", name="FOO LTD"))] == \
            ["applied", "applied"]
        res = _push(c, insert("contact", customer="foo ltd", name="甲"),
                    insert("contact", customer="Foo Ltd", name="乙"))
        assert [e["code"] for e in res[0]["errors"]] == ["REFERENCE_AMBIGUOUS"]
        assert [e["code"] for e in res[1]["errors"]] == ["REFERENCE_AMBIGUOUS"]


def test_a_key_of_an_unseen_record_is_not_found(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    other, mine = lb.make_user("ma", "sales", "t2", "south"), lb.make_user("niu", "sales",
                                                                         "t1", "east")
    with lb.client(other) as c:
        hidden = insert("customer", name="隐身（北京）公司")
        assert _push(c, hidden)[0]["status"] == "applied"
    with lb.client(mine) as c:
        res = _push(c, insert("contact", customer="隐身(北京)公司", name="甲"))[0]
        assert [e["code"] for e in res["errors"]] == ["REFERENCE_NOT_FOUND"]
        # a new customer with that key: no warning, since the user cannot see it
        new = _push(c, insert("customer", name="隐身【北京】公司"))[0]
        assert new["status"] == "applied" and new["warnings"] == []
        assert hidden["id"] not in str(new)


def test_a_new_record_like_a_visible_one_is_applied_with_a_warning(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        star = insert("customer", name=STAR)
        first = _push(c, star)[0]
        assert first["warnings"] == []
        twin = insert("customer", name="星辰科技(上海)有限公司")
        res = _push(c, twin)[0]
        assert res["status"] == "applied"
        [w] = res["warnings"]
        assert w["code"] == "SIMILAR_RECORD" and w["id"] == twin["id"]
        # the company matcher's decision and score come with it (issue 10)
        assert w["field"] == "name" and w["params"] == {"match_id": star["id"], "value": STAR,
                                                        "decision": "same", "score": 0.6}
        assert STAR in w["message_zh"] and star["id"] in w["message_en"]
        # an update of a record is not "new": no warning
        res = _push(c, update("customer", twin["id"], 1, {"notes": "同一家？"}, {"notes": None}))
        assert res[0]["warnings"] == []
        # both are kept: the user decides
        pulled = c.get("/pull", params={"entities": "customer"}).json()
        assert len(pulled["entities"]["customer"]["data"]["id"]) == 2


def test_every_write_keeps_the_stored_key(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        acme = insert("customer", name=ACME)
        _push(c, acme)
        _push(c, update("customer", acme["id"], 1, {"name": "Ｎｅｗ Name（x）"},
                        {"name": ACME}))
    with lb.db.read() as conn:
        stored = conn.execute(text("SELECT name_key FROM crm_customer WHERE id = :i"),
                              {"i": acme["id"]}).scalar()
    assert stored == name_key("Ｎｅｗ Name（x）") == "newname(x)"


def test_migration_fills_keys_of_existing_records(db: Database) -> None:
    """A database from before 0004: the column is added and filled for every record."""
    ids = [str(uuid.uuid4()) for _ in range(3)]
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_crm_customer_name_key"))
        conn.execute(text("ALTER TABLE crm_customer DROP COLUMN name_key"))
        for i, (rid, name) in enumerate(zip(ids, ["ＡＢＣ 公司", "星辰（上海）", None],
                                            strict=True)):
            conn.execute(text(
                "INSERT INTO crm_customer (id, version, created_by, created_at, updated_by, "
                "updated_at, deleted, change_seq, name) VALUES (:id, 1, 'x', :at, 'x', :at, "
                ":d, 1, :n)"), {"id": rid, "at": now, "d": i == 1, "n": name})
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    migrate(db)
    with db.read() as conn:
        keys = dict(conn.execute(text("SELECT id, name_key FROM crm_customer")).all())
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0005"  # migrated to the head
    assert [keys[i] for i in ids] == ["abc公司", "星辰(上海)", None]
