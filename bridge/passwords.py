"""Passwords: argon2id hashes in ``sys_password``, checked in constant work per attempt.

Parameters (:data:`HASHER`): argon2id, 2 passes over 19 MiB, one lane (the OWASP minimum
for argon2id): about 23 ms of one core per hash on the reference machine
(``python -m bench.bench_passwords``). At most :data:`CONCURRENT` hashes run at once per
process, so a burst of sign-ins queues instead of taking every core and 19 MiB a thread. A
stored hash made with other parameters is re-made on the next successful sign-in.

An unknown user, or one without a password, costs the same verify against a dummy hash, so
the answer's timing does not tell which user names exist. The password itself is never
logged, stored in the clear, put in an error or in the audit trail.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from schema.errors import ErrorCode

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps request bodies honest
CONCURRENT = max(1, os.cpu_count() or 1)
_SLOTS = threading.BoundedSemaphore(CONCURRENT)


# a hash of a random secret nobody kept, made with HASHER's parameters: verified for a user
# without a password so that their answer takes as long as anyone's (remade, once, when the
# parameters change)
_DUMMY = ("$argon2id$v=19$m=19456,t=2,p=1$Nbac3LeJKKonpngJsGhXZg$"
          "+B5mMpvku9y5LebzDgB/wlSvod/Tp4SJJCAy3x/Lai8")


@cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16)) if HASHER.check_needs_rehash(_DUMMY) \
        else _DUMMY


def check_strength(username: str, password: str) -> None:
    """Refuse a password too short, too long or equal to the user name (``PASSWORD_WEAK``)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or \
            password.casefold() == username.casefold():
        raise ApiError(ErrorCode.PASSWORD_WEAK, min=MIN_LENGTH, field="password")


def hash_password(password: str) -> str:
    with _SLOTS:
        return HASHER.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a dummy verify when there is none)."""
    with _SLOTS:
        try:
            return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def set_password(db: Database, conn: Connection, username: str, password: str) -> None:
    """Store a new hash for ``username`` (the old password stops working; a revocation
    ends). ``USER_NOT_FOUND`` for an unknown user, ``PASSWORD_WEAK`` for a weak password."""
    users, pw = db.table("sys_user"), db.table("sys_password")
    if not conn.execute(select(users.c.username).where(users.c.username == username)).first():
        raise ApiError(ErrorCode.USER_NOT_FOUND, user=username)
    check_strength(username, password)
    digest = hash_password(password)
    conn.execute(delete(pw).where(pw.c.username == username))
    conn.execute(insert(pw).values(username=username, hash=digest, changed_at=now()))


@dataclass(frozen=True, slots=True)
class Checked:
    """What a password check found: whether the name is a user's, the user when the
    password matched, whether they may sign in, and a re-made hash when the parameters
    changed."""

    known: bool
    user: User | None = None
    allowed: bool = False
    rehash: tuple[str, str] | None = None  # (the stored hash, its replacement)


def check_password(db: Database, conn: Connection, username: str, password: str) -> Checked:
    """Check ``password`` for ``username`` (the same work whether or not the user exists
    or has a password)."""
    u, pw = db.table("sys_user"), db.table("sys_password")
    row = conn.execute(
        select(u.c.username, u.c.display_name, u.c.role, u.c.team, u.c.region, u.c.active,
               pw.c.hash, pw.c.revoked_at)
        .outerjoin(pw, pw.c.username == u.c.username).where(u.c.username == username)).first()
    stored = row.hash if row is not None else None
    if not _verify(stored, password) or row is None or stored is None:
        return Checked(row is not None)
    user = User(row.username, row.display_name, row.role, row.team, row.region, row.active)
    rehash = (stored, hash_password(password)) if HASHER.check_needs_rehash(stored) else None
    return Checked(True, user, allowed=row.active and row.revoked_at is None, rehash=rehash)


def store_rehash(db: Database, conn: Connection, username: str,
                 rehash: tuple[str, str]) -> None:
    """Replace the stored hash with one made with today's parameters (unless the password
    was changed meanwhile)."""
    pw = db.table("sys_password")
    old, new = rehash
    conn.execute(update(pw).where(pw.c.username == username, pw.c.hash == old)
                 .values(hash=new))
