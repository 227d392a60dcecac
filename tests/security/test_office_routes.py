"""The Office plugin's own routes (``/office/``, outside the bridge's OpenAPI document): every
route is either one of the declared public pages or a session route that refuses a request
without a token (401) and another user's session (404)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from addin.office.service import OfficeService
from addin.office.settings import OfficeSettings
from tests.office.service_env import error_of, office, office_bridge, workbook

# served to anyone: Office loads these before a sign-in (pages, manifest, the button list)
PUBLIC = {"GET /manifest.xml", "GET /", "GET /taskpane.html", "GET /signin.html",
          "GET /api/config", "POST /api/sign-in"}
SESSION = "/api/sessions/{sid}"


def office_routes() -> set[str]:
    app = OfficeService(OfficeSettings()).app
    return {f"{m} {r.path}" for r in app.routes if isinstance(r, APIRoute) for m in r.methods}


def _call(client: httpx.Client, name: str, sid: str) -> httpx.Response:
    method, path = name.split(" ", 1)
    url = path.replace("{sid}", sid).replace("{page}", "0").replace("{name}", "source.xlsx")
    body = {"part": 0, "parts": 1, "base64": ""} if "/files/" in url else {}
    return client.request(method, url, json=body if method == "POST" else None)


def test_every_office_route_is_public_or_a_session_route() -> None:
    routes = office_routes()
    pages = {r for r in routes if r.startswith("GET /") and r.endswith(".html")}
    rest = routes - PUBLIC - pages
    assert rest and all(r.split(" ", 1)[1].startswith("/api/sessions") for r in rest), rest


def test_session_routes_refuse_no_token_and_another_users_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        other = bridge.make_user("li.lei", "sales", team="east-1", region="east")
        with office(bridge) as mine:
            opened = mine.post("/api/sessions", json={
                "command": "validate", "lang": "en", "options": {},
                "workbook": workbook("_meta")})
            assert opened.status_code == 201, opened.text
            sid = opened.json()["session"]
        routes = sorted(r for r in office_routes() if SESSION in r)
        assert routes
        with office(bridge, other) as theirs, office(bridge, "") as nobody:
            nobody.headers.pop("Authorization")
            for name in routes:
                refused = _call(nobody, name, sid)
                assert refused.status_code == 401, (name, refused.text)
                foreign = _call(theirs, name, sid)
                assert foreign.status_code == 404, (name, foreign.text)
                assert error_of(foreign)["code"] == "OFFICE_SESSION_NOT_FOUND"
