"""The hand-worked data sets (figures are derived by hand in the tests' comments)."""

from __future__ import annotations

from bridge.db import Database
from tests.reports.seed import Seed, at


def seed_funnel(db: Database) -> Seed:
    """Five opportunities (Beijing times); as-of 2026-03-31 ends at 2026-04-01 00:00 +08."""
    s = Seed(db)
    s.customer("c1")
    alice = {"owner": "alice", "team": "t1", "region": "east"}
    bob = {"owner": "bob", "team": "t2", "region": "north"}
    s.opportunity("A", "c1", [("initial_contact", "2026-01-01 00:00"),
                              ("needs_analysis", "2026-01-11 00:00"),
                              ("proposal", "2026-01-21 00:00"),
                              ("won", "2026-02-10 00:00")], amount=100, **alice)
    s.opportunity("B", "c1", [("initial_contact", "2026-01-05 00:00"),
                              ("needs_analysis", "2026-01-10 00:00"),
                              ("lost", "2026-01-20 00:00")], amount=50, lost_reason="price",
                  **bob)
    s.opportunity("C", "c1", [("proposal", "2026-02-01 00:00"),
                              ("negotiation", "2026-03-01 00:00")], amount=200, **alice)
    s.opportunity("D", "c1", [("initial_contact", "2026-03-21 00:00")], amount=10, **bob)
    # E won after the as-of date: at as-of it is still in initial contact
    s.opportunity("E", "c1", [("initial_contact", "2026-03-01 00:00"),
                              ("won", "2026-04-05 09:00")], amount=30, **alice)
    return s


def seed_sales(db: Database) -> Seed:
    """Customers K1..K7 with orders, refunds and a credit note; RFM window 2026-01-01 ..
    2026-03-31 (90 days as of 2026-03-31)."""
    s = Seed(db)
    s.customer("K1", owner="alice", region="east", source_channel="website",
               created=at("2026-02-28 23:30"))
    s.customer("K2", region="east", source_channel="referral", created=at("2026-03-01 00:30"))
    s.customer("K3", region="north", source_channel="website", created=at("2026-01-31 23:30"))
    s.customer("K4", source_channel="website", created=at("2026-02-01 00:10"))
    s.customer("K5")
    s.customer("K6")
    s.customer("K7", owner="alice")
    a = {"owner": "alice"}
    b = {"owner": "bob"}
    s.order("o11", "K1", "2026-03-30", 1000, **a)
    s.order("o12", "K1", "2026-03-02", 500, status="fulfilled", **a)
    s.order("o13", "K1", "2026-01-15", 300, **a)
    s.order("o21", "K2", "2026-03-01", 2000, **b)
    s.refund("o21", "2026-03-10", 500)
    s.payment("o21", "2026-03-05", 2000)  # an ordinary payment changes nothing
    s.order("o31", "K3", "2026-01-10", 100)
    s.refund("o31", "2026-02-01", 300)
    s.order("o41", "K4", "2026-03-01", 2000, **b)
    s.credit_note("o41", "2026-03-15", 500)
    s.order("o51", "K5", "2026-03-20", 999, status="draft")
    s.order("o52", "K5", "2026-03-21", 888, status="cancelled")
    s.order("o53", "K5", "2025-12-31", 700)
    s.order("o71", "K7", "2026-03-31", 50, **a)
    s.order("o72", "K7", "2026-04-01", 9999, **a)  # after as-of
    # follow-ups (KPIs): as-of 2026-03-31
    s.opportunity("O1", "K1", [("negotiation", "2026-03-01 10:00")], amount=100,
                  next_followup_date="2026-03-25", owner="alice")
    s.opportunity("O2", "K1", [("won", "2026-03-01 10:00")], amount=100,
                  next_followup_date="2026-03-01", owner="alice")
    s.opportunity("O3", "K2", [("proposal", "2026-03-01 10:00")], amount=100,
                  next_followup_date="2026-03-31", owner="bob")
    s.opportunity("O4", "K2", [("initial_contact", "2026-03-01 10:00")], amount=40,
                  next_followup_date="2026-03-30", owner="bob")
    s.opportunity("O5", "K3", [("lost", "2026-01-01 10:00")], amount=100,
                  next_followup_date="2026-01-01", lost_reason="timing", owner="bob")
    return s


def seed_closed(db: Database) -> Seed:
    """Deals won and lost with product lines and the customers' industries, for the won
    breakdowns, cycle times, cohorts and cards (tests/reports/test_breakdowns.py works the
    figures by hand). Times are Beijing time; as-of 2026-03-31."""
    s = Seed(db)
    s.customer("P1", industry="manufacturing")
    s.customer("P2", industry="it")
    alice = {"owner": "alice", "team": "t1", "region": "east"}
    bob = {"owner": "bob", "team": "t2", "region": "north"}
    s.opportunity("W1", "P1", [("initial_contact", "2026-01-05 00:00"),
                               ("won", "2026-01-25 00:00")], amount=100,
                  product_line="software", **alice)
    # won at 00:30 on 03-01 Beijing time (still 02-28 in UTC): a March close
    s.opportunity("W2", "P2", [("initial_contact", "2026-01-10 00:30"),
                               ("proposal", "2026-01-20 00:00"),
                               ("won", "2026-03-01 00:30")], amount=300,
                  product_line="software", **bob)
    s.opportunity("W3", "P1", [("initial_contact", "2026-02-01 00:00"),
                               ("won", "2026-02-11 00:00")], amount=600,
                  product_line="hardware", **alice)
    s.opportunity("L1", "P2", [("initial_contact", "2026-02-01 00:00"),
                               ("lost", "2026-02-15 00:00")], amount=50,
                  product_line="software", lost_reason="price", **bob)
    s.opportunity("L2", "P1", [("initial_contact", "2026-03-01 00:00"),
                               ("lost", "2026-03-31 00:00")], amount=70,
                  product_line="hardware", lost_reason="timing", **alice)
    s.opportunity("O1", "P1", [("initial_contact", "2026-03-10 00:00"),
                               ("needs_analysis", "2026-03-20 00:00")], amount=40,
                  product_line="software", **bob)
    # won after the as-of date: open at as-of
    s.opportunity("X1", "P2", [("initial_contact", "2026-03-15 00:00"),
                               ("won", "2026-04-02 00:00")], amount=500,
                  product_line="service", **alice)
    # won, reopened, won again: the close is the last entry into won
    s.opportunity("R1", "P1", [("initial_contact", "2026-01-02 00:00"),
                               ("won", "2026-01-12 00:00"), ("negotiation", "2026-01-20 00:00"),
                               ("won", "2026-02-20 00:00")], amount=200,
                  product_line="software", **alice)
    return s
