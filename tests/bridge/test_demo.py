"""The demo data tells the truth about time: customers and deals carry an admin's history
import over about 18 months, so monthly charts have one bar per month and cycle times are
real; the sellers own what the admin imported; the demo is the same for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge.db import Database, connect, create_schema
from bridge.demo import DAYS_BACK, USERS, seed
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from schema.enums import CLOSED_STAGES

TODAY = date(2026, 3, 31)


def _seeded(tmp_path: Path, name: str) -> Database:
    d = build_dictionary()
    db = connect(Settings(database_url=f"sqlite:///{tmp_path / name}"), d)
    create_schema(db)
    seed(db, d, customers=60, today=TODAY)
    return db


def _rows(db: Database, table: str, *cols: str) -> list[Any]:
    t = db.table(table)
    with db.read() as conn:
        return list(conn.execute(select(*(t.c[c] for c in cols)).order_by(*(
            t.c[c] for c in cols))))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_customers_and_deals_spread_over_the_months_with_true_stage_days(
        tmp_path: Path) -> None:
    db = _seeded(tmp_path, "demo.db")
    customers = _rows(db, "crm_customer", "created_at", "owner", "team", "region")
    months = Counter(f"{_utc(c.created_at):%Y-%m}" for c in customers)
    assert len(months) >= 12, months  # 60 customers over 18 months: most months have some
    first = min(_utc(c.created_at) for c in customers).date()
    assert (TODAY - first).days <= DAYS_BACK + 1
    sellers = {u[0]: (u[3], u[4]) for u in USERS if u[2] == "sales"}
    assert {c.owner for c in customers} == set(sellers)  # the admin imported, sellers own
    assert all((c.team, c.region) == sellers[c.owner] for c in customers)

    deals = {r.id: r for r in _rows(db, "crm_opportunity", "id", "stage", "created_at",
                                    "customer")}
    born = {r.id: _utc(r.created_at) for r in _rows(db, "crm_customer", "id", "created_at")}
    history: dict[str, list[tuple[datetime, str]]] = {}
    for h in _rows(db, "sys_stage_history", "opportunity_id", "entered_at", "stage"):
        history.setdefault(h.opportunity_id, []).append((_utc(h.entered_at), h.stage))
    assert set(history) == set(deals)
    close_months = set()
    for oid, steps in history.items():
        deal = deals[oid]
        assert steps[-1][1] == deal.stage  # the last stage entered is the deal's stage
        assert steps[0][0] == _utc(deal.created_at)  # created the day its first stage began
        assert steps[0][0] >= born[deal.customer]  # never before its customer
        assert steps[-1][0].date() < TODAY  # nothing in the future of the demo's today
        if deal.stage in CLOSED_STAGES:
            assert len(steps) >= 2 and (steps[-1][0] - steps[0][0]).days >= 3  # a real cycle
            close_months.add(f"{steps[-1][0]:%Y-%m}")
    assert len(close_months) >= 6, close_months


def test_the_same_seed_gives_the_same_demo(tmp_path: Path) -> None:
    one, two = _seeded(tmp_path, "one.db"), _seeded(tmp_path, "two.db")
    cols = ("name", "created_at", "owner", "industry")
    assert _rows(one, "crm_customer", *cols) == _rows(two, "crm_customer", *cols)
    deal_cols = ("name", "stage", "amount", "created_at")
    assert _rows(one, "crm_opportunity", *deal_cols) == _rows(two, "crm_opportunity",
                                                               *deal_cols)
