"""Won breakdowns, sales cycle, cohort funnel and cards on fixtures.seed_closed, worked by
hand (Beijing times; as-of 2026-03-31, the end of that day).

Closed at as-of (close = the last entry into the final stage):
  W1 won 01-25, 100, software, P1 manufacturing, alice/t1/east, created 01-05 -> 20 days
  W2 won 03-01 00:30 (+08; 02-28 in UTC: a March close), 300, software, P2 it, bob/t2/north,
     created 01-10 00:30 -> 50 days
  W3 won 02-11, 600, hardware, P1 manufacturing, alice, created 02-01 -> 10 days
  R1 won 01-12, reopened 01-20, won again 02-20: close 02-20, 200, software, P1, alice,
     created 01-02 -> 49 days
  L1 lost 02-15, 50, software, P2 it, bob, created 02-01 -> 14 days
  L2 lost 03-31, 70, hardware, P1 manufacturing, alice, created 03-01 -> 30 days
Open: O1 (needs analysis, software, bob, created 03-10), X1 (initial contact at as-of; its win
on 04-02 is later; service, alice, created 03-15).

By close month: 2026-01 W1 (1 won, 100); 2026-02 W3 + R1 won (800), L1 lost -> 2/3;
2026-03 W2 won (300), L2 lost -> 1/2.
By product line: software won W1, W2, R1 = 600, lost L1 -> 3/4; hardware won W3 600, lost
L2 -> 1/2 (equal amounts: more wins first).
By industry: manufacturing W1, W3, R1 = 900, L2 -> 3/4; it W2 300, L1 -> 1/2.
Cycle: software won 20, 49, 50 -> mean 39.67, median 49; lost 14. Hardware won 10, lost 30.
Total won 10, 20, 49, 50 -> mean 32.25, median (20 + 49) / 2 = 34.5; lost 14, 30 -> 22, 22.
Cohorts (created): Jan W1, W2, R1 (3 won, 600); Feb W3, L1 (1 won 600, 1 lost);
Mar L2, O1, X1 (lost, needs analysis, initial contact).
Cards, period 02-01 .. 03-31 (59 days; previous 2025-12-04 .. 01-31): created W3, L1, L2,
O1, X1 = 5 (previous W1, W2, R1 = 3); won W3, R1, W2 = 3, 1100 (previous W1: 1, 100; R1's
first win on 01-12 is not its close); lost L1, L2 -> win rate 3/5 (previous 1/1); average won
1100/3 = 366.67 (previous 100); days to win (10 + 49 + 50)/3 = 36.33 (previous 20).
"""

from __future__ import annotations

from typing import Any

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.reports.funnel import funnel
from bridge.reports.kpis import kpis
from bridge.reports.params import make_params
from schema.dictionary import build_dictionary
from tests.reports.fixtures import seed_closed

ADMIN = User("admin", "admin", "admin", None, None)
WON_KEYS = ("won", "won_amount", "avg_won", "lost", "win_rate")


def _table(rep: dict[str, Any], key: str) -> list[dict[str, Any]]:
    t = rep["tables"][key]
    cols = [c["key"] for c in t["columns"]]
    return [dict(zip(cols, r, strict=True)) for r in t["rows"]]


def _won(rep: dict[str, Any], dim: str) -> dict[Any, tuple[Any, ...]]:
    return {r[dim]: tuple(r[k] for k in WON_KEYS) for r in _table(rep, f"won_by_{dim}")}


