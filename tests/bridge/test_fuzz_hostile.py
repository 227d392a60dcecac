"""Hostile strings (hypothesis) into every field of a push row of every entity, every query
and path parameter of every route and every text field of every other request body, on
SQLite and PostgreSQL: no answer is a 5xx, and nothing stored is lost or half-written.

The hostile cores: NUL, lone surrogates, a 1 MB string, RTL override and zero-width
characters, SQL injection and spreadsheet formula injection, each with generated text
around it. The routes and their parameters are read from the app's own OpenAPI document,
so a new route or parameter is covered without editing this file.

Push: one push holds, for every field of every entity, an insert whose other values are
valid and fresh and whose one field is hostile (plus the row's own ``id``). Every row ends
applied or rejected; an applied row stores the field's canonical value; a rejected one
stores nothing; every record stored before is unchanged (the store is pulled before and
after and compared).
"""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schema.dictionary import build_dictionary
from schema.types import Entity, Field, FieldType
from schema.values import parse_value
from tests.bridge.helpers import body
from tests.conftest import LiveBridge, _drop_pg_schema, make_settings, start_bridge

D = build_dictionary()
BIG = "长" * 350_000  # about 1 MB of UTF-8
CORES = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil\u202c", "\u200b", "a\u200bb\ufeff",
         "'; DROP TABLE crm_customer;--", "x' OR '1'='1", "Robert'); DROP TABLE sys_user;--",
         '=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
         "-2+3", "%00", "\\", "${jndi:ldap://x}"]
hostile = st.one_of(
    st.sampled_from(CORES),
    st.tuples(st.text(max_size=6), st.sampled_from(CORES), st.text(max_size=6)).map("".join))




@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def bridge(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LiveBridge]]:
    backend = str(request.param)
    settings = make_settings(backend, tmp_path_factory.mktemp(f"hostile-{backend}"))
    try:
        with start_bridge(settings) as lb:
            yield backend, lb
    finally:
        if settings.database_schema:
            _drop_pg_schema(settings.database_schema)


# --- valid rows to carry one hostile value ----------------------------------------------


def fresh(f: Field, parents: dict[str, str]) -> Any:
    """A valid, unique value for ``f`` (a reference names a stored parent)."""
    t, tag = f.type, uuid.uuid4().hex[:12]
    if t is FieldType.REFERENCE:
        return parents[str(f.ref)]
    if t in (FieldType.ENUM, FieldType.MULTI_ENUM) and f.enum:
        return f.enum.codes()[0]
    simple: dict[FieldType, Any] = {
        FieldType.MONEY: 100.5, FieldType.INTEGER: int(f.min_value or 1),
        FieldType.DATE: "2026-03-01", FieldType.DATETIME: "2026-03-01 10:00",
        FieldType.BOOLEAN: True, FieldType.PHONE: "13812345678",
        FieldType.EMAIL: f"a{tag}@example.com", FieldType.URL: f"www.e{tag}.com"}
    return simple.get(t, f"v{tag}"[: f.max_length or 40])


def valid_row(entity: Entity, parents: dict[str, str]) -> dict[str, Any]:
    """The required fields, and the first of a pair one of which is required (an order)."""
    one_of = D.required_one_of.get(entity.code, ())[:1]
    return {f.code: fresh(f, parents) for f in entity.fields
            if f.required or f.code in one_of}


_PARENTS: dict[str, dict[str, str]] = {}


def parents_of(lb: LiveBridge) -> dict[str, str]:
    """One stored record per entity that others reference, by its display value."""
    if lb.url not in _PARENTS:
        parents: dict[str, str] = {}
        for entity in D:  # dictionary order: parents first
            values = valid_row(entity, parents)
            with lb.client() as c:
                resp = c.post("/push", json=body({"op": "insert", "entity": entity.code,
                                                  "id": str(uuid.uuid4()), "values": values}))
            assert resp.status_code == 200 and resp.json()["results"][0]["status"] == \
                "applied", resp.text
            parents[entity.code] = str(values.get(entity.display_field))
        _PARENTS[lb.url] = parents
    return _PARENTS[lb.url]


def hostile_rows(value: str, parents: dict[str, str]) -> list[dict[str, Any]]:
    """For every field of every entity an insert with ``value`` in that field, and an
    insert per entity with ``value`` as its id."""
    rows = []
    for entity in D:
        for f in entity.fields:
            values = {**valid_row(entity, parents), f.code: value}
            rows.append({"op": "insert", "entity": entity.code, "id": str(uuid.uuid4()),
                         "values": values, "row": len(rows)})
        rows.append({"op": "insert", "entity": entity.code, "id": value,
                     "values": valid_row(entity, parents), "row": len(rows)})
    return rows


