"""Row scopes as SQL filters and as checks on a row, from ``schema.permissions``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from bridge.auth import User
from schema.permissions import row_scope
from schema.types import Entity, Scope


def scope_filter(user: User, entity: Entity, table: Table) -> ColumnElement[bool]:
    """SQL condition: the row lies in ``user``'s scope (tombstones are not excluded here)."""
    scope = row_scope(user.role, entity)
    c = table.c
    if scope is Scope.ALL:
        return true()
    if scope is Scope.REGION:
        return c.region == user.region if user.region else false()
    if scope is Scope.TEAM:
        return c.team == user.team if user.team else false()
    if scope is Scope.OWN:
        own = c.owner == user.username
        return or_(own, and_(c.shared.is_(True), c.team == user.team)) if user.team else own
    return false()


def in_scope(user: User, entity: Entity, row: dict[str, Any]) -> bool:
    """Python twin of :func:`scope_filter` for a row held in memory."""
    scope = row_scope(user.role, entity)
    if scope is Scope.ALL:
        return True
    if scope is Scope.REGION:
        return bool(user.region) and row.get("region") == user.region
    if scope is Scope.TEAM:
        return bool(user.team) and row.get("team") == user.team
    if scope is Scope.OWN:
        return row.get("owner") == user.username or (
            bool(user.team) and bool(row.get("shared")) and row.get("team") == user.team)
    return False