def test_won_breakdowns_by_hand(db: Database) -> None:
    seed_closed(db)
    with db.write() as conn:
        add_user(db, conn, "alice", "sales", "t1", "east", display_name="张丽")
    rep = funnel(db, build_dictionary(), ADMIN, make_params("2026-03-31"))
    assert [r["close_month"] for r in _table(rep, "won_by_close_month")] == [
        "2026-01", "2026-02", "2026-03"]
    assert _won(rep, "close_month") == {"2026-01": (1, 100.0, 100.0, 0, 1.0),
                                        "2026-02": (2, 800.0, 400.0, 1, 0.6667),
                                        "2026-03": (1, 300.0, 300.0, 1, 0.5)}
    lines = _table(rep, "won_by_product_line")
    assert [(r["product_line"], r["product_line_zh"], r["product_line_en"]) for r in lines] == [
        ("software", "软件", "Software"), ("hardware", "硬件", "Hardware")]
    assert _won(rep, "product_line") == {"software": (3, 600.0, 200.0, 1, 0.75),
                                         "hardware": (1, 600.0, 600.0, 1, 0.5)}
    assert _won(rep, "industry") == {"manufacturing": (3, 900.0, 300.0, 1, 0.75),
                                     "it": (1, 300.0, 300.0, 1, 0.5)}
    assert _table(rep, "won_by_industry")[0]["industry_zh"] == "制造业"
    assert _won(rep, "owner") == {"alice": (3, 900.0, 300.0, 1, 0.75),
                                  "bob": (1, 300.0, 300.0, 1, 0.5)}
    owners = {r["owner"]: (r["owner_zh"], r["owner_en"]) for r in _table(rep, "won_by_owner")}
    assert owners == {"alice": ("张丽", "张丽"), "bob": ("bob", "bob")}  # bob: no user row
    assert _won(rep, "team") == {"t1": (3, 900.0, 300.0, 1, 0.75),
                                 "t2": (1, 300.0, 300.0, 1, 0.5)}
    regions = {r["region"]: (r["region_zh"], r["won"]) for r in _table(rep, "won_by_region")}
    assert regions == {"east": ("华东", 3), "north": ("华北", 1)}
    s = rep["summary"]
    assert (s["won"], s["lost"], s["closed"], s["won_amount"], s["avg_won"]) == (
        4, 2, 6, 1200.0, 300.0)


def test_cycle_and_cohorts_by_hand(db: Database) -> None:
    seed_closed(db)
    rep = funnel(db, build_dictionary(), ADMIN, make_params("2026-03-31"))
    cycle = {r["product_line"]: r for r in _table(rep, "cycle")}
    assert list(cycle) == ["software", "hardware", "total"]
    keys = ("won", "won_avg_days", "won_median_days", "lost", "lost_avg_days",
            "lost_median_days")
    assert tuple(cycle["software"][k] for k in keys) == (3, 39.67, 49.0, 1, 14.0, 14.0)
    assert tuple(cycle["hardware"][k] for k in keys) == (1, 10.0, 10.0, 1, 30.0, 30.0)
    assert tuple(cycle["total"][k] for k in keys) == (4, 32.25, 34.5, 2, 22.0, 22.0)
    assert (cycle["total"]["product_line_zh"], cycle["total"]["product_line_en"]) == (
        "合计", "Total")
    assert rep["summary"]["days_to_won"] == {"n": 4, "avg": 32.25, "median": 34.5}
    stages = ("initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost")
    got = {r["month"]: (r["created"], *(r[c] for c in stages), r["closed"], r["won_amount"],
                        r["win_rate"]) for r in _table(rep, "cohorts")}
    assert got == {"2026-01": (3, 0, 0, 0, 0, 3, 0, 3, 600.0, 1.0),
                   "2026-02": (2, 0, 0, 0, 0, 1, 1, 2, 600.0, 0.5),
                   "2026-03": (3, 1, 1, 0, 0, 0, 1, 1, 0.0, 0.0)}