def stored(lb: LiveBridge) -> dict[tuple[str, str], dict[str, Any]]:
    """Every record the admin can pull, by (entity, id)."""
    with lb.client() as c:
        resp = c.get("/pull")
    assert resp.status_code == 200, resp.text
    out = {}
    for code, ent in resp.json()["entities"].items():
        data = ent["data"]
        for i, rid in enumerate(data["id"]):
            out[(code, rid)] = {col: data[col][i] for col in ent["columns"]}
    return out


def push_raw(lb: LiveBridge, rows: list[dict[str, Any]]) -> httpx.Response:
    """A push encoded by ``json`` (ASCII escapes: lone surrogates travel as ``\\udXXX``)."""
    payload = json.dumps(body(*rows)).encode()
    with lb.client() as c:
        return c.post("/push", content=payload, headers={"Content-Type": "application/json"})


def check_outcomes(rows: list[dict[str, Any]], results: list[dict[str, Any]],
                   before: dict[tuple[str, str], dict[str, Any]],
                   after: dict[tuple[str, str], dict[str, Any]]) -> None:
    by_row = {r["row"]: r for r in results}
    for sent in rows:
        got = by_row[sent["row"]]
        key = (sent["entity"], sent["id"])
        assert got["status"] in ("applied", "rejected"), (sent["entity"], got)
        if got["status"] == "rejected":
            assert got["errors"] and (key not in after or key in before), (key, got)
            continue
        entity = D.entity(sent["entity"])
        for code, raw in sent["values"].items():
            f = entity.field(code)
            if f.type is not FieldType.REFERENCE:
                assert after[key][code] == parse_value(raw, f), (key, code, raw)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=hostile)
