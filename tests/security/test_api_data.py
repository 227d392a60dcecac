"""OWASP API3 (object property level: hidden fields never answered, no mass assignment) and
API4 (resource consumption: every parameter and list bounded, bodies and batches capped)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schema.permissions import field_access
from schema.types import Access
from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge, make_settings, start_bridge
from tests.security.inventory import PREFIX, access, document, operations, path_params
from tests.security.model import DICT, SYSTEM

# planted in fields hidden from some roles: (entity, field) -> a value found nowhere else
SECRETS = {("customer", "decision_chain"): "密-" + uuid.uuid4().hex,
           ("contact", "wechat"): "微-" + uuid.uuid4().hex}
# the one list a request may carry without maxItems: capped in code (BATCH_TOO_LARGE)
CAPPED_IN_CODE = {"PushRequest.rows"}


def _schemas(schema: dict[str, Any], where: str, seen: set[str]) -> Iterator[tuple[str,
                                                                                 dict[str, Any]]]:
    comps = document()["components"]["schemas"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from _schemas(comps[name], name, seen)
        return
    yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _schemas(sub, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _schemas(sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _schemas(schema[key], f"{where}[]", seen)


def _request_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, op in operations().items():
        if "requestBody" in op:
            yield from _schemas(op["requestBody"]["content"]["application/json"]["schema"],
                                name, set())


def test_request_bodies_refuse_unknown_keys() -> None:
    """Mass assignment: no request model takes a key it does not declare."""
    open_objects = [w for w, s in _request_schemas()
                    if s.get("type") == "object" and s.get("properties")
                    and s.get("additionalProperties") is not False]
    assert open_objects == []
    assert sum(1 for _ in _request_schemas()) > 20


# a date or a moment is parsed by its format (and the query string is bounded by the server)
PARSED_FORMATS = ("date", "date-time")


def test_every_parameter_and_list_is_bounded() -> None:
    """API4: text parameters have a maxLength (or a date format), numbers a maximum, lists a
    maxItems."""
    loose = []
    for name, op in operations().items():
        for p in op.get("parameters", []):
            for s in [p["schema"], *p["schema"].get("anyOf", [])]:
                if (s.get("type") == "string" and "maxLength" not in s
                        and s.get("format") not in PARSED_FORMATS) \
                        or (s.get("type") == "integer" and "maximum" not in s):
                    loose.append(f"{name} {p['name']}")
    loose += [w for w, s in _request_schemas()
              if s.get("type") == "array" and "maxItems" not in s and w not in CAPPED_IN_CODE]
    assert loose == []


def test_system_columns_and_read_only_fields_are_not_written(
        live_bridge_any: LiveBridge) -> None:
    b = live_bridge_any
    sales = b.make_user("s1", "sales", "t1", "east")
    row = insert("customer", name="丁公司", owner="s1", team="t1", region="east")
    with b.client(sales) as c:
        assert c.post("/push", json=body(row)).json()["counts"]["applied"] == 1
        for code in [*SYSTEM, "owner", "team"]:
            res = c.post("/push", json=body(update("customer", row["id"], 1, {code: "x"},
                                                   {code: None}))).json()["results"][0]
            assert res["status"] == "rejected", (code, res)
            assert {e["code"] for e in res["errors"]} & {"UNKNOWN_FIELD", "FIELD_READ_ONLY"}
        res = c.post("/push", json={**body(row), "rows": [{**row, "id": str(uuid.uuid4()),
                                                            "deleted": True}]})
        assert res.status_code == 422 and res.json()["error"]["field"].endswith("deleted")
        got = c.get("/pull", params={"entities": "customer"}).json()["entities"]["customer"]
    assert got["data"]["version"] == [1] and got["data"]["owner"] == ["s1"]


def _plant(b: LiveBridge) -> str:
    cust = insert("customer", name="戊公司", region="east", owner="x",
                  decision_chain=SECRETS["customer", "decision_chain"])
    contact = insert("contact", customer="戊公司", name="王五", region="east",
                     wechat=SECRETS["contact", "wechat"])
    with b.client() as admin:
        assert admin.post("/push", json=body(cust, contact)).json()["counts"]["applied"] == 2
    return str(cust["id"])


@pytest.mark.parametrize("role", ["finance", "support"])
def test_hidden_fields_are_in_no_answer(live_bridge_any: LiveBridge, role: str) -> None:
    """Every GET a user may call, the push answer and the import dry run (which shows the
    matched record's values): none holds a value of a field hidden from the role."""
    b = live_bridge_any
    cid = _plant(b)
    token = b.make_user(f"{role}1", role, "t1", "east")
    answers = []
    with b.client(token) as c:
        for name, op in operations().items():
            if name.startswith("GET ") and access(name, op) == "user" and not path_params(op):
                r = c.get(name.split()[1])
                assert r.status_code == 200, (name, r.text[:200])
                answers.append(r.text)
        answers.append(c.post("/push", json=body(update(
            "customer", cid, 1, {"notes": "n"}, {"notes": None}))).text)
        r = c.post("/imports", json={"entity": "customer"})
        iid = r.json()["id"]
        c.post(f"/imports/{iid}/rows", json={"rows": [{"source_row": 1, "values": {
            "customer": {"name": "戊公司", "decision_chain": "other"}}}]}).raise_for_status()
        answers.append(c.post(f"/imports/{iid}/dry-run").text)
        answers.append(c.get(f"/imports/{iid}/decisions").text)
    assert len(answers) >= 10
    hidden = [v for (e, f), v in SECRETS.items() if field_access(
        role, DICT.entity(e), DICT.entity(e).field(f)) is Access.HIDDEN]
    assert hidden
    assert [(v, a[:300]) for a in answers for v in hidden if v in a] == []
    with b.client() as admin:  # the secrets are there to be found
        assert all(v in admin.get("/pull").text for v in SECRETS.values())


# --- API4: limits on a live bridge ----------------------------------------------------------


@pytest.fixture
def small_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    with start_bridge(make_settings("sqlite", tmp_path, max_body_bytes=64 * 1024,
                                    max_batch_rows=5)) as b:
        yield b


def test_bodies_batches_and_pages_are_capped(small_bridge: LiveBridge) -> None:
    with small_bridge.client() as c:
        r = c.post("/push", content=b'{"rows": "' + b"x" * 70_000 + b'"}',
                   headers={"content-type": "application/json"})
        assert (r.status_code, r.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")
        rows = [insert("customer", name=f"己{i}") for i in range(6)]
        r = c.post("/push", json=body(*rows))
        assert (r.status_code, r.json()["error"]["code"]) == (413, "BATCH_TOO_LARGE")
        r = c.get("/audit", params={"limit": 5001})
        assert (r.status_code, r.json()["error"]["field"]) == (422, "query.limit")
        assert c.get("/pull").json()["entities"]["customer"]["data"]["id"] == []
    assert PREFIX == "/api/v1"
