"""Push and pull over HTTP against a real bridge, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.bridge.helpers import VALID_USCC, body, delete, insert, update
from tests.conftest import LiveBridge


def test_insert_update_merge_conflict_delete(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = lb.make_user("zhang", "sales", "t1", "east")
    with lb.client(tok) as c:
        cust = insert("customer", name="上海甲科技有限公司", uscc=VALID_USCC[0], region="华东",
                      phone="021-62345678转8001", industry="IT")
        contact = insert("contact", customer="上海甲科技有限公司", name="王经理",
                         mobile="13812345678", email="wang@JIA.com")
        r = c.post("/push", json=body(cust, contact))
        assert r.status_code == 200, r.text
        res = r.json()
        assert res["counts"] == {"applied": 2, "merged": 0, "conflict": 0, "rejected": 0}
        p = c.get("/pull").json()
        cu = p["entities"]["customer"]["data"]
        assert cu["name"] == ["上海甲科技有限公司"] and cu["industry"] == ["it"]
        assert cu["phone"] == ["021 6234 5678 转8001"] and cu["owner"] == ["zhang"]
        assert p["entities"]["contact"]["data"]["customer"] == ["上海甲科技有限公司"]
        cid = cust["id"]
        # two edits from version 1: different fields merge, the same field conflicts
        a = c.post("/push", json=body(update("customer", cid, 1, {"address": "浦东"},
                                             {"address": None}))).json()
        assert a["results"][0]["status"] == "applied" and a["results"][0]["version"] == 2
        b = c.post("/push", json=body(update("customer", cid, 1, {"website": "jia.com"},
                                             {"website": None}))).json()
        assert b["results"][0]["status"] == "merged" and b["results"][0]["version"] == 3
        x = c.post("/push", json=body(update("customer", cid, 1, {"address": "徐汇"},
                                             {"address": None}))).json()["results"][0]
        assert x["status"] == "conflict"
        assert x["conflicts"] == [{"field": "address", "base": None, "theirs": "浦东",
                                   "mine": "徐汇"}]
        assert x["server"]["version"] == 3
        # deleting a customer that still has contacts is refused; child first works
        d = c.post("/push", json=body(delete("customer", cid, 3))).json()["results"][0]
        assert d["status"] == "rejected" and d["errors"][0]["code"] == "ROW_REFERENCED"
        d2 = c.post("/push", json=body(delete("customer", cid, 3),
                                       delete("contact", contact["id"], 1))).json()
        assert d2["counts"]["applied"] == 2, d2
        inc = c.get("/pull", params={"since": res["cursor"]}).json()
        assert cid in inc["entities"]["customer"]["removed"]


def test_rejections_name_row_and_field(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = lb.make_user("li", "sales", "t1", "east")
    with lb.client(tok) as c:
        good = insert("customer", name="甲", region="east")
        bad = insert("customer", name="乙", region="火星", uscc="123", owner="someone")
        bad["row"] = 7
        res = c.post("/push", json=body(good, bad)).json()
        assert res["counts"]["applied"] == 1 and res["counts"]["rejected"] == 1
        errs = {e["code"]: e for e in res["results"][1]["errors"]}
        assert set(errs) == {"FIELD_READ_ONLY"}
        bad.pop("values")["owner"]
        bad["values"] = {"name": "乙", "region": "火星", "uscc": "123"}
        res = c.post("/push", json=body(bad)).json()
        errs = {e["field"]: e for e in res["results"][0]["errors"]}
        assert errs["region"]["code"] == "INVALID_ENUM" and errs["region"]["row"] == 7
        assert "east" in errs["region"]["allowed"] and "华东" in errs["region"]["message_zh"]
        assert errs["uscc"]["code"] == "INVALID_USCC"


def test_idempotent_replay_and_key_reuse(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        b = body(insert("customer", name="丙", region="east"))
        first = c.post("/push", json=b).json()
        again = c.post("/push", json=b).json()
        assert again["replayed"] is True and again["results"] == first["results"]
        assert len(c.get("/pull").json()["entities"]["customer"]["data"]["id"]) == 1
        b["rows"][0]["values"]["name"] = "丁"
        r = c.post("/push", json=b)
        assert r.status_code == 422 and r.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_scopes_on_pull(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    a = lb.make_user("a", "sales", "t1", "east")
    b = lb.make_user("b", "sales", "t2", "east")
    m = lb.make_user("m", "manager", "t1", "east")
    f = lb.make_user("f", "finance", None, None)
    with lb.client(a) as ca, lb.client(b) as cb:
        ca.post("/push", json=body(insert("customer", name="A的客户", region="east",
                                          decision_chain="CEO")))
        cb.post("/push", json=body(insert("customer", name="B的客户", region="east")))
        assert cb.get("/pull").json()["entities"]["customer"]["data"]["name"] == ["B的客户"]
    with lb.client(m) as cm:
        assert sorted(cm.get("/pull").json()["entities"]["customer"]["data"]["name"]) == \
            ["A的客户", "B的客户"]
    with lb.client(f) as cf:
        ent = cf.get("/pull").json()["entities"]["customer"]
        assert "decision_chain" not in ent["columns"] and len(ent["data"]["id"]) == 2
        r = cf.post("/push", json=body(insert("customer", name="X", region="east"))).json()
        assert r["results"][0]["errors"][0]["code"] == "ROW_OUT_OF_SCOPE"
