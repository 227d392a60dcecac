"""Users and bearer tokens: tokens are random, stored only as SHA-256 hashes, expire and
can be revoked. Passwords, exchanged for tokens, are in ``bridge.passwords``."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, insert, select, update

from bridge.db import Database
from bridge.errors import ApiError
from schema.clock import as_utc as as_utc  # re-exported: the clock lived here
from schema.clock import now as now
from schema.errors import ErrorCode
from schema.permissions import role as get_role


@dataclass(frozen=True, slots=True)
class User:
    username: str
    display_name: str
    role: str
    team: str | None
    region: str | None
    active: bool = True

    @property
    def is_admin(self) -> bool:
        return get_role(self.role).admin



def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(db: Database, conn: Connection, username: str, role: str, team: str | None,
             region: str | None, display_name: str | None = None) -> User:
    get_role(role)  # raises UnknownRole for a typo
    t = db.table("sys_user")
    if conn.execute(select(t.c.username).where(t.c.username == username)).first():
        raise ApiError(ErrorCode.USER_EXISTS, user=username)
    user = User(username, display_name or username, role, team, region)
    conn.execute(insert(t).values(username=username, display_name=user.display_name, role=role,
                                  team=team, region=region, active=True, created_at=now()))
    return user


def issue_token(db: Database, conn: Connection, username: str, days: int,
                label: str | None = None) -> str:
    """A new token for ``username``; only its hash is stored, so show it once."""
    users = db.table("sys_user")
    if not conn.execute(select(users.c.username).where(users.c.username == username)).first():
        raise ApiError(ErrorCode.USER_NOT_FOUND, user=username)
    token = "crm_" + secrets.token_urlsafe(32)
    conn.execute(insert(db.table("sys_token")).values(
        username=username, token_hash=hash_token(token), label=label, created_at=now(),
        expires_at=now() + timedelta(days=days)))
    return token


def revoke_user_tokens(db: Database, conn: Connection, username: str) -> int:
    """Revoke every token of ``username`` and their password too (``bridge.passwords``: it
    signs in again only once an admin sets a new one); how many tokens were revoked."""
    t, pw = db.table("sys_token"), db.table("sys_password")
    res = conn.execute(update(t).where(t.c.username == username, t.c.revoked_at.is_(None))
                       .values(revoked_at=now()))
    conn.execute(update(pw).where(pw.c.username == username, pw.c.revoked_at.is_(None))
                 .values(revoked_at=now()))
    return int(res.rowcount or 0)


def authenticate(db: Database, conn: Connection, token: str | None) -> User:
    """The active user holding ``token``, or an AUTH_* error."""
    if not token:
        raise ApiError(ErrorCode.AUTH_REQUIRED, headers={"WWW-Authenticate": "Bearer"})
    t, u = db.table("sys_token"), db.table("sys_user")
    row = conn.execute(
        select(t.c.expires_at, t.c.revoked_at, u.c.username, u.c.display_name, u.c.role,
               u.c.team, u.c.region, u.c.active)
        .join(u, u.c.username == t.c.username).where(t.c.token_hash == hash_token(token))
    ).first()
    if row is None or not row.active:
        raise ApiError(ErrorCode.AUTH_INVALID, headers={"WWW-Authenticate": "Bearer"})
    if row.revoked_at is not None:
        raise ApiError(ErrorCode.AUTH_REVOKED, headers={"WWW-Authenticate": "Bearer"})
    if as_utc(row.expires_at) <= now():
        raise ApiError(ErrorCode.AUTH_EXPIRED, headers={"WWW-Authenticate": "Bearer"})
    return User(row.username, row.display_name, row.role, row.team, row.region, row.active)


def list_users(db: Database, conn: Connection) -> list[User]:
    u = db.table("sys_user")
    return [User(r.username, r.display_name, r.role, r.team, r.region, r.active)
            for r in conn.execute(select(u).order_by(u.c.username))]
