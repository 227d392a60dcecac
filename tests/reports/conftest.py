"""The three reports over the hand-made fixtures, computed once per module (the report
sheets' tests render them)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.auth import User
from bridge.db import connect, create_schema
from bridge.reports.funnel import funnel
from bridge.reports.kpis import kpis
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from tests.reports.fixtures import seed_funnel, seed_sales

Reports = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
REPORTS_ADMIN = User("admin", "admin", "admin", None, None)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """(funnel, rfm, kpis) as of 2026-03-31 over the fixtures, on SQLite."""
    d = build_dictionary()
    db = connect(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('r')}/r.db"), d)
    create_schema(db)
    seed_funnel(db)
    seed_sales(db)
    out = (funnel(db, d, REPORTS_ADMIN, make_params("2026-03-31")),
           rfm(db, d, REPORTS_ADMIN, make_params("2026-03-31", window_days=90)),
           kpis(db, d, REPORTS_ADMIN, make_params("2026-03-31", "2026-01-01", "2026-03-31")))
    db.engine.dispose()
    return out
