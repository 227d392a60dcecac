"""Shared route dependencies: the app's database and dictionary, the signed-in user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import AfterValidator

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
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    db = get_db(request)
    with db.engine.connect() as conn:
        return authenticate(db, conn, token.strip() if scheme.lower() == "bearer" else None)


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