@example(value="\x00").via("NUL")
@example(value="\ud800").via("lone surrogate")
@example(value=BIG).via("1 MB")
def test_hostile_values_in_every_field_of_every_entity(
        bridge: tuple[str, LiveBridge], value: str) -> None:
    _backend, lb = bridge
    parents = parents_of(lb)
    chunk = max(1, (8 << 20) // (len(value.encode("utf-8", "surrogatepass")) + 2000))
    for _ in range(2):  # twice: a value stored once must not break the next push
        rows = hostile_rows(value, parents)
        for start in range(0, len(rows), chunk):
            push_and_check(lb, value, rows[start:start + chunk])


def push_and_check(lb: LiveBridge, value: str, rows: list[dict[str, Any]]) -> None:
    before = stored(lb)
    resp = push_raw(lb, rows)
    assert resp.status_code < 500, (repr(value[:50]), resp.status_code, resp.text[:300])
    after = stored(lb)
    if resp.status_code != 200:
        assert after == before, "a refused push changed the store"
        return
    check_outcomes(rows, resp.json()["results"], before, after)
    assert {k: v for k, v in after.items() if k in before} == before, \
        "a record stored before changed"


# --- query and path parameters of every route ---------------------------------------------


def encoded(value: str) -> str:
    """``value`` percent-encoded as a client sends it (a lone surrogate as its WTF-8 bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def parameter_requests(doc: dict[str, Any], value: str) -> Iterator[tuple[str, str]]:
    """(method, url) with ``value`` in one parameter, for every parameter of every route."""
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            filled = path
            for p in params:
                if p["in"] == "path":
                    dummy = "1" if p["schema"].get("type") == "integer" else "nobody_here"
                    filled = filled.replace("{" + p["name"] + "}", dummy)
            for p in params:
                if p["in"] == "path":
                    url = path.replace("{" + p["name"] + "}", encoded(value))
                    for q in params:
                        if q["in"] == "path" and q["name"] != p["name"]:
                            url = url.replace("{" + q["name"] + "}", "1")
                    yield method.upper(), url
                elif p["in"] == "query":
                    yield method.upper(), f"{filled}?{p['name']}={encoded(value)}"


def raw_request(lb: LiveBridge, method: str, url: str) -> int:
    """The status of one request sent as is, on its own connection (``httpx`` refuses URLs
    over 64 KiB; the server may answer an oversized one and close before it is all sent)."""
    host, port = lb.url.removeprefix("http://").split(":")
    head = (f"{method} {url} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer "
            f"{lb.admin_token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head.encode("ascii"))
        answer = sock.makefile("rb").readline()
    assert answer.startswith(b"HTTP/1.1 "), (method, url[:200], answer)
    return int(answer.split()[1])


@pytest.mark.slow
@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=hostile)
@example(value="\x00").via("NUL")
@example(value="\ud800").via("lone surrogate")
@example(value=BIG).via("1 MB")
def test_hostile_values_in_every_query_and_path_parameter(
        bridge: tuple[str, LiveBridge], value: str) -> None:
    _backend, lb = bridge
    parents_of(lb)
    before = stored(lb)
    doc = httpx.get(lb.url + "/openapi.json").json()
    sent = 0
    for method, url in parameter_requests(doc, value):
        status = raw_request(lb, method, url)
        sent += 1
        assert status < 500, (repr(value[:50]), method, url[:300], status)
    assert sent >= 20
    after = stored(lb)
    assert {k: v for k, v in after.items() if k in before} == before


# --- text fields of every other request body ----------------------------------------------

BODIES: dict[str, Any] = {  # a valid body per request schema; new schemas must be added here
    "NewUser": lambda: {"username": f"h{uuid.uuid4().hex[:10]}", "role": "sales", "team": "t",
                        "region": "east", "display_name": "x"},
    "Restore": lambda: {"audit_id": 1, "field": "name"},
    "Undo": lambda: {"push_key": "k-nothing-here"},
    "RuleIn": lambda: {"name": f"r{uuid.uuid4().hex[:10]}", "label_zh": "x", "label_en": "x",
                       "target": "value_tier", "value": "a",
                       "condition": [{"metric": "monetary", "op": ">", "value": 1}]},
    "ApplyIn": lambda: {"as_of": "2026-03-31", "score_method": "rank"},
    "ImportCreate": lambda: {"entity": "customer", "file_name": "old.xlsx"},
    "ConfirmIn": lambda: {"uncertain": "new"},
    "ImportMapping": lambda: {"entity": "customer", "columns": {"公司名称": "customer.name"},
                              "name": "m"},
    "PasswordSignIn": lambda: {"username": "nobody_here", "password": "a wrong password"},
    "EraseRequest": lambda: {"subject": "contact:no-such-contact", "dry_run": True},
    "SubjectRequest": lambda: {"subject": "contact:no-such-contact"},
    "HoldRequest": lambda: {"entity": "customer", "record_id": "no-such-record",
                            "reason": "a lawyer asked"},
}
PUSH_SCHEMA = "PushRequest"  # covered field by field above


def takes_text(schema: dict[str, Any]) -> bool:
    """A property a string may be sent in (typed string, or untyped)."""
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
    return "string" in kinds or not any(kinds)


def body_requests(doc: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, schema name, property) for every text property of every JSON body."""
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = content.get("schema", {})
            ref = schema.get("$ref") or next((s["$ref"] for s in schema.get("anyOf", [])
                                              if "$ref" in s), None)
            if ref is None:
                continue
            name = ref.rsplit("/", 1)[-1]
            if name == PUSH_SCHEMA:
                continue
            props = doc["components"]["schemas"][name]["properties"]
            filled = (path.replace("{rule_id}", "1").replace("{import_id}", "no-such-import")
                      .replace("{name}", "m"))
            for prop, spec in props.items():
                if takes_text(spec):
                    yield method.upper(), filled, name, prop


def test_every_request_body_schema_has_a_valid_example(tmp_path: Any) -> None:
    from bridge.app import create_app
    from bridge.settings import Settings

    doc = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")).openapi()
    names = {name for _, _, name, _ in body_requests(doc)}
    assert names <= set(BODIES) and len(names) >= 4, names - set(BODIES)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=hostile)
@example(value="\x00").via("NUL")
@example(value="\ud800").via("lone surrogate")
@example(value=BIG).via("1 MB")
def test_hostile_values_in_every_text_field_of_every_request_body(
        bridge: tuple[str, LiveBridge], value: str) -> None:
    _backend, lb = bridge
    doc = httpx.get(lb.url + "/openapi.json").json()
    sent = 0
    with lb.client() as c:
        for method, path, name, prop in body_requests(doc):
            payload = {**BODIES[name](), prop: value}
            resp = c.request(method, lb.url + path, content=json.dumps(payload).encode(),
                             headers={"Content-Type": "application/json"})
            sent += 1
            assert resp.status_code < 500, (repr(value[:50]), method, path, prop,
                                            resp.status_code)
        assert sent >= 10
        assert c.get("/me").status_code == 200 and stored(lb) is not None
