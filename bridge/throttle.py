"""Brute-force throttling of password sign-ins, kept in the database (``sys_signin_failure``)
so that every bridge process on one PostgreSQL counts the same failures, and a restart
forgets none.

Each attempt first records itself as a failure of its user name and of its client address
(after checking that neither has ``Limits`` failures within the window), then checks the
password; a success deletes the user name's failures and its own address row. Recording
before checking means concurrent guesses count too: the check and the insert run under a
lock per subject (``pg_advisory_xact_lock``; SQLite's one writer), never the change counter,
so a running push does not hold up a sign-in. A throttled attempt is answered at once (429,
``Retry-After``: when the oldest counted failure leaves the window) without hashing anything.

Subjects are SHA-256 digests, never the user name or address itself: a password typed into
the user name box must not be kept. Rows older than the window are purged as attempts come
in (``SKIP LOCKED``: a purge never waits for, nor deadlocks with, another attempt).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from bridge.auth import as_utc, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.settings import Settings
from schema.errors import ErrorCode

PURGE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Limits:
    per_user: int
    per_address: int  # 0: addresses are not counted
    window: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(max(1, settings.signin_failures), max(0, settings.signin_address_failures),
                   timedelta(seconds=max(1, settings.signin_window_seconds)))


@dataclass(frozen=True, slots=True)
class Attempt:
    """The rows one running attempt recorded (deleted again when it succeeds)."""

    user_subject: str
    address_row: int | None


def subject(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


def _lock_key(digest: str) -> int:
    """A signed 64-bit advisory lock key for a subject."""
    return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)


@contextmanager
def _locked(db: Database, subjects: Sequence[str]) -> Iterator[Connection]:
    """A transaction holding each subject's lock (in one order: no deadlock)."""
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            for s in sorted(set(subjects)):
                conn.execute(select(func.pg_advisory_xact_lock(_lock_key(s))))
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _purge(db: Database, conn: Connection, cutoff: datetime) -> None:
    t = db.table("sys_signin_failure")
    old = (select(t.c.id).where(t.c.at < cutoff).limit(PURGE_BATCH)
           .with_for_update(skip_locked=True))
    conn.execute(delete(t).where(t.c.id.in_(old.scalar_subquery())))


def _wait(db: Database, conn: Connection, digest: str, limit: int, at: datetime,
          window: timedelta) -> int | None:
    """Seconds until ``digest`` has fewer than ``limit`` failures in the window, or None
    when it has fewer already."""
    t = db.table("sys_signin_failure")
    recent = conn.execute(select(t.c.at).where(t.c.subject == digest, t.c.at > at - window)
                          .order_by(t.c.at.desc()).limit(limit)).scalars().all()
    if len(recent) < limit:
        return None
    free_at = as_utc(recent[-1]) + window
    return max(1, math.ceil((free_at - at).total_seconds()))


def throttled(seconds: int) -> ApiError:
    return ApiError(ErrorCode.SIGNIN_THROTTLED, minutes=max(1, math.ceil(seconds / 60)),
                    headers={"Retry-After": str(seconds)})


def begin(db: Database, limits: Limits, username: str, address: str | None) -> Attempt:
    """Record an attempt as a failure of ``username`` (and ``address``), or raise
    ``SIGNIN_THROTTLED`` when either already has its limit of failures in the window."""
    checks = [(subject("user", username), limits.per_user)]
    if address and limits.per_address:
        checks.append((subject("addr", address), limits.per_address))
    t, at = db.table("sys_signin_failure"), now()
    with _locked(db, [s for s, _ in checks]) as conn:
        _purge(db, conn, at - limits.window)
        for digest, limit in checks:
            wait = _wait(db, conn, digest, limit, at, limits.window)
            if wait is not None:
                raise throttled(wait)
        rows = [conn.execute(insert(t).values(subject=digest, at=at).returning(t.c.id))
                .scalar_one() for digest, _ in checks]
    return Attempt(checks[0][0], int(rows[1]) if len(rows) > 1 else None)


def succeeded(db: Database, conn: Connection, attempt: Attempt) -> None:
    """Forget the user name's failures and this attempt's address row (call inside the
    transaction that issues the token). The address keeps its other failures: one good
    account must not reset a client that guesses at others."""
    t = db.table("sys_signin_failure")
    if db.dialect == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_lock_key(attempt.user_subject))))
    conn.execute(delete(t).where(t.c.subject == attempt.user_subject))
    if attempt.address_row is not None:
        conn.execute(delete(t).where(t.c.id == attempt.address_row))


def unlock(db: Database, conn: Connection, username: str) -> int:
    """Forget every counted failure of ``username``; how many there were."""
    t = db.table("sys_signin_failure")
    res = conn.execute(delete(t).where(t.c.subject == subject("user", username)))
    return int(res.rowcount or 0)


def failures(db: Database, conn: Connection, username: str, window: timedelta) -> int:
    """The failures of ``username`` counted now."""
    t = db.table("sys_signin_failure")
    return int(conn.execute(select(func.count()).select_from(t).where(
        t.c.subject == subject("user", username), t.c.at > now() - window)).scalar_one())
