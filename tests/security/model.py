"""The permission rules as the probes expect them, written from the definitions of
``schema.permissions`` (row scopes, field access) and not from ``bridge.permissions``, and
the probes' own copy of every stored row (what the bridge should hold)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from schema.dictionary import build_dictionary
from schema.permissions import field_access, role, row_scope
from schema.sql import RECORD_COLUMNS
from schema.types import Access, Entity, FieldType, Scope

DICT = build_dictionary()
ROLES = ["sales", "manager", "admin", "finance", "support"]
TEAMS = ["t1", "t2", None]
REGIONS = ["east", "north", None]
ROW_REGIONS = ["east", "north", "south", None]
ENTITIES = ["customer", "contact", "opportunity", "ticket"]
STRANGER = "stranger"  # an owner who is no user
# fields a probe may write: plain ones, ones hidden for some roles, the scope fields
_WRITABLE_TYPES = {FieldType.TEXT, FieldType.ENUM, FieldType.BOOLEAN, FieldType.MONEY}
_SKIP = {"name", "subject", "uscc", "order_no", "invoice_no"}  # keys and matching names
SYSTEM = [c for c in RECORD_COLUMNS if c != "id"]  # never writable through a push (API3)


@dataclass(frozen=True)
class ProbeUser:
    username: str
    role: str
    team: str | None
    region: str | None
    token: str = ""

    @property
    def admin(self) -> bool:
        return role(self.role).admin


def visible(user: ProbeUser, entity: Entity, row: dict[str, Any]) -> bool:
    """The row lies in the user's scope (the definitions of :class:`schema.types.Scope`)."""
    scope = row_scope(user.role, entity)
    if scope is Scope.ALL:
        return True
    if scope is Scope.REGION:
        return user.region is not None and row.get("region") == user.region
    if scope is Scope.TEAM:
        return user.team is not None and row.get("team") == user.team
    if scope is Scope.OWN:
        return row.get("owner") == user.username or (
            user.team is not None and row.get("shared") is True
            and row.get("team") == user.team)
    return False


def readable(user: ProbeUser, entity: Entity) -> list[str]:
    """The pull's columns for the user: id, version and every field not hidden."""
    return ["id", "version", *(f.code for f in entity.fields
                               if field_access(user.role, entity, f) is not Access.HIDDEN)]


def writable(user: ProbeUser, entity: Entity) -> set[str]:
    return {f.code for f in entity.fields if field_access(user.role, entity, f) is Access.WRITE}


def write_refusals(user: ProbeUser, entity: Entity, values: dict[str, Any],
                   before: dict[str, Any] | None, after: dict[str, Any] | None) -> set[str]:
    """The codes that may refuse a write (empty: the bridge must take it)."""
    can = writable(user, entity)
    if row_scope(user.role, entity) is Scope.NONE or not can:
        return {"ROW_OUT_OF_SCOPE"}
    reasons = set()
    if before is not None and not visible(user, entity, before):
        reasons.add("ROW_NOT_FOUND")
    defaults = {"owner": user.username, "team": user.team, "region": user.region,
                "shared": False}
    for code, v in values.items():
        if code in SYSTEM or code not in entity.field_codes():
            reasons.add("UNKNOWN_FIELD")
        elif code not in can and not (before is None and code in defaults
                                      and v in (None, defaults[code])):
            reasons.add("FIELD_READ_ONLY")
    if after is not None and not visible(user, entity, after):
        reasons.add("ROW_OUT_OF_SCOPE")
    return reasons


def probe_fields(entity: Entity) -> list[str]:
    """The fields a random write picks from (system columns included: they must refuse)."""
    codes = [f.code for f in entity.fields if f.type in _WRITABLE_TYPES and f.code not in _SKIP]
    return [*codes, *SYSTEM[:3]]


def random_value(rng: random.Random, entity: Entity, code: str, users: list[ProbeUser]) -> Any:
    """A value the field's parser takes (so a refusal is about permission, not format)."""
    if code == "owner":
        return rng.choice([*(u.username for u in users), STRANGER])
    if code == "team":
        return rng.choice(TEAMS)
    if code == "region":
        return rng.choice(ROW_REGIONS)
    if code in SYSTEM:
        return rng.choice([1, 99, True, "x"])
    f = entity.field(code)
    if f.type is FieldType.BOOLEAN:
        return rng.random() < 0.5
    if f.type is FieldType.MONEY:
        return float(rng.randrange(0, 10_000) * 10)
    if f.type is FieldType.ENUM:
        assert f.enum is not None
        return None if not f.required and rng.random() < 0.1 else rng.choice(f.enum.values).code
    return f"p{rng.randrange(10**9)}"


@dataclass
class Store:
    """The probes' copy of the records: entity -> id -> full values (with ``version``)."""

    rows: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {e: {} for e in ENTITIES})

    def live(self, entity: str) -> list[str]:
        return sorted(i for i, r in self.rows[entity].items() if not r.get("deleted"))

    def visible_ids(self, user: ProbeUser, entity: str) -> set[str]:
        e = DICT.entity(entity)
        return {i for i, r in self.rows[entity].items()
                if not r.get("deleted") and visible(user, e, r)}

    def load_pull(self, body: dict[str, Any]) -> None:
        """Take an admin's full pull (every row, every column) as the truth."""
        for entity in ENTITIES:
            ent = body["entities"][entity]
            data = ent["data"]
            self.rows[entity] = {
                rid: {c: data[c][i] for c in ent["columns"]}
                for i, rid in enumerate(data["id"])}
