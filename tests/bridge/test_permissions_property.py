"""Property: random users and random data owned by random users, on SQLite and PostgreSQL.

No pull ever returns a row outside the caller's scope or a hidden field, every in-scope
row is returned, and no out-of-scope or read-only write is accepted (a write is in scope
when the row is in the writer's scope before the change, and after it).

The expected outcome is computed here from ``schema.permissions`` (row scopes and field
access) independently of ``bridge.permissions``, which is also checked against it.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from bridge.auth import User, add_user
from bridge.db import Database
from bridge.errors import ApiError
from bridge.permissions import in_scope
from bridge.sync.pull import pull
from bridge.sync.push import push
from schema.dictionary import DICTIONARY_VERSION, Dictionary, build_dictionary
from schema.permissions import row_scope, visible_fields, writable_fields
from schema.sql import table_name
from schema.types import Entity, Scope
from schema.wire import PushRequest

EXAMPLES = int(os.environ.get("CRM_PERM_EXAMPLES", "15"))
ROLES = ["sales", "manager", "admin", "finance", "support"]
TEAMS = ["t1", "t2", None]
REGIONS = ["east", "north", None]
ROW_REGIONS = ["east", "north", "south", None]
ENTITIES = ["customer", "contact", "opportunity"]
# fields a write may touch (a mix of plain, hidden-for-some and scope fields)
WRITE_FIELDS = {
    "customer": ["notes", "address", "decision_chain", "owner", "team", "region", "shared"],
    "contact": ["title", "wechat", "notes", "owner", "team", "region", "shared"],
    "opportunity": ["notes", "amount", "next_followup_plan", "owner", "team", "region",
                    "shared"],
}
DICT = build_dictionary()
ADMIN = User("root", "root", "admin", None, None)


def expected_visible(user: User, entity: Entity, row: dict[str, Any]) -> bool:
    """The scope rule, from the definitions of :class:`schema.types.Scope`."""
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


def do_push(db: Database, user: User, *rows: dict[str, Any]) -> dict[str, Any]:
    req = PushRequest(idempotency_key=f"k-{uuid.uuid4().hex}", template_version=DICTIONARY_VERSION,
                      rows=list(rows))
    return push(db, DICT, user, req, 10_000).model_dump()


def reset(db: Database) -> None:
    with db.write() as conn:
        for t in reversed(db.metadata.sorted_tables):
            if t.name != "sys_counter":
                conn.execute(sql_delete(t))


def server_rows(db: Database, dictionary: Dictionary, entity: str) -> dict[str, dict[str, Any]]:
    """Every live row of ``entity`` (all columns) as the database holds it."""
    t = db.table(table_name(entity))
    with db.read() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(t).where(
            t.c.deleted.is_(False)))}


@dataclass
class World:
    users: list[User]
    customers: list[dict[str, Any]]  # scope-field specs per customer
    children: list[tuple[str, int, dict[str, Any]]]  # (entity, customer index, spec)
    writes: list[dict[str, Any]]


spec_st = st.fixed_dictionaries({
    "owner": st.integers(0, 6),  # an index into users; past the end: nobody we know
    "team": st.sampled_from(TEAMS),
    "region": st.sampled_from(ROW_REGIONS),
    "shared": st.booleans(),
})
user_st = st.tuples(st.sampled_from(ROLES), st.sampled_from(TEAMS), st.sampled_from(REGIONS))
write_st = st.fixed_dictionaries({
    "user": st.integers(0, 5),
    "op": st.sampled_from(["update", "update", "update", "insert", "delete"]),
    "entity": st.sampled_from(ENTITIES),
    "target": st.integers(0, 100),
    "field": st.integers(0, 6),
    "value": st.integers(0, 10),
    "spec": st.one_of(st.none(), spec_st),
})


@st.composite
def worlds(draw: st.DrawFn) -> World:
    users = [User(f"u{i}", f"u{i}", r, t, g)
             for i, (r, t, g) in enumerate(draw(st.lists(user_st, min_size=2, max_size=5)))]
    customers = draw(st.lists(spec_st, min_size=1, max_size=6))
    children = draw(st.lists(st.tuples(st.sampled_from(["contact", "opportunity"]),
                                       st.integers(0, len(customers) - 1), spec_st),
                             max_size=6))
    writes = draw(st.lists(write_st, min_size=1, max_size=12))
    return World(users, customers, children, writes)


def owner_of(world: World, i: int) -> str:
    return world.users[i].username if i < len(world.users) else "stranger"


def scope_values(world: World, spec: dict[str, Any]) -> dict[str, Any]:
    return {"owner": owner_of(world, spec["owner"]), "team": spec["team"],
            "region": spec["region"], "shared": spec["shared"]}


def value_for(world: World, field: str, n: int) -> Any:
    if field == "owner":
        return owner_of(world, n % 7)
    if field == "team":
        return TEAMS[n % 3]
    if field == "region":
        return ROW_REGIONS[n % 4]
    if field == "shared":
        return bool(n % 2)
    if field == "amount":
        return float(n * 100)
    return f"v{n}-{uuid.uuid4().hex[:6]}"


def check_pulls(db: Database, world: World, since: int | None = None) -> None:
    for user in world.users:
        got = pull(db, DICT, user, since)
        for entity in DICT:
            t = db.table(table_name(entity.code))
            scope = row_scope(user.role, entity)
            if scope is Scope.NONE:
                assert entity.code not in got["entities"], (user, entity.code)
                continue
            ent = got["entities"][entity.code]
            want_cols = ["id", "version", *(f.code for f in visible_fields(user.role, entity))]
            assert ent["columns"] == want_cols
            assert set(ent["data"]) == set(want_cols)
            hidden = {f.code for f in entity.fields} - set(want_cols)
            assert not hidden & set(ent["data"]), (user, entity.code, hidden)
            with db.read() as conn:
                rows = {r.id: dict(r._mapping) for r in conn.execute(select(t))}
            for r in rows.values():
                assert in_scope(user, entity, r) == expected_visible(user, entity, r), (user, r)
            visible = {i for i, r in rows.items()
                       if not r["deleted"] and expected_visible(user, entity, r)}
            ids = ent["data"]["id"]
            assert len(ids) == len(set(ids))
            if since is None:
                assert set(ids) == visible, (user, entity.code, set(ids) ^ visible)
                assert ent["removed"] == []
            else:
                changed = {i for i, r in rows.items() if r["change_seq"] > since}
                assert set(ids) == changed & visible, (user, entity.code)
                assert set(ent["removed"]) == changed - visible, (user, entity.code)
            # each shown value is the stored one (no leaking through other columns)
            for i, rid in enumerate(ids):
                for code in ("owner", "team", "region"):
                    assert ent["data"][code][i] == rows[rid][code]


def expect_write(user: User, entity: Entity, fields: dict[str, Any], before: dict[str, Any]
                 | None, after: dict[str, Any] | None) -> set[str]:
    """The rejection codes that apply to a write (empty: it must be accepted); the bridge
    must answer with at least one of them."""
    writable = writable_fields(user.role, entity)
    if row_scope(user.role, entity) is Scope.NONE or not writable:
        return {"ROW_OUT_OF_SCOPE"}
    reasons = set()
    if before is not None and not expected_visible(user, entity, before):
        reasons.add("ROW_NOT_FOUND")
    defaults = {"owner": user.username, "team": user.team, "region": user.region,
                "shared": False}
    for code, v in fields.items():
        if code not in writable and not (before is None and code in defaults
                                         and v in (None, defaults[code])):
            reasons.add("FIELD_READ_ONLY")
    if after is not None and not expected_visible(user, entity, after):
        reasons.add("ROW_OUT_OF_SCOPE")
    return reasons


def apply_writes(db: Database, world: World) -> None:
    for n, w in enumerate(world.writes):
        user = world.users[w["user"] % len(world.users)]
        entity = DICT.entity(w["entity"])
        rows = server_rows(db, DICT, entity.code)
        if w["op"] == "insert":
            entity = DICT.entity("customer")
            values: dict[str, Any] = {"name": f"new-{n}-{uuid.uuid4().hex[:8]}"}
            if w["spec"] is not None:
                sv = scope_values(world, w["spec"])
                keep = [c for i, c in enumerate(sv) if (w["value"] >> i) & 1]
                values.update({c: sv[c] for c in keep})
            after = {"owner": user.username, "team": user.team, "region": user.region,
                     "shared": False}
            after.update({k: v for k, v in values.items() if k in after and v is not None})
            want = expect_write(user, entity, values, None, after)
            rid = str(uuid.uuid4())
            res = do_push(db, user, {"op": "insert", "entity": "customer", "id": rid,
                                     "values": values})["results"][0]
        elif not rows:
            continue
        else:
            rid = sorted(rows)[w["target"] % len(rows)]
            before = rows[rid]
            if w["op"] == "delete":
                if entity.code == "customer":
                    continue  # customers have children here; deletes of leaves only
                want = expect_write(user, entity, {}, before, None)
                res = do_push(db, user, {"op": "delete", "entity": entity.code, "id": rid,
                                         "base_version": before["version"]})["results"][0]
            else:
                fcode = WRITE_FIELDS[entity.code][w["field"]]
                value = value_for(world, fcode, w["value"])
                after = dict(before)
                after[fcode] = value
                if value == before[fcode]:
                    continue
                want = expect_write(user, entity, {fcode: value}, before, after)
                res = do_push(db, user, {
                    "op": "update", "entity": entity.code, "id": rid,
                    "base_version": before["version"], "values": {fcode: value},
                    "base": {fcode: before[fcode]}})["results"][0]
        now = server_rows(db, DICT, entity.code)
        if not want:
            assert res["status"] == "applied", (user, w, res)
        else:
            assert res["status"] == "rejected", (user, w, want, res)
            assert want & {e["code"] for e in res["errors"]}, (user, w, want, res)
            if w["op"] == "insert":
                assert rid not in now
            else:
                assert now.get(rid) == rows[rid], (user, w)  # untouched


def build(db: Database, world: World) -> None:
    reset(db)
    with db.write() as conn:
        add_user(db, conn, ADMIN.username, "admin", None, None)
        for u in world.users:
            add_user(db, conn, u.username, u.role, u.team, u.region)
    rows: list[dict[str, Any]] = []
    names = []
    for i, spec in enumerate(world.customers):
        names.append(f"客户{i}-{uuid.uuid4().hex[:6]}")
        rows.append({"op": "insert", "entity": "customer", "id": str(uuid.uuid4()),
                     "values": {"name": names[i], "decision_chain": "CEO",
                                **scope_values(world, spec)}})
    for ent, ci, spec in world.children:
        values = {"customer": names[ci], "name": f"{ent}-{uuid.uuid4().hex[:6]}",
                  **scope_values(world, spec)}
        if ent == "contact":
            values["wechat"] = "wx1"
        else:
            values["stage"] = "proposal"
        rows.append({"op": "insert", "entity": ent, "id": str(uuid.uuid4()), "values": values})
    res = do_push(db, ADMIN, *rows)
    assert res["counts"]["applied"] == len(rows), res


@pytest.mark.slow  # ~30-80 s a backend
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(world=worlds())
def test_scopes_hold_for_random_users_and_data(db: Database, world: World) -> None:
    build(db, world)
    check_pulls(db, world)
    with db.read() as conn:
        cursor = db.current_seq(conn)
    apply_writes(db, world)
    check_pulls(db, world)
    check_pulls(db, world, since=cursor)


def test_scope_edge_cases(db: Database) -> None:
    """Hand-picked cases the random search must not miss."""
    reset(db)
    with db.write() as conn:
        add_user(db, conn, "root", "admin", None, None)
        s1 = add_user(db, conn, "s1", "sales", "t1", "east")
        s0 = add_user(db, conn, "s0", "sales", None, None)
        m = add_user(db, conn, "m", "manager", "t1", "east")
        sup = add_user(db, conn, "sup", "support", None, "east")
    cid = str(uuid.uuid4())
    do_push(db, ADMIN, {"op": "insert", "entity": "customer", "id": cid,
                        "values": {"name": "甲", "owner": "x", "team": "t1", "region": "east",
                                   "shared": True}})
    # a shared row of the team is visible to the team's sales, not to a team-less one
    assert pull(db, DICT, s1)["entities"]["customer"]["data"]["id"] == [cid]
    assert pull(db, DICT, s0)["entities"]["customer"]["data"]["id"] == []
    # blank scope fields on an insert mean the pusher's own (not NULL: that would hide it)
    for user in (s1, s0, m):
        rid = str(uuid.uuid4())
        res = do_push(db, user, {"op": "insert", "entity": "customer", "id": rid,
                                 "values": {"name": f"n-{rid[:8]}", "owner": None,
                                            "team": None, "region": None}})
        assert res["results"][0]["status"] == "applied", res
        assert rid in pull(db, DICT, user)["entities"]["customer"]["data"]["id"], user
    # a manager cannot create a row in another region, nor move one there
    res = do_push(db, m, {"op": "insert", "entity": "customer", "id": str(uuid.uuid4()),
                          "values": {"name": "北方", "region": "north"}})
    assert res["results"][0]["errors"][0]["code"] == "ROW_OUT_OF_SCOPE"
    res = do_push(db, m, {"op": "update", "entity": "customer", "id": cid, "base_version": 1,
                          "values": {"region": "north"}, "base": {"region": "east"}})
    assert res["results"][0]["errors"][0]["code"] == "ROW_OUT_OF_SCOPE"
    # support: read-only, no opportunities at all, no decision chain
    got = pull(db, DICT, sup)["entities"]
    assert "opportunity" not in got and "decision_chain" not in got["customer"]["columns"]
    res = do_push(db, sup, {"op": "update", "entity": "customer", "id": cid, "base_version": 1,
                            "values": {"notes": "x"}, "base": {"notes": None}})
    assert res["results"][0]["errors"][0]["code"] == "ROW_OUT_OF_SCOPE"
    # a deactivated user's scope does not matter here, but an unknown entity in a pull does
    try:
        pull(db, DICT, s1, None, ["nope"])
    except ApiError as e:
        assert e.code == "UNKNOWN_ENTITY"
    else:  # pragma: no cover
        raise AssertionError("unknown entity pulled")
    # a row moved out of a sales user's scope shows up as removed in their next pull
    with db.read() as conn:
        cursor = db.current_seq(conn)
    res = do_push(db, ADMIN, {"op": "update", "entity": "customer", "id": cid,
                              "base_version": 1, "values": {"shared": False},
                              "base": {"shared": True}})
    assert res["results"][0]["status"] == "applied"
    inc = pull(db, DICT, s1, cursor)["entities"]["customer"]
    assert inc["removed"] == [cid] and inc["data"]["id"] == []
