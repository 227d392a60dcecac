"""OWASP API1 (object level), API5 (function level), API6 (sensitive flows) and API9
(inventory): enumerated from the app's OpenAPI document, so a new route without a rule here
fails, and checked against a live bridge."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from starlette.routing import Mount

from bridge.app import create_app
from bridge.routes.deps import admin_user
from bridge.settings import Settings
from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge
from tests.security.inventory import (
    OBJECT_RULES,
    PREFIX,
    SENSITIVE,
    access,
    document,
    fill,
    operations,
    path_params,
    served,
)
from tests.security.probes import ADMIN_BODIES

ROOT = Path(__file__).resolve().parents[2]
NON_ADMIN = ["sales", "manager", "finance", "support"]


def test_every_id_taking_route_has_an_object_rule() -> None:
    taking = {name for name, op in operations().items() if path_params(op)}
    assert taking == set(OBJECT_RULES), "give each id-taking route a rule and a test"
    for name, rule in OBJECT_RULES.items():
        assert (rule == "admin") == (access(name, operations()[name]) == "admin"), name


def test_admin_dependency_and_document_agree(tmp_path: Path) -> None:
    """A route depends on ``admin_user`` exactly when its document says ADMIN_ONLY (so the
    enumeration below, made from the document, covers every admin route)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'crm.db'}"))

    def calls(dep: Any) -> set[Any]:
        return {dep.call} | {c for d in dep.dependencies for c in calls(d)}

    ops, seen = operations(), 0
    for route in served(app):
        if route.path.startswith(PREFIX):
            seen += 1
            for method in route.methods:
                name = f"{method} {route.path.removeprefix(PREFIX)}"
                if admin_user in calls(route.dependant):
                    assert access(name, ops[name]) == "admin", name
                else:
                    assert access(name, ops[name]) != "admin", name
    assert seen == len(ops)


def test_sensitive_flows_are_for_admins() -> None:
    ops = operations()
    assert set(ops) >= SENSITIVE
    assert {n for n in SENSITIVE if access(n, ops[n]) != "admin"} == set()


def _user(bridge: LiveBridge, role: str) -> str:
    return bridge.make_user(f"{role}_{uuid.uuid4().hex[:6]}", role, "t1", "east")


def test_admin_routes_refuse_every_other_role(live_bridge_any: LiveBridge) -> None:
    b = live_bridge_any
    tokens = {role: _user(b, role) for role in NON_ADMIN}
    victim = b.make_user("victim", "sales", "t1", "east")
    with b.client() as admin:
        before = admin.get("/users").json(), admin.get("/reports/rules").json()
    import_id = _import(b, victim)
    admin_ops = [n for n, op in operations().items() if access(n, op) == "admin"]
    assert len(admin_ops) >= 10
    for role, token in tokens.items():
        with b.client(token) as c:
            for name in admin_ops:
                path = fill(name, username="victim", import_id=import_id, rule_id="1")
                method = name.split()[0]
                r = c.request(method, path.removeprefix(PREFIX),
                              json=ADMIN_BODIES.get(name, {}) if method != "GET" else None)
                assert r.status_code == 403, (role, name, r.status_code, r.text[:200])
                assert r.json()["error"]["code"] == "ADMIN_ONLY", (role, name)
    with b.client() as admin:  # no user made, no rule written, no one revoked
        assert (admin.get("/users").json(), admin.get("/reports/rules").json()) == before
    with b.client(victim) as c:
        assert c.get("/me").status_code == 200  # not revoked


def _import(b: LiveBridge, token: str) -> str:
    with b.client(token) as c:
        r = c.post("/imports", json={"entity": "customer", "file_name": "mine.xlsx"})
        assert r.status_code == 201, r.text
        iid = str(r.json()["id"])
        r = c.post(f"/imports/{iid}/rows", json={"rows": [
            {"source_row": 1, "values": {"customer": {"name": "甲公司-" + iid[:6]}}}]})
        assert r.status_code == 200, r.text
    return iid


