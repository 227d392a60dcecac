"""RFM labels, cards, the no-purchase net amount, rule segment columns and complete lists,
on fixtures.seed_sales plus K8 (an order of 2025-12-01, before the 90-day window, refunded
100 on 2026-02-10, inside it), as of 2026-03-31.

K8 has no order in the window: No purchase, gross 0, refunds 100, net -100 (the refund of an
earlier order counts in the window: the cause of a negative No purchase row). The No purchase
row is K5, K6, K8: gross 0, refunds 100, net -100.
Cards: customers created by the end of 2026-03-31: 8 (previous as-of 2025-12-31: K5-K8 = 4,
K1-K4 are created in 2026); champions K1 = 1 (previous: none); at-risk (important to keep or
win back) K2, K4 of 5 buyers = 0.4. Previous window 2025-10-03 .. 2025-12-31: buyers K5 (R 0,
F 1, M 700) and K8 (R 30, F 1, M 400), means R 15, F 1, M 550: K5 H/L/H important to develop,
K8 L/L/L general to win back -> champions 0, at-risk 0 / 2 = 0.0.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.errors import ApiError
from bridge.reports import rules as R
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode
from tests.reports.fixtures import seed_sales

ADMIN = User("admin", "admin", "admin", None, None)


def _seed(db: Database) -> None:
    s = seed_sales(db)
    s.customer("K8")
    s.order("o81", "K8", "2025-12-01", 400)
    s.refund("o81", "2026-02-10", 100)
    with db.write() as conn:
        add_user(db, conn, "alice", "sales", "t1", "east", display_name="张丽")


def _cust(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    t = rep["tables"]["customers"]
    cols = [c["key"] for c in t["columns"]]
    return {r[1]: dict(zip(cols, r, strict=True)) for r in t["rows"]}


def test_labels_net_and_cards(db: Database) -> None:
    _seed(db)
    rep = rfm(db, build_dictionary(), ADMIN, make_params("2026-03-31", window_days=90))
    c = _cust(rep)
    assert (c["K8"]["segment"], c["K8"]["gross"], c["K8"]["refunds"], c["K8"]["monetary"]) == (
        "no_purchase", 0.0, 100.0, -100.0)
    assert (c["K3"]["gross"], c["K3"]["refunds"], c["K3"]["monetary"]) == (100.0, 300.0, -200.0)
    seg = {r[0]: r[3:8] for r in rep["tables"]["segments"]["rows"]}
    assert seg["no_purchase"] == [3, 0.375, 0.0, 100.0, -100.0]
    assert (c["K1"]["region_zh"], c["K1"]["region_en"]) == ("华东", "East China")
    assert (c["K4"]["region"], c["K4"]["region_zh"], c["K4"]["region_en"]) == (
        None, "（未填）", "(blank)")
    assert (c["K1"]["owner"], c["K1"]["owner_zh"]) == ("alice", "张丽")
    # no segment rule: no rule segment column (it would be blank on every row)
    assert not any(k.startswith("rule_segment") for k in c["K1"])
    assert "rule_segments" not in rep["tables"]
    cards = {k["key"]: (k["value"], k["previous"], k["change"], k["format"])
             for k in rep["cards"]}
    assert cards == {"customers": (8, 4, 4, "int"), "champions": (1, 0, 1, "int"),
                     "at_risk_share": (0.4, 0.0, 0.4, "rate")}
    assert rep["filters"]["window_days"] == 90 and rep["filters"]["score_method"] == "rank"
    assert rep["filter_labels"]["window_days"]["value_en"] == "90"
    assert rep["filter_labels"]["score_method"]["value_zh"] == "排名法 (rank)"
    assert rep["filter_labels"]["region"]["value_en"] == "all"
    assert "period_from" not in rep["filters"]
    assert "可能为负" in "".join(rep["definitions"]["zh"])
    assert "can be negative" in "".join(rep["definitions"]["en"])


def test_rule_segment_column_and_limits(db: Database) -> None:
    _seed(db)
    d = build_dictionary()
    R.create_rule(db, d, ADMIN, {"name": "大客户", "label_zh": "大客户", "label_en": "Big",
                                 "target": "segment", "value": "big", "priority": 1,
                                 "active": True,
                                 "condition": [{"metric": "monetary", "op": ">",
                                                "value": 1000}]})
    rep = rfm(db, d, ADMIN, make_params("2026-03-31", window_days=90))
    c = _cust(rep)
    rule = {k: (v["rule_segment"], v["rule_segment_zh"], v["rule_segment_en"])
            for k, v in c.items()}
    assert rule["K1"] == rule["K2"] == rule["K4"] == ("big", "大客户", "Big")
    assert rule["K7"] == (None, "（未匹配）", "(no rule matched)")
    # per rule segment: K1 + K2 + K4 = 4800; the other five (K3 -200, K7 50, K8 -100) -250
    assert rep["tables"]["rule_segments"]["rows"] == [
        [None, "（未匹配）", "(no rule matched)", 5, -250.0], ["big", "大客户", "Big", 3, 4800.0]]
    assert [c_["key"] for c_ in rep["tables"]["rule_segments"]["columns"]][:3] == [
        "value", "value_zh", "value_en"]
    t = rep["tables"]["customers"]
    assert (len(t["rows"]), t["total"], t["truncated"]) == (8, 8, False)  # complete
    cut = rfm(db, d, ADMIN, make_params("2026-03-31", window_days=90, limit=3))
    t = cut["tables"]["customers"]
    assert (len(t["rows"]), t["total"], t["truncated"]) == (3, 8, True)
    assert cut["filters"]["limit"] == 3
    with pytest.raises(ApiError) as bad:
        make_params("2026-03-31", limit=1_000_001)
    assert bad.value.code is ErrorCode.REPORT_PARAM_INVALID and bad.value.item.field == "limit"
    with pytest.raises(ApiError) as bad:
        make_params("2026-03-31", product_line="toys")
    assert bad.value.item.field == "product_line" and "software" in (bad.value.item.allowed or [])
    assert "software" in bad.value.item.message_en


def test_owner_filter_in_words(db: Database) -> None:
    _seed(db)
    rep = rfm(db, build_dictionary(), ADMIN,
              make_params("2026-03-31", owner="alice", window_days=90))
    assert rep["filter_labels"]["owner"] == {"zh": "负责人", "en": "Owner",
                                             "value_zh": "张丽", "value_en": "张丽"}
    assert set(_cust(rep)) == {"K1", "K7"}  # alice's customers
