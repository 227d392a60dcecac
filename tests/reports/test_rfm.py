"""RFM on hand-worked customers K1..K7 (fixtures.seed_sales), as of 2026-03-31, 90 days.

Window 2026-01-01 .. 2026-03-31. Orders (signed/fulfilled, in window):
K1 03-30 1000, 03-02 500, 01-15 300 -> R 1, F 3, M 1800
K2 03-01 2000, refund 03-10 500 -> R 30, F 1, M 1500
K3 01-10 100, refund 02-01 300 -> R 80, F 1, M -200 (negative net)
K4 03-01 2000, credit note 03-15 500 -> R 30, F 1, M 1500 (ties K2 on R, F and M)
K5 draft, cancelled, and 2025-12-31 (outside) -> no purchase; K6 nothing -> no purchase
K7 03-31 50 (as-of day counts), 04-01 9999 (after) -> R 0, F 1, M 50
Rank scores (n = 5, score = rank): R by days desc K3 1, K2/K4 2, K1 4, K7 5;
F K1 5, others 1; M K3 1, K7 2, K2/K4 3, K1 5.
Means over buyers: R 141/5 = 28.2, F 7/5 = 1.4, M 4650/5 = 930.
Segments: K1 HHH important value; K2, K4 LLH important win back; K3 LLL general win back;
K7 HLL general develop.
"""

from __future__ import annotations

from bridge.auth import User
from bridge.db import Database
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from schema.dictionary import build_dictionary
from tests.reports.fixtures import seed_sales

ADMIN = User("admin", "admin", "admin", None, None)


def _cust(rep: dict) -> dict:
    cols = [c["key"] for c in rep["tables"]["customers"]["columns"]]
    return {r[1]: dict(zip(cols, r, strict=True)) for r in rep["tables"]["customers"]["rows"]}


def test_rfm_hand_worked(db: Database) -> None:
    seed_sales(db)
    rep = rfm(db, build_dictionary(), ADMIN, make_params("2026-03-31", window_days=90))
    assert rep["window"] == {"from": "2026-01-01", "to": "2026-03-31", "days": 90}
    c = _cust(rep)
    got = {k: (v["recency_days"], v["frequency"], v["monetary"], v["r_score"], v["f_score"],
               v["m_score"], v["segment"]) for k, v in c.items()}
    assert got == {
        "K1": (1, 3, 1800.0, 4, 5, 5, "important_value"),
        "K2": (30, 1, 1500.0, 2, 1, 3, "important_retain"),
        "K4": (30, 1, 1500.0, 2, 1, 3, "important_retain"),
        "K3": (80, 1, -200.0, 1, 1, 1, "general_retain"),
        "K7": (0, 1, 50.0, 5, 1, 2, "general_develop"),
        "K5": (None, 0, 0.0, None, None, None, "no_purchase"),
        "K6": (None, 0, 0.0, None, None, None, "no_purchase"),
    }
    assert c["K2"]["segment_zh"] == "重要挽留客户" and c["K5"]["segment_zh"] == "无购买"
    s = rep["summary"]
    assert (s["customers"], s["buyers"], s["no_purchase"]) == (7, 5, 2)
    assert (s["mean_recency_days"], s["mean_frequency"], s["mean_monetary"]) == (28.2, 1.4, 930.0)
    # customers, order amount, refunds and credit notes, net
    seg = {r[0]: (r[3], r[5], r[6], r[7]) for r in rep["tables"]["segments"]["rows"]}
    assert seg["important_retain"] == (2, 4000.0, 1000.0, 3000.0)
    assert seg["no_purchase"] == (2, 0.0, 0.0, 0.0) and seg["important_keep"] == (0, 0, 0, 0)
    dist = rep["tables"]["scores"]["rows"]  # score, R, F, M counts
    assert dist == [[1, 1, 4, 1], [2, 2, 0, 1], [3, 0, 0, 2], [4, 1, 0, 0], [5, 1, 1, 1]]
    assert "R“高”指天数严格小于平均值" in "".join(rep["definitions"]["zh"])


def test_ntile_ties_split_by_id(db: Database) -> None:
    s = seed_sales(db)
    rep = rfm(db, build_dictionary(), ADMIN,
              make_params("2026-03-31", window_days=90, score_method="ntile"))
    c = _cust(rep)
    # NTILE(5) over 5 buyers: one per tile; K2/K4 tie on R (30 days) -> lower id first
    first, second = sorted(["K2", "K4"], key=lambda k: s.ids[k])
    assert (c[first]["r_score"], c[second]["r_score"]) == (2, 3)
    assert c["K3"]["r_score"] == 1 and c["K1"]["r_score"] == 4 and c["K7"]["r_score"] == 5
    assert sorted(v["m_score"] for v in c.values() if v["m_score"]) == [1, 2, 3, 4, 5]


def test_rfm_scope_window_and_empty(db: Database) -> None:
    seed_sales(db)
    d = build_dictionary()
    alice = User("alice", "alice", "sales", "t1", "east")
    mine = rfm(db, d, alice, make_params("2026-03-31", window_days=90))
    c = _cust(mine)
    # alice sees K1 and K7 only: means R 0.5, F 2, M 925; rank scores n=2: 1 and 1+5//2=3
    assert set(c) == {"K1", "K7"}
    assert (c["K1"]["segment"], c["K7"]["segment"]) == ("important_keep", "general_develop")
    assert (c["K1"]["r_score"], c["K7"]["r_score"]) == (1, 3)
    empty = rfm(db, d, ADMIN, make_params("2020-01-01", window_days=30))
    assert empty["summary"]["buyers"] == 0 and empty["summary"]["mean_monetary"] is None
    assert {v["segment"] for v in _cust(empty).values()} == {"no_purchase"}
    # a 1-day window on 2026-03-01: K2 and K4 bought that day (K2's refund is later)
    one = _cust(rfm(db, d, ADMIN, make_params("2026-03-01", window_days=1)))
    assert (one["K2"]["monetary"], one["K4"]["monetary"], one["K2"]["recency_days"]) == (
        2000.0, 2000.0, 0)
    # region filter on the customer
    east = _cust(rfm(db, d, ADMIN, make_params("2026-03-31", region="华东", window_days=90)))
    assert set(east) == {"K1", "K2"}
