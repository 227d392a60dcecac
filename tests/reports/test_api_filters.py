"""Report filters over HTTP on SQLite and PostgreSQL: each report echoes only the parameters
it used, in words too (filter_labels), and every bad filter answers 422
REPORT_PARAM_INVALID naming the parameter and what is allowed."""

from __future__ import annotations

from tests.bridge.helpers import body, insert
from tests.conftest import LiveBridge


def test_filters_echo_and_validation(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    tok = lb.make_user("alice", "manager", "east-1", "east")
    with lb.client(tok) as c:
        r = c.post("/push", json=body(
            insert("customer", name="甲公司", region="east", industry="it"),
            insert("opportunity", name="商机一", customer="甲公司", stage="won", amount=5000,
                   product_line="software"),
            insert("opportunity", name="商机二", customer="甲公司", stage="lost", amount=700,
                   product_line="hardware", lost_reason="price"))).json()
        assert r["counts"]["applied"] == 3, r
    with lb.client(tok) as c:
        f = c.get("/reports/funnel", params={"product_line": "Software", "owner": "ALICE",
                                             "region": "华东"}).json()
        assert f["filters"]["product_line"] == "software" and f["filters"]["owner"] == "alice"
        assert "window_days" not in f["filters"] and "score_method" not in f["filters"]
        assert f["filter_labels"]["region"]["value_zh"] == "华东"
        assert f["filter_labels"]["time_zone"]["value_en"] == "Beijing time (UTC+08:00)"
        assert f["summary"]["opportunities"] == 1 and f["summary"]["won_amount"] == 5000.0
        won = {r[0]: r for r in f["tables"]["won_by_industry"]["rows"]}
        assert won["it"][1:5] == ["信息技术", "Information technology", 1, 5000.0]
        assert {c_["key"] for c_ in f["cards"]} >= {"won", "win_rate", "cycle_days"}
        rfm = c.get("/reports/rfm", params={"window_days": "30", "score_method": "ntile"}).json()
        assert (rfm["filters"]["window_days"], rfm["filters"]["score_method"]) == (30, "ntile")
        assert rfm["tables"]["customers"]["truncated"] is False
        k = c.get("/reports/kpis", params={"team": "EAST-1"}).json()
        assert k["filters"]["team"] == "east-1" and "window_days" not in k["filters"]
        bad = {
            ("funnel", "product_line", "toys"): "software",
            ("kpis", "product_line", "toys"): "consulting",
            ("funnel", "region", "mars"): "east",
            ("funnel", "owner", "nobody"): "alice",
            ("kpis", "team", "west-9"): "east-1",
            ("rfm", "window_days", "abc"): "1..3660",
            ("rfm", "window_days", "0"): "1..3660",
            ("rfm", "score_method", "best"): "ntile",
            ("rfm", "limit", "1000001"): "1..1000000",
            ("kpis", "limit", "-1"): "1..1000000",
        }
        for (report, name, value), hint in bad.items():
            r = c.get(f"/reports/{report}", params={name: value})
            assert r.status_code == 422, (report, name, r.text)
            err = r.json()["error"]
            assert err["code"] == "REPORT_PARAM_INVALID" and err["field"] == name, err
            assert hint in err["message_en"] and name in err["message_zh"], err
