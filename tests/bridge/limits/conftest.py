"""Bridges with their limits set low: ``bridges(settings, n)`` serves ``n`` apps on one
database (each its own engine and pool, as separate bridge processes have)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from bridge.app import create_app
from bridge.auth import add_user, issue_token
from bridge.db import Database, connect
from bridge.server import serve_in_thread
from bridge.settings import Settings
from schema.dictionary import build_dictionary

D = build_dictionary()


@dataclass
class Bridges:
    urls: list[str]
    db: Database
    settings: Settings

    def user(self, username: str, role: str = "sales", region: str | None = "east") -> str:
        """A new user's token (written straight into the database)."""
        with self.db.write() as conn:
            add_user(self.db, conn, username, role, "t1", region)
            return issue_token(self.db, conn, username, days=1)

    def client(self, i: int, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.urls[i] + "/api/v1", headers=headers, timeout=60)


@contextmanager
def bridges(settings: Settings, n: int = 1) -> Iterator[Bridges]:
    dbs = [connect(settings, D) for _ in range(n)]
    try:
        with ExitStack() as stack:
            urls = [stack.enter_context(serve_in_thread(create_app(settings, D, db)))
                    for db in dbs]
            yield Bridges(urls, dbs[0], settings)
    finally:
        for db in dbs:
            db.engine.dispose()
