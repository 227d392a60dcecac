"""Rate limits per token and per client address, counted in the database (``sys_rate_window``)
so that every bridge process on one database counts the same requests.

Counting is in fixed windows of ``rate_window_seconds``: one row per subject and window,
one upsert per request (``INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING``,
on PostgreSQL and SQLite alike), both subjects of a request in one statement, in one order
(no deadlock between two processes). A request over a limit is answered ``429
RATE_LIMITED`` naming the limit, with ``Retry-After``: the seconds until its window ends.
Refused requests count too, so a client that ignores ``Retry-After`` stays refused until
the window turns, and no longer.

The limit of a token is its user's role's (``rate_role_requests``, else
``rate_token_requests``); the client address has one limit (``rate_address_requests``);
0 turns a count off. Subjects are SHA-256 digests (``bridge.throttle.subject``, as the
sign-in throttle keeps them): a token or an address is never stored. On PostgreSQL the
count commits without waiting for its WAL flush (``synchronous_commit = off`` for that
transaction): a crash may forget the last few counts, never corrupt them. The first request of
a subject in a new window purges windows that have ended (``SKIP LOCKED``, as the
throttle purges). Only signed-in routes are counted (``bridge.routes.deps.current_user``
calls :func:`count`): health, the OpenAPI document and the docs are not; a request with a
bad token counts against its address.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, tuple_

from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError
from bridge.settings import Settings
from bridge.throttle import PURGE_BATCH, subject
from schema.errors import ErrorCode
from schema.permissions import ROLES


@dataclass(frozen=True, slots=True)
class Key:
    """One counted subject of a request, its limit and how the message names it."""

    subject: str
    limit: int
    zh: str
    en: str


def token_limit(settings: Settings, role: str) -> int:
    """Requests per window for a token of a user with ``role``."""
    return max(0, settings.rate_role_requests.get(role, settings.rate_token_requests))


def keys(settings: Settings, user: User | None, token: str | None,
         address: str | None) -> list[Key]:
    """The subjects a request counts against (sorted: one lock order everywhere)."""
    out = []
    if user is not None and token:
        limit = token_limit(settings, user.role)
        r = ROLES.get(user.role)
        if limit:
            out.append(Key(subject("token", token), limit,
                           f"此令牌（角色“{r.zh if r else user.role}”）",
                           f"token (role {r.en if r else user.role})"))
    if address and settings.rate_address_requests > 0:
        out.append(Key(subject("addr", address), settings.rate_address_requests,
                       f"客户端地址 {address} ", f"client address {address}"))
    return sorted(out, key=lambda k: k.subject)


@functools.cache
def _upsert(dialect: str, n: int) -> str:
    """The upsert of ``n`` subjects as driver SQL: built by SQLAlchemy it costs ~300 us of
    Python per request, sent as it is ~60 us (SQLite, measured by bench.bench_limits)."""
    mark = "?" if dialect == "sqlite" else "%s"
    values = ", ".join(f"({mark}, {mark}, 1)" for _ in range(n))
    return (f"INSERT INTO sys_rate_window (subject, window_start, hits) VALUES {values} "
            "ON CONFLICT (subject, window_start) DO UPDATE "
            "SET hits = sys_rate_window.hits + 1 RETURNING subject, hits")


def _purge(db: Database, conn: Connection, before: int) -> None:
    t = db.table("sys_rate_window")
    old = (select(t.c.subject, t.c.window_start).where(t.c.window_start < before)
           .limit(PURGE_BATCH).with_for_update(skip_locked=True))
    conn.execute(delete(t).where(tuple_(t.c.subject, t.c.window_start).in_(old)))


def hit(db: Database, conn: Connection, counted: list[Key], window: int,
        at: float | None = None) -> None:
    """Count one request against each key (committing ``conn``); raise ``RATE_LIMITED``
    naming the first key over its limit."""
    if not counted:
        return
    at = time.time() if at is None else at
    start = int(at // window) * window
    params = tuple(v for k in counted for v in (k.subject, start))
    if db.dialect == "postgresql":  # a count lost in a crash is harmless: no WAL flush
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
    hits = {str(s): int(n) for s, n in
            conn.exec_driver_sql(_upsert(db.dialect, len(counted)), params)}
    if any(n == 1 for n in hits.values()):
        _purge(db, conn, start)
    conn.commit()
    for k in counted:
        if hits.get(k.subject, 0) > k.limit:
            wait = max(1, math.ceil(start + window - at))
            raise ApiError(ErrorCode.RATE_LIMITED, retry_after=wait, max=k.limit,
                           window=window, zh={"limit": k.zh}, en={"limit": k.en},
                           headers={"Retry-After": str(wait)})


def count(db: Database, conn: Connection, settings: Settings, user: User | None,
          token: str | None, address: str | None) -> None:
    """Count a request of ``user`` (None: its token was refused) from ``address``."""
    hit(db, conn, keys(settings, user, token, address), max(1, settings.rate_window_seconds))
