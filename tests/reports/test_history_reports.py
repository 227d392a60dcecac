"""Reports on history-imported data (pushed by an admin through the push engine with
``RowChange.history``) are true for the past, on both backends.

Funnel: the five deals of ``fixtures.seed_funnel``, imported with their stage days, give the
figures test_funnel derives by hand (as of 2026-03-31). Deals imported with only created
and closed dates: X created 2025-01-10, won 2025-01-30 -> 20 days in initial contact;
Y created 2025-01-20, lost 2025-02-19 without a reason -> 30 days, lost reason unknown.

KPIs: customers imported with their creation times (Beijing): K1 02-28 23:30 and K4 02-01
00:10 (website) -> February 2; K2 03-01 00:30 (referral) -> March 1; K3 01-31 23:30 is
before the period 2026-02-01 .. 2026-03-31.

RFM as of 2026-03-31, 90 days (window 2026-01-01 .. 2026-03-31; an earlier as-of in the test):
K1 orders 03-30 1000 and 03-02 500, a refund of 100 on 03-31 tied to order and customer
   (counted once) -> R 1, F 2, M 1400
K2 order 03-01 2000, a refund of 500 on 03-10 tied to the customer only, a payment of 2000
   (not a refund: nothing) -> R 30, F 1, M 1500
K3 order 01-10 100, a credit note of 300 on 02-01 tied to the customer only -> R 80, F 1,
   M -200
K4 no order; a refund of 100 on 03-05 of its 2025-12-31 order and one of 50 on 2025-12-01
   (before the window) tied to the customer -> no purchase, F 0, M -100
"""

from __future__ import annotations

import uuid
from typing import Any

from bridge.db import Database
from bridge.reports.funnel import funnel
from bridge.reports.kpis import kpis
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from tests.bridge.test_history_push import ADMIN, D, _push

ALICE = {"owner": "alice", "team": "t1", "region": "east"}
BOB = {"owner": "bob", "team": "t2", "region": "north"}


