"""The OpenAPI document is honest about errors, and the server keeps to it.

Every error answer an operation documents is ``ErrorResponse`` (never ``ErrorItem`` nor
FastAPI's ``HTTPValidationError``), and every error path the server has (auth failures,
admin-only, bad parameters, malformed or oversized bodies, unknown routes, wrong methods,
an internal error) answers that one shape with a status the operation documents. The
operations are enumerated from the app's own document, so new routes are covered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.app import create_app
from bridge.server import app_with_admin, serve_in_thread
from bridge.settings import Settings
from schema.wire import ErrorResponse
from tests.conftest import LiveBridge, make_settings

ERROR_REF = "#/components/schemas/ErrorResponse"
BODY_LIMIT = 256 * 1024


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in doc["paths"].items()
            for method, op in ops.items()]


def example_path(path: str, op: dict[str, Any], **values: str) -> str:
    """``path`` with every path parameter filled by ``values`` or a valid-looking value."""
    for p in op.get("parameters", []):
        if p["in"] == "path":
            value = "1" if p["schema"].get("type") == "integer" else "nobody_here"
            path = path.replace("{" + p["name"] + "}", values.get(p["name"], value))
    return path


def routed(doc: dict[str, Any], url: str) -> set[str]:
    """The methods some documented operation answers at ``url``."""
    return {method for method, path, _ in operations(doc)
            if re.fullmatch(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)), url)}


def assert_error_shape(resp: httpx.Response, op: dict[str, Any] | None = None) -> str:
    """The answer is an ``ErrorResponse`` (and a status ``op`` documents); its code."""
    where = (resp.request.method, str(resp.request.url), resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json"), where
    body = ErrorResponse.model_validate(resp.json())
    if op is not None:
        assert str(resp.status_code) in op["responses"], where
        assert body.error.code in op["responses"][str(resp.status_code)]["description"], where
    return body.error.code


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("openapi") / "crm.db"
    document: dict[str, Any] = create_app(Settings(database_url=f"sqlite:///{db}")).openapi()
    return document


def test_every_documented_error_is_an_error_response(doc: dict[str, Any]) -> None:
    wrong = {}
    for method, path, op in operations(doc):
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": ERROR_REF}:
                    wrong[f"{method} {path} {status}"] = schema
    assert wrong == {}


def test_fastapi_validation_shapes_are_nowhere(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert "HTTPValidationError" not in text and "#/components/schemas/ValidationError" \
        not in text
    assert set(doc["components"]["schemas"]) >= {"ErrorResponse", "ErrorItem"}


def test_every_operation_documents_what_any_request_can_get(doc: dict[str, Any]) -> None:
    missing = {}
    for method, path, op in operations(doc):
        need = {"413", "500"}
        if op.get("parameters"):
            need.add("422")
        if "requestBody" in op:
            need |= {"400", "422"}
        if lacking := need - set(op["responses"]):
            missing[f"{method} {path}"] = sorted(lacking)
    assert missing == {}


@pytest.fixture
def bridge(backend: str, tmp_path: Path) -> Iterator[tuple[LiveBridge, dict[str, Any]]]:
    """A bridge with a small body limit and one extra route that crashes (to see the 500)."""
    settings = make_settings(backend, tmp_path, max_body_bytes=BODY_LIMIT)
    app, db, token = app_with_admin(settings)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/boom", boom, include_in_schema=False)
    try:
        with serve_in_thread(app) as url:
            lb = LiveBridge(url, token, settings, db)
            yield lb, httpx.get(url + "/openapi.json").json()
    finally:
        db.engine.dispose()
        if settings.database_schema:
            from tests.conftest import _drop_pg_schema
            _drop_pg_schema(settings.database_schema)


def _send(lb: LiveBridge, method: str, path: str, token: str | None,
          **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, lb.url + path, headers={**headers, **kw.pop("headers", {})},
                         timeout=60, **kw)


def test_auth_failures_answer_the_documented_shape(
        bridge: tuple[LiveBridge, dict[str, Any]]) -> None:
    lb, doc = bridge
    sales = lb.make_user("shape_sales", "sales")
    seen = set()
    for method, path, op in operations(doc):
        url = example_path(path, op)
        # an operation that signs in takes its credentials in the body, never a token
        wrong = {"json": {"username": "nobody_here", "password": "wrong password"}} \
            if op.get("x-signs-in") else {}
        for token in (None, "not-a-token", lb.admin_token + "x"):
            resp = _send(lb, method, url, token, **wrong)
            if wrong:
                assert resp.status_code == 401, (method, url, resp.text)
                seen.add(assert_error_shape(resp, op))
            elif "401" in op["responses"]:
                assert resp.status_code == 401, (method, url, token, resp.text)
                seen.add(assert_error_shape(resp, op))
                assert resp.headers["www-authenticate"] == "Bearer"
            else:
                assert resp.status_code < 400, (method, url, resp.text)
        if "403" in op["responses"] and "ADMIN_ONLY" in op["responses"]["403"]["description"]:
            resp = _send(lb, method, url, sales, json={})
            assert resp.status_code == 403, (method, url, resp.text)
            seen.add(assert_error_shape(resp, op))
    assert {"AUTH_REQUIRED", "AUTH_INVALID", "ADMIN_ONLY", "SIGNIN_FAILED"} <= seen


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_bad_input_answers_the_documented_shape(
        bridge: tuple[LiveBridge, dict[str, Any]]) -> None:
    lb, doc = bridge
    for method, path, op in operations(doc):
        url = example_path(path, op)
        if "requestBody" in op:
            optional = not op["requestBody"].get("required")
            for body in (b'{"a": ', b"\xff\xfe", b"[1, 2]") + (() if optional else (b"null",)):
                resp = _send(lb, method, url, lb.admin_token, content=body,
                             headers={"Content-Type": "application/json"})
                assert resp.status_code in (400, 422), (method, url, body, resp.text)
                assert_error_shape(resp, op)
        for p in op.get("parameters", []):
            bad = "-5" if p["schema"].get("type") == "integer" else "x" * 5000
            target = example_path(path, op, **{p["name"]: bad}) if p["in"] == "path" \
                else f"{url}?{p['name']}={bad}"
            resp = _send(lb, method, target, lb.admin_token, json={})
            assert str(resp.status_code) in op["responses"], (method, target, resp.text)
            if resp.status_code >= 400:
                assert_error_shape(resp, op)
        resp = _send(lb, method, url, lb.admin_token, content=b"x" * (BODY_LIMIT + 1))
        assert resp.status_code == 413, (method, url, resp.text)
        assert assert_error_shape(resp, op) == "BODY_TOO_LARGE"


def test_paths_and_methods_outside_the_document_answer_the_shape(
        bridge: tuple[LiveBridge, dict[str, Any]]) -> None:
    lb, doc = bridge
    for path in ("/nothing", "/api/v1/nothing", "/api/v1/users/a/b/c", "/api/v2/push"):
        resp = _send(lb, "GET", path, lb.admin_token)
        assert resp.status_code == 404 and assert_error_shape(resp) == "NOT_FOUND", path
    for path, ops in doc["paths"].items():
        url = example_path(path, next(iter(ops.values())))
        for method in {"GET", "POST", "PUT", "DELETE", "PATCH"} - routed(doc, url):
            resp = _send(lb, method, url, lb.admin_token)
            assert resp.status_code == 405, (method, url, resp.text)
            assert assert_error_shape(resp) == "METHOD_NOT_ALLOWED"


def test_an_internal_error_answers_the_shape_without_its_traceback(
        bridge: tuple[LiveBridge, dict[str, Any]]) -> None:
    lb, _ = bridge
    resp = _send(lb, "GET", "/test-only/boom", None)
    assert resp.status_code == 500 and assert_error_shape(resp) == "INTERNAL"
    assert "a bug" not in resp.text and "Traceback" not in resp.text
