"""Report routes and tag rules over HTTP, on SQLite and PostgreSQL: data arrives through
pushes (so stage history and dates go through the real engine)."""

from __future__ import annotations

from tests.bridge.helpers import body, insert
from tests.conftest import LiveBridge


def _seed(lb: LiveBridge) -> str:
    tok = lb.make_user("alice", "sales", "t1", "east")
    rows = [insert("customer", name="甲公司", region="east"),
            insert("customer", name="乙公司", region="east"),
            # signed at 23:30 Beijing time on 03-31: that local day, whatever UTC says
            insert("order", order_no="HT-1", customer="甲公司",
                   signed_on="2026-03-31T23:30:00+08:00", amount=60000, status="signed"),
            insert("order", order_no="HT-2", customer="乙公司", signed_on="2026-03-01",
                   amount=1000, status="fulfilled"),
            insert("opportunity", name="商机一", customer="甲公司", stage="proposal", amount=5000,
                   next_followup_date="2026-03-01")]
    with lb.client(tok) as c:
        r = c.post("/push", json=body(*rows)).json()
        assert r["counts"]["applied"] == 5, r
    with lb.client() as c:  # someone else's customer alice must not see
        r = c.post("/push", json=body(insert("customer", name="丙公司"),
                                      insert("order", order_no="HT-3", customer="丙公司",
                                             signed_on="2026-03-30", amount=7,
                                             status="signed"))).json()
        assert r["counts"]["applied"] == 2, r
    return tok