OBJECT_CALLS: dict[str, dict[str, Any] | None] = {
    "GET /imports/{import_id}": None,
    "POST /imports/{import_id}/rows": {"rows": [
        {"source_row": 2, "values": {"customer": {"name": "乙公司"}}}]},
    "POST /imports/{import_id}/dry-run": None,
    "GET /imports/{import_id}/decisions": None,
    "POST /imports/{import_id}/choices": {"choices": [{"source_row": 1, "choice": "skip"}]},
    "POST /imports/{import_id}/confirm": {},
}


def test_imports_are_the_creators(live_bridge_any: LiveBridge) -> None:
    """Another user (of any role but admin) gets ``IMPORT_NOT_FOUND`` on every route of
    someone's import (not 403: the id's existence is not confirmed) and changes nothing."""
    b = live_bridge_any
    owner = _user(b, "sales")
    iid = _import(b, owner)
    creator_ops = [n for n, rule in OBJECT_RULES.items() if rule == "creator"]
    assert set(creator_ops) == set(OBJECT_CALLS)
    with b.client(owner) as c:
        before = c.get(f"/imports/{iid}").json()
    for role in ("sales", "manager", "finance", "support"):
        with b.client(_user(b, role)) as c:
            for name in creator_ops:
                method = name.split()[0]
                r = c.request(method, fill(name, import_id=iid).removeprefix(PREFIX),
                              json=OBJECT_CALLS[name])
                assert r.status_code == 404, (role, name, r.text[:200])
                assert r.json()["error"]["code"] == "IMPORT_NOT_FOUND", (role, name)
            assert iid not in {i["id"] for i in c.get("/imports").json()}
    with b.client(owner) as c:
        assert c.get(f"/imports/{iid}").json() == before
    with b.client() as admin:  # admins see every import
        assert admin.get(f"/imports/{iid}").status_code == 200


def test_records_by_id_out_of_scope_are_not_found(live_bridge_any: LiveBridge) -> None:
    """Records are named by id in push bodies: one outside the caller's scope answers
    ``ROW_NOT_FOUND`` (as if it did not exist) and is not changed."""
    b = live_bridge_any
    row = insert("customer", name="丙公司", owner="someone", team="t2", region="north",
                 decision_chain="董事长")
    with b.client() as admin:
        assert admin.post("/push", json=body(row)).json()["counts"]["applied"] == 1
    for role in ("sales", "manager"):
        with b.client(_user(b, role)) as c:
            res = c.post("/push", json=body(update("customer", row["id"], 1, {"notes": "x"},
                                                   {"notes": None}))).json()["results"][0]
            assert res["status"] == "rejected" and res["server"] is None, res
            assert [e["code"] for e in res["errors"]] == ["ROW_NOT_FOUND"], res
            assert "丙公司" not in str(res)
    with b.client() as admin:
        pulled = admin.get("/pull", params={"entities": "customer"}).json()
    assert pulled["entities"]["customer"]["data"]["version"] == [1]


# --- API9: inventory -----------------------------------------------------------------------

DOCS_PAGES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_openapi_lists_every_route(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'crm.db'}"))
    names = set()
    plugins = {"/" + p["name"] for p in app.state.plugins if p["loaded"]}
    for route in served(app):
        path = getattr(route, "path", "")
        if path in DOCS_PAGES or (isinstance(route, Mount) and path in plugins):
            continue  # a plugin's own app has its own inventory (test_office_routes.py)
        assert route.include_in_schema and route.methods, (type(route), path)
        names |= {f"{m} {path.removeprefix(PREFIX)}" for m in route.methods}
    assert names == set(operations())


def test_security_doc_lists_every_route() -> None:
    """docs/security.md's route table names each operation once, with who may call it."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(GET|POST|PUT|DELETE|PATCH) ([^`]+)` \| (\w+) \|", text, re.M)
    listed = {f"{m} {p}": who for m, p, who in rows}
    assert len(listed) == len(rows), "a route is listed twice"
    ops = operations()
    assert listed == {n: access(n, op) for n, op in ops.items()}
    assert document()["info"]["title"]
