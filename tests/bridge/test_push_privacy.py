"""A push never confirms a record the pusher cannot see, and an all-or-nothing push that was
refused keeps its answer under its idempotency key (issues 16.6, 17.3, 17.6), on both
backends through a real bridge."""

from __future__ import annotations

import uuid

from bridge import audit
from tests.bridge.helpers import VALID_USCC, body, insert, update
from tests.conftest import LiveBridge


def test_refused_all_or_nothing_push_keeps_its_answer(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        b = body(insert("customer", name="全有甲", region="east"),
                 insert("customer", name="全有乙", region="east", uscc="123"),
                 all_or_none=True)
        first = c.post("/push", json=b)
        assert first.status_code == 200, first.text
        answer = first.json()
        assert answer["counts"]["applied"] == 0 and answer["counts"]["rejected"] == 2
        assert answer["results"][0]["errors"][0]["code"] == "BATCH_ABORTED"
        # the same body again: the stored answer, replayed
        again = c.post("/push", json=b)
        assert again.status_code == 200
        assert again.json()["replayed"] is True
        assert again.json()["results"] == answer["results"]
        # the same key with a fixed body: refused, nothing written
        b["rows"][1]["values"]["uscc"] = VALID_USCC[1]
        reused = c.post("/push", json=b)
        assert reused.status_code == 422, reused.text
        assert reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert c.get("/pull").json()["entities"]["customer"]["data"]["id"] == []


def test_insert_with_an_id_held_out_of_sight_reveals_nothing(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    # managers: a region each (a manager may also set a region outside their own)
    mine, theirs = lb.make_user("wang", "manager", "t1", "east"), lb.make_user(
        "zhao", "manager", "t2", "south")
    with lb.client(theirs) as c:
        hidden = insert("customer", name="赵家公司", region="south")
        assert c.post("/push", json=body(hidden)).json()["counts"]["applied"] == 1
    with lb.client(mine) as c:
        own = insert("customer", name="王家公司", region="east")
        assert c.post("/push", json=body(own)).json()["counts"]["applied"] == 1
        clash = insert("customer", name="另一家公司", region="east")
        clash["id"] = hidden["id"]
        res = c.post("/push", json=body(clash)).json()["results"][0]
        assert res["status"] == "rejected"
        codes = [e["code"] for e in res["errors"]]
        assert codes == ["ROW_OUT_OF_SCOPE"]
        assert "赵家" not in str(res)
        # what any refusal that names nothing says: the same words
        other = insert("customer", name="第三家公司", region="south")  # outside the scope
        refused = c.post("/push", json=body(other)).json()["results"][0]["errors"]
        assert [(e["code"], e["message_en"]) for e in refused] == \
            [(e["code"], e["message_en"]) for e in res["errors"]]
        # an id the pusher can see still says the record exists
        again = insert("customer", name="王家公司二", region="east")
        again["id"] = own["id"]
        seen = c.post("/push", json=body(again)).json()["results"][0]["errors"]
        assert [e["code"] for e in seen] == ["ROW_EXISTS"]


def test_unique_clash_with_an_unseen_record_reveals_nothing(live_bridge_any: LiveBridge
                                                            ) -> None:
    lb = live_bridge_any
    mine, theirs = lb.make_user("qian", "sales", "t1", "east"), lb.make_user("sun", "sales",
                                                                            "t2", "south")
    with lb.client(theirs) as c:
        hidden = insert("customer", name="孙氏集团", region="south", uscc=VALID_USCC[2])
        assert c.post("/push", json=body(hidden)).json()["counts"]["applied"] == 1
    with lb.client(mine) as c:
        own = insert("customer", name="钱氏集团", region="east", uscc=VALID_USCC[3])
        assert c.post("/push", json=body(own)).json()["counts"]["applied"] == 1
        # a name is not an identity (dictionary 1.1.0): the unseen record's name is no clash
        res = c.post("/push", json=body(insert("customer", region="east", name="孙氏集团"))
                     ).json()["results"][0]
        assert res["status"] == "applied" and res["warnings"] == [], res
        res = c.post("/push", json=body(insert("customer", region="east", name="钱氏新公司",
                                               uscc=VALID_USCC[2]))).json()["results"][0]
        assert res["status"] == "rejected"
        assert [e["code"] for e in res["errors"]] == ["ROW_OUT_OF_SCOPE"], res
        assert all(e["field"] is None for e in res["errors"])
        # an update to the unseen record's USCC is refused the same way
        res = c.post("/push", json=body(update("customer", own["id"], 1,
                                               {"uscc": VALID_USCC[2]},
                                               {"uscc": VALID_USCC[3]}))).json()["results"][0]
        assert [e["code"] for e in res["errors"]] == ["ROW_OUT_OF_SCOPE"]
        # a clash with a record the pusher can see is still named
        res = c.post("/push", json=body(insert("customer", name="钱氏集团二", region="east",
                                               uscc=VALID_USCC[3]))).json()["results"][0]
        assert [e["code"] for e in res["errors"]] == ["DUPLICATE_VALUE"]
    # the admin sees each hidden clash in the audit trail
    with lb.db.read() as conn:
        refused = audit.query(lb.db, conn, action="refused")
    assert [(e["username"], e["changes"]["field"], e["changes"]["held_by"]) for e in refused] \
        == [("qian", "uscc", hidden["id"]), ("qian", "uscc", hidden["id"])]
    with lb.client() as c:
        shown = c.get("/audit", params={"action": "refused"})
        assert shown.status_code == 200, shown.text
        assert len(shown.json()) == 2, shown.json()


def test_refusals_of_an_aborted_push_still_reach_the_audit(live_bridge_any: LiveBridge
                                                           ) -> None:
    lb = live_bridge_any
    mine, theirs = lb.make_user("zhou", "sales", "t1", "east"), lb.make_user("wu", "sales",
                                                                            "t2", "south")
    with lb.client(theirs) as c:
        assert c.post("/push", json=body(insert("customer", name="吴记", region="south",
                                                uscc=VALID_USCC[4]))
                      ).json()["counts"]["applied"] == 1
    with lb.client(mine) as c:
        res = c.post("/push", json=body(insert("customer", name="吴记分号", region="east",
                                               uscc=VALID_USCC[4]),
                                        insert("customer", name=f"周记{uuid.uuid4().hex[:4]}",
                                               region="east"), all_or_none=True)).json()
        assert res["counts"]["applied"] == 0
    with lb.db.read() as conn:
        assert len(audit.query(lb.db, conn, action="refused")) == 1
