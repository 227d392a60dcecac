"""Bad input over HTTP: every refusal is a 4xx (or a per-row rejection) with a precise code,
a message in both languages naming the field, and always the one error JSON shape
``{"error": {code, message_zh, message_en, ...}, "errors": [...]}``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.auth import add_user, issue_token
from schema.dictionary import DICTIONARY_VERSION
from tests.bridge.helpers import VALID_USCC, body, insert, key, update
from tests.conftest import LiveBridge, make_settings, start_bridge

ITEM_KEYS = {"code", "message_zh", "message_en", "entity", "row", "id", "field", "allowed"}

LIMIT_ROWS = 5
LIMIT_BYTES = 20_000


def assert_error(r: httpx.Response, status: int, code: str, field: str | None = None,
                 *, mentions: str | None = None) -> dict[str, Any]:
    """The response is ``status`` with the standard error body for ``code``."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert set(data) <= {"error", "errors"} and "error" in data, data
    err = data["error"]
    assert set(err) <= ITEM_KEYS, err
    assert err["code"] == code, data
    assert err["message_zh"] and err["message_en"], err
    assert "{" not in err["message_en"] and err["message_en"][-1:] != "?", err
    for e in data.get("errors", []):
        assert set(e) <= ITEM_KEYS and e["code"] and e["message_zh"] and e["message_en"]
    if field is not None:
        assert err.get("field") == field, err
    if mentions is not None:
        assert mentions in err["message_en"], err
    return err


def row_errors(r: httpx.Response, i: int = 0) -> dict[str, dict[str, Any]]:
    """``{field or code: error}`` of row ``i`` of a push answered 200."""
    assert r.status_code == 200, r.text
    res = r.json()["results"][i]
    assert res["status"] == "rejected", res
    out = {}
    for e in res["errors"]:
        assert set(e) <= ITEM_KEYS and e["message_zh"] and e["message_en"], e
        out[e.get("field") or e["code"]] = e
    return out


@pytest.fixture
def small_bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """A bridge with tight limits (rows per push and body bytes)."""
    settings = make_settings("sqlite", tmp_path, max_batch_rows=LIMIT_ROWS,
                             max_body_bytes=LIMIT_BYTES)
    with start_bridge(settings) as lb:
        yield lb


