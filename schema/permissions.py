"""Roles and their default permissions: row scope per entity and access per field.

A role's entry gives, per module, the row scope and the default field access; a field's own
``access`` map (declared in the dictionary) overrides the default for that role.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.types import Access, Entity, Field, Scope


@dataclass(frozen=True, slots=True)
class Role:
    code: str
    zh: str
    en: str
    # module -> (row scope, default field access); modules not listed are NONE/HIDDEN
    modules: dict[str, tuple[Scope, Access]]
    admin: bool = False


_W, _R = Access.WRITE, Access.READ
ALL_MODULES = ("customers", "opportunities", "interactions")

ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("sales", "销售", "Sales", {m: (Scope.OWN, _W) for m in ALL_MODULES}),
        Role("manager", "销售经理", "Sales manager", {m: (Scope.REGION, _W) for m in ALL_MODULES}),
        Role("admin", "管理员", "Administrator", {m: (Scope.ALL, _W) for m in ALL_MODULES},
             admin=True),
        Role("finance", "财务(只读)", "Finance (read-only)",
             {m: (Scope.ALL, _R) for m in ALL_MODULES}),
        Role("support", "客服(只读)", "Support (read-only)",
             {"customers": (Scope.REGION, _R), "interactions": (Scope.REGION, _R)}),
    )
}


class UnknownRole(ValueError):
    pass


def role(code: str) -> Role:
    try:
        return ROLES[code]
    except KeyError:
        raise UnknownRole(f"unknown role {code!r}; roles: {', '.join(ROLES)}") from None


def row_scope(role_code: str, entity: Entity) -> Scope:
    return role(role_code).modules.get(entity.module, (Scope.NONE, Access.HIDDEN))[0]


def field_access(role_code: str, entity: Entity, f: Field) -> Access:
    r = role(role_code)
    scope, default = r.modules.get(entity.module, (Scope.NONE, Access.HIDDEN))
    if scope is Scope.NONE:
        return Access.HIDDEN
    access = f.access.get(role_code, default)
    # a field override can narrow a role's access, never widen it past the module default
    order = [Access.HIDDEN, Access.READ, Access.WRITE]
    return min(access, default, key=order.index)


def visible_fields(role_code: str, entity: Entity) -> list[Field]:
    return [f for f in entity.fields if field_access(role_code, entity, f) is not Access.HIDDEN]


def writable_fields(role_code: str, entity: Entity) -> set[str]:
    return {f.code for f in entity.fields if field_access(role_code, entity, f) is Access.WRITE}