def test_reports_routes_scoped(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = _seed(lb)
    with lb.client(tok) as c:
        r = c.get("/reports/rfm", params={"as_of": "2026-03-31", "window_days": 31})
        assert r.status_code == 200, r.text
        rep = r.json()
        assert rep["filters"]["window_days"] == 31 and rep["as_of"] == "2026-03-31"
        keys = [col["key"] for col in rep["tables"]["customers"]["columns"]]
        rows = {row[1]: dict(zip(keys, row, strict=True))
                for row in rep["tables"]["customers"]["rows"]}
        assert set(rows) == {"甲公司", "乙公司"}
        rfm_of = {k: [v["recency_days"], v["frequency"], v["monetary"]] for k, v in rows.items()}
        assert rfm_of["甲公司"] == [0, 1, 60000.0]  # R 0 days: signed on the as-of day
        assert rfm_of["乙公司"] == [30, 1, 1000.0]
        assert (rows["甲公司"]["region_zh"], rows["甲公司"]["region_en"]) == ("华东", "East China")
        f = c.get("/reports/funnel", params={"as_of": "2099-01-01", "owner": "alice"}).json()
        assert f["summary"]["opportunities"] == 1 and f["filters"]["owner"] == "alice"
        stage = {row[0]: row for row in f["tables"]["by_stage"]["rows"]}
        assert stage["proposal"][3] == 1 and stage["proposal"][6] == 1
        k = c.get("/reports/kpis", params={"as_of": "2026-03-31", "period_from": "2026-03-01",
                                           "period_to": "2026-03-31"}).json()
        assert k["summary"]["orders"] == 2 and k["summary"]["overdue_followups"] == 1
        assert k["tables"]["orders_by_month"]["rows"] == [["2026-03", 2, 61000.0, 30500.0]]
        bad = c.get("/reports/kpis", params={"period_from": "2026-04-01",
                                             "period_to": "2026-03-01"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "REPORT_PARAM_INVALID"
        bad = c.get("/reports/rfm", params={"as_of": "31/03/2026"}).json()
        assert bad["error"]["code"] == "REPORT_PARAM_INVALID" and "as_of" in bad["error"][
            "message_en"]
        assert c.post("/reports/rules", json={"name": "x", "condition": [], "target": "segment",
                                              "value": "x"}).json()["error"]["code"] == "ADMIN_ONLY"
    with lb.client() as c:  # the admin sees all three customers
        rep = c.get("/reports/rfm", params={"as_of": "2026-03-31", "window_days": 31}).json()
        assert rep["summary"]["customers"] == 3 and rep["summary"]["buyers"] == 3


def test_tag_rules_validate_and_apply_through_push(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    _seed(lb)
    with lb.client() as c:
        r = c.post("/reports/rules", json={
            "name": "bad", "target": "value_tier", "value": "a",
            "condition": [{"metric": "monetory", "op": ">", "value": 1},
                          {"metric": "frequency", "op": "=>", "value": "lots"}]})
        assert r.status_code == 422
        err = r.json()
        assert err["error"]["code"] == "REPORT_RULE_INVALID"
        codes = [e["code"] for e in err["errors"]]
        assert codes == ["REPORT_RULE_UNKNOWN_METRIC", "REPORT_RULE_BAD_OPERATOR",
                         "REPORT_RULE_BAD_NUMBER"]
        assert "monetory" in err["errors"][0]["message_en"]
        assert "未知指标" in err["errors"][0]["message_zh"]
        assert err["errors"][1]["field"] == "condition[2].op"
        r = c.post("/reports/rules", json={"name": "t", "target": "value_tier", "value": "Z",
                                           "condition": [{"metric": "monetary", "op": ">",
                                                          "value": 1}]})
        assert r.json()["errors"][0]["code"] == "REPORT_RULE_BAD_VALUE"
        r = c.post("/reports/rules", json={"name": "t", "target": "colour", "value": "a",
                                           "condition": [{"metric": "monetary", "op": ">",
                                                          "value": 1}]})
        assert r.json()["errors"][0]["code"] == "REPORT_RULE_BAD_TARGET"
        hi = c.post("/reports/rules", json={
            "name": "高价值客户", "label_en": "High value", "target": "value_tier",
            "value": "A类(重点)", "priority": 10,
            "condition": [{"metric": "recency_days", "op": "<=", "value": 30},
                          {"metric": "monetary", "op": ">", "value": "50000"}]})
        assert hi.status_code == 201, hi.text
        assert hi.json()["value"] == "a" and hi.json()["condition"][1]["value"] == 50000
        lo = c.post("/reports/rules", json={
            "name": "普通", "target": "value_tier", "value": "b", "priority": 1,
            "condition": [{"metric": "frequency", "op": ">=", "value": 1}]}).json()
        c.post("/reports/rules", json={
            "name": "沉睡", "target": "segment", "value": "sleeping",
            "condition": [{"metric": "frequency", "op": "==", "value": 0}]})
        dup = c.post("/reports/rules", json={"name": "普通", "target": "segment", "value": "x",
                                             "condition": [{"metric": "frequency", "op": ">=",
                                                            "value": 1}]})
        assert dup.status_code == 409
        assert len(c.get("/reports/rules").json()) == 3
        upd = c.put(f"/reports/rules/{lo['id']}", json={**{k: lo[k] for k in (
            "name", "target", "value", "condition")}, "priority": 2})
        assert upd.json()["priority"] == 2
        assert c.delete("/reports/rules/99999").status_code == 404
        rep = c.get("/reports/rfm", params={"as_of": "2026-03-31", "window_days": 31}).json()
        seg = {r[0]: r[3] for r in rep["tables"]["rule_segments"]["rows"]}
        assert seg == {None: 3}  # everybody bought: no "sleeping" customer
        res = c.post("/reports/rules/apply", json={"as_of": "2026-03-31",
                                                  "window_days": 31})
        assert res.status_code == 200, res.text
        out = res.json()
        assert out["customers_changed"] == 3 and out["push"]["applied"] == 3
        assert out["by_target"] == {"value_tier": {"a": 1, "b": 2}}
        pulled = c.get("/pull", params={"entities": "customer"}).json()
        data = pulled["entities"]["customer"]["data"]
        tiers = dict(zip(data["name"], data["value_tier"], strict=True))
        assert tiers == {"甲公司": "a", "乙公司": "b", "丙公司": "b"}
        audit = c.get("/audit", params={"entity": "customer", "action": "update"}).json()
        assert len(audit) == 3 and all(a["changes"]["value_tier"][0] is None for a in audit)
        # applying again changes nothing
        assert c.post("/reports/rules/apply", json={"as_of": "2026-03-31",
                                                   "window_days": 31}).json()[
            "customers_changed"] == 0
        assert c.delete(f"/reports/rules/{lo['id']}").json() == {"deleted": lo["id"]}