def test_malformed_json(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        for raw in (b'{"idempotency_key": ', b"{'a': 1}", b"\xff\xfe{}", b"{}}",
                    b'{"rows": [1,]}'):
            r = c.post("/push", content=raw, headers={"content-type": "application/json"})
            assert_error(r, 400, "MALFORMED_JSON", mentions="not valid JSON")
        r = c.post("/push", content=b"", headers={"content-type": "application/json"})
        assert r.status_code in (400, 422), r.text
        assert_error(r, r.status_code, r.json()["error"]["code"])


def test_wrong_top_level_shape(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        for payload in ([], "push", 42, None):
            r = c.post("/push", json=payload)
            assert_error(r, 422, "REQUEST_INVALID")
        b = body(insert("customer", name="甲"))
        r = c.post("/push", json={**b, "colour": "red"})
        assert_error(r, 422, "REQUEST_INVALID", "colour", mentions="colour")
        for missing in ("rows", "idempotency_key", "template_version"):
            r = c.post("/push", json={k: v for k, v in b.items() if k != missing})
            assert_error(r, 422, "REQUEST_INVALID", missing, mentions=missing)
        r = c.post("/push", json={**b, "rows": "abc"})
        assert_error(r, 422, "REQUEST_INVALID", "rows")
        r = c.post("/push", json={**b, "all_or_none": "maybe"})
        assert_error(r, 422, "REQUEST_INVALID", "all_or_none")
        r = c.post("/push", json={**b, "idempotency_key": "no spaces allowed"})
        assert_error(r, 422, "REQUEST_INVALID", "idempotency_key")
        r = c.post("/push", json={**b, "idempotency_key": "short"})
        assert_error(r, 422, "REQUEST_INVALID", "idempotency_key")
        # a row with an unknown key, a bad op, a nested value, a bad base_version
        row = dict(b["rows"][0])
        for bad, where in (({**row, "colour": 1}, "rows[0].colour"),
                           ({**row, "op": "upsert"}, "rows[0].op"),
                           ({**row, "values": {"name": ["a"]}}, "rows[0].values.name"),
                           ({**row, "values": {"name": {"zh": "甲"}}}, "rows[0].values.name"),
                           ({**row, "base_version": 0}, "rows[0].base_version"),
                           ({**row, "base_version": "one"}, "rows[0].base_version"),
                           ({**row, "entity": ""}, "rows[0].entity")):
            r = c.post("/push", json={**b, "rows": [bad]})
            err = assert_error(r, 422, "REQUEST_INVALID")
            assert err["field"].startswith(where), (err, where)
            assert where in err["message_en"], err
        # nothing of all that was applied
        assert c.get("/pull").json()["entities"]["customer"]["data"]["id"] == []


def test_row_level_rejections_name_the_field(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        r = c.post("/push", json=body(insert("customer", nmae="甲")))
        errs = row_errors(r)
        assert errs["nmae"]["code"] == "UNKNOWN_FIELD" and "nmae" in errs["nmae"]["message_en"]
        r = c.post("/push", json=body(insert("customer", region="east")))
        errs = row_errors(r)
        assert errs["name"]["code"] == "REQUIRED" and "Company name" in errs["name"]["message_en"]
        r = c.post("/push", json=body(insert("customer", name="甲", region="火星",
                                             industry="spaceflight", shared="maybe",
                                             website="not a url", phone="12")))
        errs = row_errors(r)
        assert errs["region"]["code"] == "INVALID_ENUM" and "火星" in errs["region"]["message_zh"]
        assert "east" in errs["region"]["allowed"]
        assert errs["industry"]["code"] == "INVALID_ENUM"
        assert "spaceflight" in errs["industry"]["message_en"]
        assert errs["shared"]["code"] == "INVALID_BOOLEAN"
        assert errs["website"]["code"] == "INVALID_URL"
        assert errs["phone"]["code"] == "INVALID_PHONE"
        r = c.post("/push", json=body(insert("nonsense", name="x")))
        errs = row_errors(r)
        assert errs["UNKNOWN_ENTITY"]["entity"] == "nonsense"
        assert "nonsense" in errs["UNKNOWN_ENTITY"]["message_en"]
        # wrong types for typed fields: per-row, naming the field
        c.post("/push", json=body(insert("customer", name="乙", region="east",
                                         uscc=VALID_USCC[0])))
        for ent, values, fcode, code in (
                ("opportunity", {"name": "o", "customer": "乙", "stage": "won",
                                 "amount": "lots"}, "amount", "INVALID_MONEY"),
                ("opportunity", {"name": "o", "customer": "乙", "stage": "won",
                                 "amount": -5}, "amount", "OUT_OF_RANGE"),
                ("opportunity", {"name": "o", "customer": "乙", "stage": "lost"},
                 "lost_reason", "REQUIRED_WHEN"),
                ("opportunity", {"name": "o", "customer": "乙", "stage": "won",
                                 "expected_close": "next week"}, "expected_close",
                 "INVALID_DATE"),
                ("opportunity", {"name": "o", "customer": "无此客户", "stage": "won"},
                 "customer", "REFERENCE_NOT_FOUND"),
                ("ticket", {"customer": "乙", "subject": "s", "status": "open",
                            "opened_on": "2026-01-02", "satisfaction": "great"},
                 "satisfaction", "INVALID_INTEGER"),
                ("ticket", {"customer": "乙", "subject": "s", "status": "open",
                            "opened_on": "2026-01-02", "satisfaction": 9},
                 "satisfaction", "OUT_OF_RANGE"),
                ("contact", {"customer": "乙", "name": "王", "email": "not-an-email"},
                 "email", "INVALID_EMAIL"),
                ("customer", {"name": "丙", "uscc": "123"}, "uscc", "INVALID_USCC"),
                ("customer", {"name": "x" * 201}, "name", "TOO_LONG"),
                ("customer", {"name": "#N/A"}, "name", "EXCEL_ERROR_VALUE"),
                ("customer", {"name": "乙二", "uscc": VALID_USCC[0]}, "uscc",
                 "DUPLICATE_VALUE")):
            r = c.post("/push", json=body(insert(ent, **values)))
            errs = row_errors(r)
            assert fcode in errs and errs[fcode]["code"] == code, (ent, values, errs)
        # row-shape problems
        bad_id = insert("customer", name="丁")
        bad_id["id"] = "not-a-uuid"
        errs = row_errors(c.post("/push", json=body(bad_id)))
        assert errs["ROW_INVALID_ID"]["id"] == "not-a-uuid"
        r = c.post("/push", json=body({"op": "update", "entity": "customer",
                                       "id": str(uuid.uuid4()), "values": {"notes": "x"}}))
        errs = row_errors(r)
        assert "base_version" in errs["REQUEST_INVALID"]["message_en"]
        twice = insert("customer", name="戊")
        r = c.post("/push", json=body(twice, dict(twice)))
        assert r.json()["results"][0]["status"] == "applied"
        assert row_errors(r, 1)["ROW_DUPLICATE_IN_BATCH"]["id"] == twice["id"]
        r = c.post("/push", json=body(update("customer", str(uuid.uuid4()), 1, {"notes": "x"},
                                             {"notes": None})))
        assert "ROW_NOT_FOUND" in row_errors(r)


def test_non_finite_and_huge_numbers(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        c.post("/push", json=body(insert("customer", name="甲", region="east")))
        for raw in ("NaN", "Infinity", "-Infinity", "1e400"):
            payload = json.dumps(body(insert("opportunity", name="o", customer="甲",
                                             stage="won", amount=0)))
            payload = payload.replace('"amount": 0', f'"amount": {raw}')
            r = c.post("/push", content=payload.encode(),
                       headers={"content-type": "application/json"})
            assert r.status_code < 500, r.text
            if r.status_code == 200 and raw == "NaN":  # NaN is a blank cell: stored empty
                res = r.json()["results"][0]
                assert res["status"] == "applied", r.text
                got = c.get("/pull").json()["entities"]["opportunity"]
                assert got["data"]["amount"][got["data"]["id"].index(res["id"])] is None
            elif r.status_code == 200:
                errs = row_errors(r)
                assert errs["amount"]["code"] == "INVALID_MONEY", errs
            else:
                assert_error(r, r.status_code, r.json()["error"]["code"])
        b = body(insert("customer", name="乙"))
        b["rows"][0]["row"] = 10**40
        r = c.post("/push", json=b)
        assert r.status_code < 500, r.text
        r = c.post("/push", json=body(update("customer", str(uuid.uuid4()), 10**30,
                                             {"notes": "x"}, {})))
        assert r.status_code < 500, r.text


def test_templates(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        for tv, status, code in (("abc", 422, "TEMPLATE_VERSION_INVALID"),
                                 ("0.9.0", 409, "TEMPLATE_OUTDATED"),
                                 ("1.99.0", 409, "TEMPLATE_NEWER"),
                                 ("2.0.0", 409, "TEMPLATE_NEWER")):
            b = body(insert("customer", name="甲"))
            b["template_version"] = tv
            assert_error(c.post("/push", json=b), status, code, mentions=tv)
        b = body(insert("customer", name="甲"))
        b["template_version"] = DICTIONARY_VERSION.rsplit(".", 1)[0] + ".7"
        assert c.post("/push", json=b).status_code == 200


def test_batch_and_body_limits(small_bridge: LiveBridge) -> None:
    with small_bridge.client() as c:
        rows = [insert("customer", name=f"c{i}") for i in range(LIMIT_ROWS + 1)]
        err = assert_error(c.post("/push", json=body(*rows)), 413, "BATCH_TOO_LARGE")
        assert str(LIMIT_ROWS) in err["message_en"] and str(LIMIT_ROWS + 1) in err["message_en"]
        assert c.post("/push", json=body(*rows[:LIMIT_ROWS])).status_code == 200
        big = body(insert("customer", name="甲", notes="x" * LIMIT_BYTES))
        err = assert_error(c.post("/push", json=big), 413, "BODY_TOO_LARGE")
        assert str(LIMIT_BYTES) in err["message_en"]
        # no Content-Length (chunked): the limit holds while streaming

        def chunks() -> Iterator[bytes]:
            data = json.dumps(big).encode()
            for i in range(0, len(data), 4096):
                yield data[i:i + 4096]
        r = c.post("/push", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in r.request.headers
        assert_error(r, 413, "BODY_TOO_LARGE")
        assert_error(c.post("/push", content=b"x" * (LIMIT_BYTES + 1),
                            headers={"content-type": "application/json"}), 413,
                     "BODY_TOO_LARGE")
        # the server still works and kept only the good batch
        assert len(c.get("/pull").json()["entities"]["customer"]["data"]["id"]) == LIMIT_ROWS


def test_idempotency_key_reused_with_another_body(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        b = body(insert("customer", name="甲"))
        assert c.post("/push", json=b).status_code == 200
        for change in ({"all_or_none": True}, {"rows": [insert("customer", name="甲")]},
                       {"rows": []}):
            err = assert_error(c.post("/push", json={**b, **change}), 422,
                               "IDEMPOTENCY_KEY_REUSED", mentions=b["idempotency_key"])
            assert err["message_zh"]
        again = c.post("/push", json=b).json()
        assert again["replayed"] is True
    # the same key from another user is that user's own key
    tok = live_bridge.make_user("other", "admin")
    with live_bridge.client(tok) as c:
        b2 = {**b, "rows": [insert("customer", name="乙")]}
        assert c.post("/push", json=b2).json()["replayed"] is False


def test_tokens(live_bridge: LiveBridge) -> None:
    lb = live_bridge
    url = lb.url + "/api/v1"
    assert_error(httpx.get(url + "/me"), 401, "AUTH_REQUIRED")
    assert_error(httpx.get(url + "/me", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}),
                 401, "AUTH_REQUIRED")
    assert_error(httpx.get(url + "/me", headers={"Authorization": "Bearer"}), 401,
                 "AUTH_REQUIRED")
    for bad in ("crm_nope", "x" * 5000, "' OR 1=1 --", "crm_" + "ä" * 10):
        r = httpx.get(url + "/me", headers={"Authorization": f"Bearer {bad}".encode()})
        assert_error(r, 401, "AUTH_INVALID")
        assert r.headers.get("www-authenticate") == "Bearer"
    with lb.db.write() as conn:
        add_user(lb.db, conn, "old", "sales", "t1", "east")
        expired = issue_token(lb.db, conn, "old", days=-1)
    assert_error(httpx.get(url + "/me", headers={"Authorization": f"Bearer {expired}"}), 401,
                 "AUTH_EXPIRED")
    tok = lb.make_user("gone", "sales", "t1", "east")
    h = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(url + "/me", headers=h).status_code == 200
    with lb.client() as c:
        assert c.post("/users/gone/revoke").json() == {"revoked": 1}
    for method, path, kw in (("GET", "/me", {}), ("GET", "/pull", {}),
                             ("POST", "/push", {"json": body(insert("customer", name="x"))})):
        assert_error(httpx.request(method, url + path, headers=h, **kw), 401, "AUTH_REVOKED")
    # a valid non-admin token on admin routes
    sales = lb.make_user("s1", "sales", "t1", "east")
    with lb.client(sales) as c:
        assert_error(c.get("/audit"), 403, "ADMIN_ONLY")
        assert_error(c.post("/users", json={"username": "x", "role": "admin"}), 403,
                     "ADMIN_ONLY")
        assert_error(c.post("/users/admin/revoke"), 403, "ADMIN_ONLY")


def test_pull_and_routes(live_bridge: LiveBridge) -> None:
    with live_bridge.client() as c:
        assert_error(c.get("/pull", params={"since": 999}), 422, "CURSOR_INVALID",
                     mentions="999")
        assert_error(c.get("/pull", params={"since": -1}), 422, "REQUEST_INVALID", "query.since")
        assert_error(c.get("/pull", params={"since": "abc"}), 422, "REQUEST_INVALID",
                     "query.since")
        assert_error(c.get("/pull", params={"entities": "customer,spaceship"}), 404,
                     "UNKNOWN_ENTITY", mentions="spaceship")
        assert_error(c.get("/nowhere"), 404, "NOT_FOUND", mentions="/api/v1/nowhere")
        assert_error(c.delete("/push"), 405, "METHOD_NOT_ALLOWED")
        assert_error(c.post("/users", json={"username": "a b", "role": "admin"}), 422,
                     "REQUEST_INVALID", "username")
        assert_error(c.post("/users", json={"username": "ab", "role": "king"}), 422,
                     "REQUEST_INVALID", "role")
        assert_error(c.post("/users", json={"username": "admin", "role": "admin"}), 409,
                     "USER_EXISTS", mentions="admin")
        assert_error(c.get("/audit", params={"limit": 0}), 422, "REQUEST_INVALID",
                     "query.limit")
        assert_error(c.post("/audit/restore", json={"audit_id": 999999, "field": "name"}), 404,
                     "AUDIT_NOT_FOUND")
        assert_error(c.post("/audit/undo", json={"push_key": "k-none"}), 404, "AUDIT_NOT_FOUND")
        r = c.post("/push", content=json.dumps(body(insert("customer", name="甲"))),
                   headers={"content-type": "text/plain"})
        assert r.status_code < 500, r.text
        if r.status_code != 200:
            assert_error(r, r.status_code, r.json()["error"]["code"])


def test_key_is_per_body_even_across_restart(live_bridge: LiveBridge) -> None:
    """A stored answer survives a new app on the same database (replay, not re-apply)."""
    from starlette.testclient import TestClient

    from bridge.app import create_app
    from bridge.db import connect
    from schema.dictionary import build_dictionary

    b = body(insert("customer", name="甲", uscc=VALID_USCC[1]))
    with live_bridge.client() as c:
        first = c.post("/push", json=b).json()
    d = build_dictionary()
    db2 = connect(live_bridge.settings, d)
    try:
        with TestClient(create_app(live_bridge.settings, d, db2)) as tc:
            h = {"Authorization": f"Bearer {live_bridge.admin_token}"}
            again = tc.post("/api/v1/push", json=b, headers=h).json()
            assert again["replayed"] is True and again["results"] == first["results"]
            b2 = {**b, "idempotency_key": key()}
            errs = row_errors(tc.post("/api/v1/push", json=b2, headers=h))
            assert errs["ROW_EXISTS"]["id"] == b["rows"][0]["id"]
            b3 = body(insert("customer", name="甲二", uscc=VALID_USCC[1]))
            errs = row_errors(tc.post("/api/v1/push", json=b3, headers=h))
            assert errs["uscc"]["code"] == "DUPLICATE_VALUE"
    finally:
        db2.engine.dispose()
