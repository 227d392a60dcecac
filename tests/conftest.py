"""Shared fixtures: a database per test on SQLite or PostgreSQL, and a real bridge server
(uvicorn on a free loopback port) with an admin token."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bridge.db import Database, connect, create_schema
from bridge.server import app_with_admin, serve_in_thread
from bridge.settings import Settings
from schema.dictionary import build_dictionary

PG_URL = os.environ.get("CRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_unreachable_reason() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                             connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: skip, saying why
        return f"PostgreSQL not reachable at 127.0.0.1:5432/test ({exc.__class__.__name__}: {exc})"


_PG_REASON = pg_unreachable_reason()


def _drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                         autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_settings(backend: str, tmp_path: Path, **kw: object) -> Settings:
    """Settings for a fresh, private database on ``backend``."""
    if backend == "postgres":
        if _PG_REASON:
            pytest.skip(_PG_REASON)
        return Settings(database_url=PG_URL, database_schema=f"t_{uuid.uuid4().hex[:12]}",
                        **kw)  # type: ignore[arg-type]
    return Settings(database_url=f"sqlite:///{tmp_path / 'crm.db'}", **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    s = make_settings(backend, tmp_path)
    yield s
    if s.database_schema:
        _drop_pg_schema(s.database_schema)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    d = connect(settings, build_dictionary())
    create_schema(d, settings.database_schema)
    yield d
    d.engine.dispose()


@dataclass
class LiveBridge:
    url: str
    admin_token: str
    settings: Settings
    db: Database

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=60)

    def make_user(self, username: str, role: str, team: str | None = None,
                  region: str | None = None) -> str:
        """Create a user through the admin API; returns their token."""
        with self.client() as c:
            r = c.post("/users", json={"username": username, "role": role, "team": team,
                                       "region": region})
            r.raise_for_status()
            return str(r.json()["token"])


@contextmanager
def start_bridge(settings: Settings) -> Iterator[LiveBridge]:
    """A bridge with an admin user, served on a free loopback port until the block ends."""
    app, database, token = app_with_admin(settings)
    try:
        with serve_in_thread(app) as url:
            yield LiveBridge(url, token, settings, database)
    finally:
        database.engine.dispose()


def _live(settings: Settings) -> Iterator[LiveBridge]:
    with start_bridge(settings) as bridge:
        yield bridge


@pytest.fixture
def live_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """A real bridge on SQLite (the embedded default)."""
    yield from _live(make_settings("sqlite", tmp_path))


@pytest.fixture
def live_bridge_any(settings: Settings) -> Iterator[LiveBridge]:
    """A real bridge on each backend (SQLite and PostgreSQL)."""
    yield from _live(settings)


# --- the quick loop stays quick -------------------------------------------------------------
# Tests over ~20 s carry ``@pytest.mark.slow`` (or ``stress``) so ``./scripts/test --quick``
# can skip them. Nothing here asserts on time: a test that ran longer than SLOW_SECONDS without
# either mark is named in the terminal summary, for a person to decide.

SLOW_SECONDS = 20.0
_UNMARKED_SLOW: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or report.duration < SLOW_SECONDS:
        return
    if not {"slow", "stress"} & set(report.keywords):
        _UNMARKED_SLOW.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _UNMARKED_SLOW:
        return
    terminalreporter.section(f"tests over {SLOW_SECONDS:.0f} s not marked slow or stress")
    for nodeid, seconds in sorted(_UNMARKED_SLOW, key=lambda x: -x[1]):
        terminalreporter.line(f"{seconds:7.1f} s  {nodeid}")


@pytest.fixture
def fixed_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The add-in's clock stamps fixed (``tests.payload.hosts.FixedClock``): two copies of a
    workbook run the same commands and send the same new ids."""
    from addin import commands
    from tests.payload.hosts import FixedClock

    monkeypatch.setattr(commands, "clock", FixedClock)