def _ins(entity: str, values: dict[str, Any], history: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    row: dict[str, Any] = {"op": "insert", "entity": entity, "id": str(uuid.uuid4()),
                           "values": values}
    if history:
        row["history"] = history
    return row


def _import(db: Database, *rows: dict[str, Any]) -> None:
    res = _push(db, ADMIN, *rows)
    assert [r["status"] for r in res] == ["applied"] * len(rows), res


def _deal(name: str, stages: dict[str, str], amount: float, scope: dict[str, str],
          **values: Any) -> dict[str, Any]:
    return _ins("opportunity", {"name": name, "customer": "c1", "stage": list(stages)[-1],
                                "amount": amount, **scope, **values}, {"stages": stages})


def _rows(rep: dict[str, Any], key: str) -> dict[Any, list[Any]]:
    return {r[0]: r for r in rep["tables"][key]["rows"]}


def test_funnel_on_imported_stage_days(db: Database) -> None:
    _import(db, _ins("customer", {"name": "c1"}, {"created_at": "2025-06-01"}))
    _import(db,
            _deal("A", {"initial_contact": "2026-01-01", "needs_analysis": "2026-01-11",
                        "proposal": "2026-01-21", "won": "2026-02-10"}, 100, ALICE),
            _deal("B", {"initial_contact": "2026-01-05", "needs_analysis": "2026-01-10",
                        "lost": "2026-01-20"}, 50, BOB, lost_reason="price"),
            _deal("C", {"proposal": "2026-02-01", "negotiation": "2026-03-01"}, 200, ALICE),
            _deal("D", {"initial_contact": "2026-03-21"}, 10, BOB),
            _deal("E", {"initial_contact": "2026-03-01", "won": "2026-04-05 09:00"}, 30,
                  ALICE))
    rep = funnel(db, D, ADMIN, make_params("2026-03-31"))
    st = _rows(rep, "by_stage")
    expect = {"initial_contact": (2, 40.0, 5, 14.25), "needs_analysis": (0, 0.0, 3, 10.0),
              "proposal": (0, 0.0, 2, 24.0), "negotiation": (1, 200.0, 2, 31.0),
              "won": (1, 100.0, 1, None), "lost": (1, 50.0, None, None)}
    for code, (n, amt, reached, days) in expect.items():
        assert (st[code][3], st[code][4], st[code][6], st[code][7]) == (n, amt, reached, days)
    # stage to stage, then all -> closed (A won, B lost: 2 of 5) and closed -> won (1 of 2)
    assert [r[-1] for r in rep["tables"]["conversion"]["rows"]] == [0.6, 0.6667, 1.0, 0.5,
                                                                      0.4, 0.5]
    assert [(r[0], r[1]) for r in rep["tables"]["by_month"]["rows"]] == [
        ("2026-01", 2), ("2026-02", 1), ("2026-03", 2)]
    # code, display name (zh, en), then the figures
    assert _rows(rep, "by_owner")["alice"][3:] == [3, 330.0, 2, 1, 100.0, 0, 1.0]
    # the March cohort (created 2026-03-01 .. 03-31): D and E, both in initial contact
    march = funnel(db, D, ADMIN, make_params("2026-03-31", "2026-03-01", "2026-03-31"))
    assert march["summary"]["opportunities"] == 2 and march["summary"]["amount"] == 40.0
    # as of 2026-01-31 only A (proposal since 01-21) and B (lost 01-20) existed
    jan = funnel(db, D, ADMIN, make_params("2026-01-31"))
    st = _rows(jan, "by_stage")
    assert (st["proposal"][3], st["lost"][3], jan["summary"]["opportunities"]) == (1, 1, 2)


def test_funnel_on_history_built_from_created_and_closed(db: Database) -> None:
    _import(db, _ins("customer", {"name": "c1"}))
    _import(db,
            _ins("opportunity", {"name": "X", "customer": "c1", "stage": "won", "amount": 80},
                 {"created_at": "2025-01-10", "closed_at": "2025-01-30"}),
            _ins("opportunity", {"name": "Y", "customer": "c1", "stage": "lost", "amount": 20},
                 {"created_at": "2025-01-20", "closed_at": "2025-02-19"}))
    rep = funnel(db, D, ADMIN, make_params("2025-03-31"))
    st = _rows(rep, "by_stage")
    # initial contact: X 20 days, Y 30 days -> 25; both reached it, X won
    assert (st["initial_contact"][3], st["initial_contact"][6], st["initial_contact"][7]) == \
        (0, 2, 25.0)
    assert (st["won"][3], st["lost"][3]) == (1, 1)
    assert [(r[0], r[1]) for r in rep["tables"]["by_month"]["rows"]] == [("2025-01", 2)]
    assert [r[:4] for r in rep["tables"]["lost_reasons"]["rows"]] == [
        ["unknown", "未知（历史导入）", "Unknown (imported history)", 1]]


def test_kpis_count_new_customers_by_their_imported_creation(db: Database) -> None:
    _import(db,
            _ins("customer", {"name": "K1", "source_channel": "website"},
                 {"created_at": "2026-02-28 23:30"}),
            _ins("customer", {"name": "K2", "source_channel": "referral"},
                 {"created_at": "2026-03-01 00:30"}),
            _ins("customer", {"name": "K3", "source_channel": "website"},
                 {"created_at": "2026-01-31 23:30"}),
            _ins("customer", {"name": "K4", "source_channel": "website"},
                 {"created_at": "2026-02-01 00:10"}))
    rep = kpis(db, D, ADMIN, make_params("2026-03-31", "2026-02-01", "2026-03-31"))
    cols = [c["key"] for c in rep["tables"]["new_customers"]["columns"]]
    new = {r[0]: dict(zip(cols, r, strict=True)) for r in rep["tables"]["new_customers"]["rows"]}
    assert set(new) == {"2026-02", "2026-03"}
    assert (new["2026-02"]["website"], new["2026-02"]["total"]) == (2, 2)
    assert (new["2026-03"]["referral"], new["2026-03"]["total"]) == (1, 1)


def _order(no: str, customer: str, signed_on: str, amount: float) -> dict[str, Any]:
    return _ins("order", {"order_no": no, "customer": customer, "signed_on": signed_on,
                          "amount": amount, "status": "signed"})


def _money(entity: str, kind: str, day: str, amount: float, **link: str) -> dict[str, Any]:
    if entity == "payment":
        return _ins("payment", {"kind": kind, "paid_on": day, "amount": amount, **link})
    return _ins("invoice", {"invoice_no": f"FP-{uuid.uuid4().hex[:8]}", "kind": kind,
                            "issued_on": day, "amount": amount, **link})


def test_rfm_counts_refunds_and_credit_notes_tied_to_a_customer(db: Database) -> None:
    _import(db, *[_ins("customer", {"name": k}, {"created_at": "2024-01-01"})
                  for k in ("K1", "K2", "K3", "K4")])
    _import(db, _order("o11", "K1", "2026-03-30", 1000), _order("o12", "K1", "2026-03-02", 500),
            _order("o21", "K2", "2026-03-01", 2000), _order("o31", "K3", "2026-01-10", 100),
            _order("o41", "K4", "2025-12-31", 700))
    _import(db,
            _money("payment", "refund", "2026-03-31", 100, order="o11", customer="K1"),
            _money("payment", "refund", "2026-03-10", 500, customer="K2"),
            _money("payment", "payment", "2026-03-05", 2000, customer="K2"),
            _money("invoice", "credit_note", "2026-02-01", 300, customer="K3"),
            _money("payment", "refund", "2026-03-05", 100, order="o41"),
            _money("payment", "refund", "2025-12-01", 50, customer="K4"))
    rep = rfm(db, D, ADMIN, make_params("2026-03-31", window_days=90))
    cols = [c["key"] for c in rep["tables"]["customers"]["columns"]]
    got = {r[1]: dict(zip(cols, r, strict=True)) for r in rep["tables"]["customers"]["rows"]}
    assert {k: (v["recency_days"], v["frequency"], v["monetary"]) for k, v in got.items()} == {
        "K1": (1, 2, 1400.0), "K2": (30, 1, 1500.0), "K3": (80, 1, -200.0),
        "K4": (None, 0, -100.0)}
    assert got["K4"]["segment"] == "no_purchase"
    # as of 2026-02-28 (window 2025-12-01 .. 2026-02-28): K3 01-10 100 less the credit note
    # 300 -> R 49, M -200; K4 2025-12-31 700 less the customer's 50 of 12-01 -> R 59, M 650
    rep = rfm(db, D, ADMIN, make_params("2026-02-28", window_days=90))
    got = {r[1]: dict(zip(cols, r, strict=True)) for r in rep["tables"]["customers"]["rows"]}
    assert {k: (v["recency_days"], v["frequency"], v["monetary"]) for k, v in got.items()} == {
        "K1": (None, 0, 0.0), "K2": (None, 0, 0.0), "K3": (49, 1, -200.0),
        "K4": (59, 1, 650.0)}