def test_period_and_cards_by_hand(db: Database) -> None:
    seed_closed(db)
    d = build_dictionary()
    p = make_params("2026-03-31", "2026-02-01", "2026-03-31")
    rep = funnel(db, d, ADMIN, p)
    # closes in the period only; January's W1 is out
    assert _won(rep, "close_month") == {"2026-02": (2, 800.0, 400.0, 1, 0.6667),
                                        "2026-03": (1, 300.0, 300.0, 1, 0.5)}
    # cohorts of the period: February and March
    assert [r["month"] for r in _table(rep, "cohorts")] == ["2026-02", "2026-03"]
    assert rep["cards_period"] == {"from": "2026-02-01", "to": "2026-03-31", "days": 59}
    cards = {c["key"]: (c["value"], c["previous"], c["change"], c["format"])
             for c in rep["cards"]}
    assert cards == {
        "new_opportunities": (5, 3, 2, "int"), "won": (3, 1, 2, "int"),
        "won_amount": (1100.0, 100.0, 1000.0, "money"), "win_rate": (0.6, 1.0, -0.4, "rate"),
        "avg_won": (366.67, 100.0, 266.67, "money"),
        "cycle_days": (36.33, 20.0, 16.33, "days")}
    assert all(c["zh"] and c["en"] for c in rep["cards"])
    # the KPI report carries the same opportunity cards over its period
    k = {c["key"]: c for c in kpis(db, d, ADMIN, p)["cards"]}
    assert (k["won"]["value"], k["won"]["previous"], k["cycle_days"]["value"]) == (3, 1, 36.33)


def test_product_line_filter(db: Database) -> None:
    seed_closed(db)
    d = build_dictionary()
    rep = funnel(db, d, ADMIN, make_params("2026-03-31", product_line="软件"))
    assert rep["filters"]["product_line"] == "software"
    assert rep["filter_labels"]["product_line"] == {
        "zh": "产品线", "en": "Product line", "value_zh": "软件", "value_en": "Software"}
    assert rep["summary"]["opportunities"] == 5  # W1, W2, L1, O1, R1
    assert list(_won(rep, "product_line")) == ["software"]
    assert "window_days" not in rep["filters"] and "score_method" not in rep["filters"]


def test_history_older_than_the_row(db: Database) -> None:
    """H1 reached the database on 2026-03-20 with history from 2025-12-01 (imported): it
    starts on 2025-12-01, so it is December's cohort and won after 41 days (01-11), not
    -68; its consulting line has that one win."""
    s = seed_closed(db)
    s.opportunity("H1", "P2", [("initial_contact", "2025-12-01 00:00"),
                               ("won", "2026-01-11 00:00")], amount=900,
                  created="2026-03-20 09:00", product_line="consulting", owner="bob")
    rep = funnel(db, build_dictionary(), ADMIN, make_params("2026-03-31"))
    cycle = {r["product_line"]: r for r in _table(rep, "cycle")}
    assert (cycle["consulting"]["won"], cycle["consulting"]["won_avg_days"]) == (1, 41.0)
    cohorts = {r["month"]: (r["created"], r["won"]) for r in _table(rep, "cohorts")}
    assert cohorts["2025-12"] == (1, 1) and cohorts["2026-03"] == (3, 0)
    assert _won(rep, "close_month")["2026-01"] == (2, 1000.0, 500.0, 0, 1.0)


def test_scope_of_a_salesperson(db: Database) -> None:
    """alice (sales, t1, east) sees her own deals only: W1, W3, R1 won (900), L2 lost, X1
    open; her cards' previous period has W1 and R1 created (R1's close is 02-20)."""
    seed_closed(db)
    alice = User("alice", "alice", "sales", "t1", "east")
    rep = funnel(db, build_dictionary(), alice,
                 make_params("2026-03-31", "2026-02-01", "2026-03-31"))
    assert _won(rep, "owner") == {"alice": (2, 800.0, 400.0, 1, 0.6667)}  # W3, R1; L2
    assert set(_won(rep, "industry")) == {"manufacturing"}
    cards = {c["key"]: (c["value"], c["previous"]) for c in rep["cards"]}
    assert cards["new_opportunities"] == (3, 2)  # W3, L2, X1 / W1, R1
    assert cards["won"] == (2, 1) and cards["cycle_days"] == (29.5, 20.0)  # (10 + 49) / 2
