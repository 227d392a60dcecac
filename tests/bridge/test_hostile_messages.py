"""Precise messages and strict parsing (issue 17, items 5 and 6): bad JSON says where on
every route, invalid UTF-8 says so, every REQUEST_INVALID names a location, ranges name
both bounds; booleans and integers must be JSON booleans and integers, template versions
exactly MAJOR.MINOR.PATCH, and a date with an impossible time is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from schema.versions import parse_version
from tests.bridge.helpers import body, insert
from tests.bridge.hostile import JSON
from tests.bridge.test_bad_input import assert_error, row_errors
from tests.conftest import LiveBridge

BAD_JSON = ((b'{"idempotency_key": ', "unexpected end of data at line 1, column 21"),
            (b"{\n  \"a\": 1,\n}", "trailing comma is not allowed at line 2, column 9"),
            (b"{'a': 1}", "at line 1, column 2"))
ROUTES = ("/push", "/users", "/reports/rules", "/audit/undo", "/audit/restore",
          "/reports/rules/apply")


def test_malformed_json_says_where_on_every_route(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        for path in ROUTES:
            for raw, where in BAD_JSON:
                r = c.post(path, content=raw, headers=JSON)
                assert_error(r, 400, "MALFORMED_JSON", mentions=where)
            for raw, byte in ((b'{"a": "\xff"}', "0xFF at byte 8"),
                              (b'{"a": "\xed\xa0\x80"}', "0xED at byte 8"),
                              (b"\xfe\xff{}", "0xFE at byte 1")):
                r = c.post(path, content=raw, headers=JSON)
                err = assert_error(r, 400, "MALFORMED_JSON", mentions="invalid UTF-8")
                assert byte in err["message_en"] and "surrogates" not in err["message_en"]


def test_request_invalid_always_has_a_location(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        for path in ("/push", "/users", "/audit/undo", "/audit/restore", "/reports/rules"):
            r = c.post(path)  # no body at all
            err = assert_error(r, 422, "REQUEST_INVALID", "body")
            assert "body: Field required" in err["message_en"], err
            for e in r.json()["errors"]:
                assert e["field"], e
        b = body(insert("customer", name="甲"))
        r = c.post("/push", json={**b, "rows": [b["rows"][0], {**b["rows"][0], "op": 1}]})
        assert_error(r, 422, "REQUEST_INVALID", "rows[1].op", mentions="rows[1].op")
        r = c.post("/push", json={**b, "rows": [{**b["rows"][0], "values": {"website": []}}]})
        assert_error(r, 422, "REQUEST_INVALID", "rows[0].values.website")
        for payload in ([], 5, "x"):
            err = assert_error(c.post("/users", json=payload), 422, "REQUEST_INVALID", "body")
            assert err["message_en"].split(": ")[1] == "body", err


def test_a_range_names_both_bounds(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        c.post("/push", json=body(insert("customer", name="甲")))
        for value in (-5, "-5"):
            r = c.post("/push", json=body(insert("opportunity", name="单", customer="甲",
                                                 stage="initial_contact", amount=value)))
            e = row_errors(r)["amount"]
            assert e["code"] == "OUT_OF_RANGE"
            assert "between 0 and 999999999999999.99" in e["message_en"], e
            assert "0 到 999999999999999.99" in e["message_zh"], e
        r = c.post("/push", json=body(insert("ticket", customer="甲", subject="s",
                                             status="open", opened_on="2026-03-01",
                                             satisfaction=9)))
        assert "between 1 and 5" in row_errors(r)["satisfaction"]["message_en"]


def _push(c: httpx.Client, **top: Any) -> httpx.Response:
    return c.post("/push", json={**body(insert("customer", name="甲")), **top})


def test_booleans_and_integers_are_json_ones(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        for value in ("yes", "true", 1, 0, "false", None):
            assert_error(_push(c, all_or_none=value), 422, "REQUEST_INVALID", "all_or_none")
        row = insert("customer", name="乙")
        for value in ("1", True, 1.0, "one"):
            r = c.post("/push", json=body({**row, "op": "update", "base_version": value}))
            assert_error(r, 422, "REQUEST_INVALID", "rows[0].base_version")
            r = c.post("/push", json=body({**row, "row": value}))
            assert_error(r, 422, "REQUEST_INVALID", "rows[0].row")
        for field, value in (("priority", "1"), ("priority", True), ("active", "yes"),
                             ("active", 1)):
            rule = {"name": "r", "condition": [{"metric": "frequency", "op": ">", "value": 1}],
                    "target": "segment", "value": "v", field: value}
            assert_error(c.post("/reports/rules", json=rule), 422, "REQUEST_INVALID", field)
        for value in ("365", True):
            assert_error(c.post("/reports/rules/apply", json={"window_days": value}), 422,
                         "REQUEST_INVALID", "window_days")
        assert_error(c.post("/audit/restore", json={"audit_id": "1", "field": "name"}), 422,
                     "REQUEST_INVALID", "audit_id")
        assert c.get("/pull").json()["entities"]["customer"]["data"]["id"] == []
        assert _push(c, all_or_none=True).status_code == 200


BAD_VERSIONS = ("1.0", "1.0.0.0", " 1.0.0", "1.0.0 ", "１.０.０", "1.0.0\n", "v1.0.0",
                "01.0.0", "1..0", "1.0.-1", "١.٠.٠", "")


def test_template_versions_are_exactly_major_minor_patch(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        for v in BAD_VERSIONS:
            r = _push(c, template_version=v)
            if v:
                assert_error(r, 422, "TEMPLATE_VERSION_INVALID")
            else:
                assert_error(r, 422, "REQUEST_INVALID", "template_version")
        assert _push(c, template_version="1.0.0").status_code == 200
        assert _push(c, template_version="1.0.7").status_code == 200


@pytest.mark.parametrize("text", BAD_VERSIONS)
def test_parse_version_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


def test_parse_version_reads() -> None:
    assert parse_version("1.0.0") == (1, 0, 0) and parse_version("10.20.300") == (10, 20, 300)


def test_a_date_with_an_impossible_time_is_refused(live_bridge_any: LiveBridge) -> None:
    with live_bridge_any.client() as c:
        c.post("/push", json=body(insert("customer", name="甲")))
        for bad in ("2026-11-01T25:00", "2026-11-01 24:30", "2026-11-01T10:61",
                    "2026-11-01T10:00:61", "2026-11-01T10:00+99:00"):
            r = c.post("/push", json=body(insert("opportunity", name="单", customer="甲",
                                                 stage="initial_contact", expected_close=bad)))
            e = row_errors(r)["expected_close"]
            assert e["code"] in ("INVALID_DATE", "INVALID_UTC_OFFSET"), e
        r = c.post("/push", json=body(insert("opportunity", name="单", customer="甲",
                                             stage="initial_contact",
                                             expected_close="2026-11-01T23:59")))
        assert r.json()["results"][0]["status"] == "applied", r.text
        data = c.get("/pull").json()["entities"]["opportunity"]["data"]
        assert data["expected_close"] == ["2026-11-01"]
