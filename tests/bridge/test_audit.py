"""The audit trail over HTTP: who changed what, restore a field, undo a push, verify."""

from __future__ import annotations

from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge


def test_audit_restore_and_undo(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = lb.make_user("amy", "sales", "t1", "east")
    with lb.client(tok) as c:
        cust = insert("customer", name="审计客户", region="east", address="旧地址")
        c.post("/push", json=body(cust))
        b = body(update("customer", cust["id"], 1, {"address": "新地址"}, {"address": "旧地址"}))
        assert c.post("/push", json=b).json()["counts"]["applied"] == 1
        c.get("/pull")
        assert c.get("/audit").status_code == 403
    with lb.client() as admin:
        entries = admin.get("/audit", params={"record_id": cust["id"]}).json()
        assert [e["action"] for e in entries] == ["insert", "update"]
        upd = entries[1]
        assert upd["username"] == "amy" and upd["changes"] == {"address": ["旧地址", "新地址"]}
        assert upd["push_key"] == b["idempotency_key"]
        pulls = admin.get("/audit", params={"action": "pull", "username": "amy"}).json()
        assert pulls and pulls[0]["changes"]["rows"]["customer"] == 1

        restored = admin.post("/audit/restore", json={"audit_id": upd["id"],
                                                      "field": "address"}).json()
        assert restored["counts"]["applied"] == 1
        row = admin.get("/pull").json()["entities"]["customer"]["data"]
        assert row["address"] == ["旧地址"] and row["version"] == [3]
        # undo of push b when the field already holds the old value: nothing to do
        undo = admin.post("/audit/undo", json={"push_key": b["idempotency_key"]}).json()
        assert undo["results"][0]["status"] == "applied"
        assert admin.get("/pull").json()["entities"]["customer"]["data"]["version"] == [3]
    with lb.client(tok) as c:
        c.post("/push", json=body(update("customer", cust["id"], 3, {"address": "第三"},
                                         {"address": "旧地址"})))
    with lb.client() as admin:
        # someone changed the field since push b: undoing b is a conflict, not a silent loss
        undo = admin.post("/audit/undo", json={"push_key": b["idempotency_key"]}).json()
        assert undo["results"][0]["status"] == "conflict"
        assert undo["results"][0]["conflicts"][0] == {"field": "address", "base": "新地址",
                                                      "theirs": "第三", "mine": "旧地址"}
        v = admin.get("/audit/verify").json()
        assert v["ok"] is True and v["entries"] >= 6
