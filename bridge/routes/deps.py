"""Shared route dependencies: the app's database and dictionary, the signed-in user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import AfterValidator

from bridge import limits
from bridge.auth import User, authenticate
from bridge.db import Database
from bridge.errors import ApiError
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.limits import type_limit
from schema.wire import storable_text


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_dictionary(request: Request) -> Dictionary:
    d: Dictionary = request.app.state.dictionary
    return d


def current_user(request: Request) -> User:
    """The token's user; the request counted against its rate limits (``bridge.limits``:
    the token's and the address's, the address's alone when the token is refused)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    db, address = get_db(request), request.client.host if request.client else None
    with db.engine.connect() as conn:
        try:
            user = authenticate(db, conn, bearer)
        except ApiError:
            limits.count(db, conn, request.app.state.settings, None, None, address)
            raise
        limits.count(db, conn, request.app.state.settings, user, bearer, address)
    return user


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise ApiError(ErrorCode.ADMIN_ONLY)
    return user


DB = Annotated[Database, Depends(get_db)]
Dict = Annotated[Dictionary, Depends(get_dictionary)]
CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]


# every text parameter carries it: text the store cannot hold is a 422 naming the parameter
STORABLE = AfterValidator(storable_text)


def column_max(column: Any) -> int:
    """The largest integer an integer column holds (an id parameter beyond it names
    nothing, and must not reach the database: PostgreSQL refuses it)."""
    top = type_limit(column.type).max_value
    assert top is not None, column
    return int(top)
