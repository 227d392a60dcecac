"""KPIs on fixtures.seed_sales, as of 2026-03-31, period 2026-02-01 .. 2026-03-31 (59 days;
previous window 2025-12-04 .. 2026-01-31).

Orders in the period: K1 1000 + 500, K2 2000, K4 2000, K7 50 -> 5 orders, 5550, AOV 1110.
Buyers K1, K2, K4, K7; repeat K1 -> 1/4. Previous buyers K1 (01-15), K3 (01-10), K5 (12-31);
K3 and K5 bought nothing in the period -> churn 2/3.
New customers (Beijing time): K1 02-28 23:30 website and K4 02-01 00:10 website (UTC: 01-31,
outside) -> Feb 2 website; K2 03-01 00:30 referral (UTC 02-28) -> Mar 1 referral; K3 01-31
23:30 is before the period.
Leaderboard: bob 2 orders 4000 (K2, K4); alice 3 orders 1550 (K1 x2, K7).
Overdue (follow-up before 03-31, not won/lost): O1 03-25 alice 6 days, O4 03-30 bob 1 day.
"""

from __future__ import annotations

from bridge.auth import User
from bridge.db import Database
from bridge.reports.kpis import kpis
from bridge.reports.params import make_params
from schema.dictionary import build_dictionary
from tests.reports.fixtures import seed_sales

ADMIN = User("admin", "admin", "admin", None, None)


def test_kpis_hand_worked(db: Database) -> None:
    seed_sales(db)
    rep = kpis(db, build_dictionary(), ADMIN, make_params("2026-03-31", "2026-02-01",
                                                            "2026-03-31"))
    s = rep["summary"]
    assert (s["orders"], s["amount"], s["avg_order_value"]) == (5, 5550.0, 1110.0)
    assert (s["buyers"], s["repeat_buyers"], s["repurchase_rate"]) == (4, 1, 0.25)
    assert (s["previous_buyers"], s["churned"], s["churn_rate"]) == (3, 2, 0.6667)
    assert rep["period"]["previous_from"] == "2025-12-04"
    cols = [c["key"] for c in rep["tables"]["new_customers"]["columns"]]
    new = {r[0]: dict(zip(cols, r, strict=True)) for r in rep["tables"]["new_customers"]["rows"]}
    assert set(new) == {"2026-02", "2026-03"}
    assert (new["2026-02"]["website"], new["2026-02"]["total"]) == (2, 2)
    assert (new["2026-03"]["referral"], new["2026-03"]["total"]) == (1, 1)
    assert rep["tables"]["orders_by_month"]["rows"] == [["2026-03", 5, 5550.0, 1110.0]]
    assert [r[:5] for r in rep["tables"]["leaderboard"]["rows"]] == [
        [1, "bob", 2, 4000.0, 2], [2, "alice", 3, 1550.0, 2]]
    reg = {r[0]: r[3:] for r in rep["tables"]["customers_by_region"]["rows"]}
    assert reg == {None: [4, 1, 2], "east": [2, 2, 2], "north": [1, 0, 0]}
    assert rep["tables"]["overdue_by_owner"]["rows"] == [["alice", 1, 100.0, 6],
                                                          ["bob", 1, 40.0, 1]]
    assert [(r[1], r[7]) for r in rep["tables"]["overdue"]["rows"]] == [("O1", 6), ("O4", 1)]


def test_kpis_empty_and_scoped(db: Database) -> None:
    seed_sales(db)
    d = build_dictionary()
    empty = kpis(db, d, ADMIN, make_params("2020-06-30", "2020-06-01", "2020-06-30"))
    s = empty["summary"]
    assert (s["orders"], s["avg_order_value"], s["repurchase_rate"], s["churn_rate"]) == (
        0, None, None, None)
    assert empty["tables"]["orders_by_month"]["rows"] == []
    bob = User("bob", "bob", "sales", "t2", "north")
    mine = kpis(db, d, bob, make_params("2026-03-31", "2026-02-01", "2026-03-31"))
    assert [r[1] for r in mine["tables"]["leaderboard"]["rows"]] == ["bob"]
    assert mine["summary"]["overdue_followups"] == 1
