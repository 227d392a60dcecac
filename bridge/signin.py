"""Password sign-in: a user name and password exchanged for an ordinary bridge token.

Order of work: the throttle (``bridge.throttle``: refuse at once when the name or the
address has too many failures, else count this attempt as one), the password check
(``bridge.passwords``: the same work for a user that does not exist), then either the token
(``bridge.auth.issue_token``: revocable like any other) with the failures forgotten, or one
answer for every wrong name or password (``SIGNIN_FAILED``). A right password of a user who
is disabled or whose credentials were revoked gets ``SIGNIN_DISABLED`` and no token.

Audit entries (``sign_in``, ``sign_in_failed``) name the user and the client address; a
failure for a name that is no user is only counted, never written down (it may be a
password typed in the wrong box). The failure's entry is written through ``defer`` (the
route: after the answer is sent), so a known name does not answer later than an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge import audit, passwords, throttle
from bridge.auth import User, issue_token, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.settings import Settings
from bridge.sync.tail import audit_only
from schema.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class Issued:
    user: User
    token: str
    expires: datetime


Defer = Callable[..., None]


def _at_once(fn: Callable[..., None], *args: object) -> None:
    fn(*args)


def sign_in(db: Database, settings: Settings, username: str, password: str,
            days: int | None, address: str | None, defer: Defer = _at_once) -> Issued:
    """A new token for ``username`` when ``password`` is right (see the module docstring)."""
    attempt = throttle.begin(db, throttle.Limits.of(settings), username, address)
    with db.engine.connect() as conn:
        checked = passwords.check_password(db, conn, username, password)
    user = checked.user
    if user is None or not checked.allowed:
        if checked.known:
            defer(record_failure, db, username, address)
        if user is None:
            raise ApiError(ErrorCode.SIGNIN_FAILED)
        raise ApiError(ErrorCode.SIGNIN_DISABLED)
    lifetime = min(days or settings.token_days, settings.token_days)
    with audit_only(db) as conn:
        throttle.succeeded(db, conn, attempt)
        if checked.rehash is not None:
            passwords.store_rehash(db, conn, user.username, checked.rehash)
        token = issue_token(db, conn, user.username, lifetime, label="password sign-in")
        audit.append(db, conn, [audit.Entry(user.username, "sign_in", changes={
            "address": address, "days": lifetime})])
    return Issued(user, token, now() + timedelta(days=lifetime))


def record_failure(db: Database, username: str, address: str | None) -> None:
    """The audit entry of a failed sign-in of a known user."""
    with audit_only(db) as conn:
        audit.append(db, conn, [audit.Entry(username, "sign_in_failed",
                                            changes={"address": address})])
