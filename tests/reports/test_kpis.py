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
    assert [r[:2] + r[4:7] for r in rep["tables"]["leaderboard"]["rows"]] == [
        [1, "bob", 2, 4000.0, 2], [2, "alice", 3, 1550.0, 2]]
    reg = {r[0]: r[3:] for r in rep["tables"]["customers_by_region"]["rows"]}
    assert reg == {None: [4, 1, 2], "east": [2, 2, 2], "north": [1, 0, 0]}
    assert rep["tables"]["overdue_by_owner"]["rows"] == [["alice", "alice", "alice", 1, 100.0, 6],
                                                          ["bob", "bob", "bob", 1, 40.0, 1]]
    cols = [c["key"] for c in rep["tables"]["overdue"]["columns"]]
    od = [dict(zip(cols, r, strict=True)) for r in rep["tables"]["overdue"]["rows"]]
    assert [(r["name"], r["days_overdue"]) for r in od] == [("O1", 6), ("O4", 1)]
    assert [(r["stage"], r["stage_zh"], r["stage_en"]) for r in od] == [
        ("negotiation", "商务谈判", "Negotiation"),
        ("initial_contact", "初步接洽", "Initial contact")]
    assert rep["tables"]["overdue"]["truncated"] is False


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


def test_kpi_cards_and_product_line(db: Database) -> None:
    """Cards over 2026-02-01 .. 03-31 against the previous 59 days (2025-12-04 .. 01-31): new
    customers K1, K2, K4 = 3 (previous K3, created 01-31 23:30 = 1); orders 5, 5550 (previous
    o13 300, o31 100, o53 700 = 3 orders, 1100, three buyers with one order each: repurchase
    0.0). A software order o14 (K1, 03-15, 70) is the only one the product line filter
    keeps; new customers are not filtered by product line."""
    s = seed_sales(db)
    d = build_dictionary()
    p = make_params("2026-03-31", "2026-02-01", "2026-03-31")
    cards = {c["key"]: (c["value"], c["previous"], c["change"])
             for c in kpis(db, d, ADMIN, p)["cards"]}
    assert {k: cards[k] for k in ("new_customers", "orders", "order_amount",
                                  "repurchase_rate")} == {
        "new_customers": (3, 1, 2), "orders": (5, 3, 2), "order_amount": (5550.0, 1100.0, 4450.0),
        "repurchase_rate": (0.25, 0.0, 0.25)}
    assert (cards["new_opportunities"], cards["win_rate"]) == ((4, 1, 3), (1.0, 0.0, 1.0))
    s.order("o14", "K1", "2026-03-15", 70, product_line="software", owner="alice")
    rep = kpis(db, d, ADMIN, make_params("2026-03-31", "2026-02-01", "2026-03-31",
                                         product_line="software"))
    assert (rep["summary"]["orders"], rep["summary"]["amount"]) == (1, 70.0)
    assert rep["summary"]["new_customers"] == 3 and rep["summary"]["overdue_followups"] == 0
    assert rep["filter_labels"]["product_line"]["value_zh"] == "软件"
    assert "window_days" not in rep["filters"] and rep["filters"]["period_from"] == "2026-02-01"
