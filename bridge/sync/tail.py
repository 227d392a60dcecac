"""The audit chain's tail lock: appends to the chain queue on it, and nothing else.

Pushes hold the change counter (``Database.write``) for their whole run; a pull only needs
to append one audit entry, so on PostgreSQL it takes this transaction-level advisory lock
instead, and no longer waits for a running push to finish. Every writer of audit entries
takes it right before appending (``push`` does, under the counter), so the chain still has
exactly one tail. SQLite has a single writer anyway: there a pull's entry is written in an
ordinary write transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, func, select

from bridge.db import Database

AUDIT_TAIL_LOCK = 0x6372_6D5F_7461_696C  # pg_advisory_xact_lock key ("crm_tail")


def lock_audit_tail(db: Database, conn: Connection) -> None:
    """Queue for the audit tail until this transaction ends (PostgreSQL; SQLite's write
    transaction already excludes every other writer)."""
    if db.dialect == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(AUDIT_TAIL_LOCK)))


@contextmanager
def audit_only(db: Database) -> Iterator[Connection]:
    """A transaction for appending audit entries and nothing else: it holds the tail lock,
    not the change counter (on SQLite: an ordinary write transaction)."""
    if db.dialect != "postgresql":
        with db.write() as conn:
            yield conn
        return
    with db.engine.begin() as conn:
        lock_audit_tail(db, conn)
        yield conn
