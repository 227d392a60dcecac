"""OWASP API2 (authentication), API7 (server-side request forgery), API8 (misconfiguration)
and API10 (unsafe consumption: the add-in's reading of bridge answers)."""

from __future__ import annotations

import ast
import hashlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select, update

from addin.client import BridgeClient, BridgeError
from bridge.headers import API_HEADERS
from bridge.passwords import set_password
from bridge.server import serve_in_thread
from schema.errors import ErrorCode
from tests.bridge.helpers import body, insert
from tests.conftest import LiveBridge

ROOT = Path(__file__).resolve().parents[2]


# --- API2: authentication -------------------------------------------------------------------


def test_tokens_are_stored_hashed_expire_and_revoke(live_bridge_any: LiveBridge) -> None:
    b = live_bridge_any
    token = b.make_user("a2", "sales", "t1", "east")
    t = b.db.table("sys_token")
    with b.db.engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(select(t))]
    assert not any(token in str(v) for row in stored for v in row.values())
    assert hashlib.sha256(token.encode()).hexdigest() in {r["token_hash"] for r in stored}
    codes = {}
    for name, header in {"none": None, "garbage": "Bearer crm_nope", "scheme": f"Basic {token}"
                         }.items():
        r = httpx.get(b.url + "/api/v1/me", headers={"Authorization": header} if header else {})
        codes[name] = (r.status_code, r.json()["error"]["code"], r.headers["www-authenticate"])
    assert codes == {"none": (401, "AUTH_REQUIRED", "Bearer"),
                     "garbage": (401, "AUTH_INVALID", "Bearer"),
                     "scheme": (401, "AUTH_REQUIRED", "Bearer")}
    with b.client(token) as c:
        assert c.get("/me").status_code == 200
        with b.db.write() as conn:
            conn.execute(update(t).where(t.c.username == "a2").values(
                expires_at=t.c.created_at))
        assert c.get("/me").json()["error"]["code"] == "AUTH_EXPIRED"
    fresh = b.make_user("a3", "sales")
    with b.client() as admin:
        assert admin.post("/users/a3/revoke").json() == {"revoked": 1}
    with b.client(fresh) as c:
        assert c.get("/me").json()["error"]["code"] == "AUTH_REVOKED"


def test_password_guessing_is_throttled(live_bridge: LiveBridge) -> None:
    b = live_bridge
    b.make_user("a4", "sales")
    with b.db.write() as conn:
        set_password(b.db, conn, "a4", "Correct-horse-9-battery")
    tries = b.settings.signin_failures
    answers = [httpx.post(b.url + "/api/v1/auth/token", json={
        "username": "a4", "password": f"guess-{i}"}) for i in range(tries + 1)]
    assert [r.status_code for r in answers] == [401] * tries + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    right = httpx.post(b.url + "/api/v1/auth/token",
                       json={"username": "a4", "password": "Correct-horse-9-battery"})
    assert right.status_code == 429  # the right password waits too: no oracle


# --- API7: no server-side fetch of a URL a user gives ---------------------------------------

FETCHERS = {"httpx", "requests", "urllib.request", "urllib3", "aiohttp", "http.client",
            "smtplib", "ftplib", "socket", "pycurl"}
ALLOWED_FETCHERS = {"bridge/server.py": {"socket"}}  # free_port binds a loopback socket


def test_bridge_imports_no_client_that_fetches() -> None:
    """The bridge makes no outgoing request; a module that starts to must be named here
    (and its URLs checked against an allow-list: the webhooks of automation will)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        hits = {n for n in names if n in FETCHERS or n.split(".")[0] in FETCHERS - {"urllib"}}
        rel = str(path.relative_to(ROOT))
        if hits - ALLOWED_FETCHERS.get(rel, set()):
            found[rel] = hits
    assert found == {}


def test_urls_in_data_are_never_fetched(live_bridge_any: LiveBridge) -> None:
    """A listener on loopback sees no connection while URLs naming it go through a push, an
    import's dry run and confirm, the reports and a mapping."""
    hits: list[Any] = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    url = f"http://127.0.0.1:{srv.getsockname()[1]}/ssrf"
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                hits.append(srv.accept())
            except TimeoutError:
                continue
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    b = live_bridge_any
    try:
        with b.client() as c:
            assert c.post("/push", json=body(insert("customer", name="庚公司", website=url))
                          ).json()["counts"]["applied"] == 1
            iid = c.post("/imports", json={"entity": "customer", "file_name": url}).json()["id"]
            c.post(f"/imports/{iid}/rows", json={"rows": [{"source_row": 1, "values": {
                "customer": {"name": "辛公司", "website": url}}}]}).raise_for_status()
            c.post(f"/imports/{iid}/dry-run").raise_for_status()
            assert c.post(f"/imports/{iid}/confirm").status_code == 200
            for report in ("funnel", "rfm", "kpis"):
                assert c.get(f"/reports/{report}").status_code == 200
        time.sleep(0.5)
    finally:
        stop.set()
        srv.close()
    assert hits == []


# --- API8: misconfiguration -----------------------------------------------------------------


def test_no_cors_no_debug_no_tracebacks_and_security_headers(live_bridge: LiveBridge) -> None:
    b = live_bridge
    evil = {"Origin": "https://evil.example", "Authorization": f"Bearer {b.admin_token}"}
    answers = [httpx.get(b.url + "/api/v1/pull", headers=evil),
               httpx.options(b.url + "/api/v1/pull", headers={
                   **evil, "Access-Control-Request-Method": "GET"}),
               httpx.get(b.url + "/api/v1/nope"), httpx.post(b.url + "/api/v1/me"),
               httpx.post(b.url + "/api/v1/push", headers=evil, content=b"{oops")]
    assert [r.status_code for r in answers] == [200, 405, 404, 405, 422]
    for r in answers:
        assert not any(h.startswith("access-control-") for h in r.headers), r.headers
        assert "Traceback" not in r.text and "File \"" not in r.text
        for name, value in API_HEADERS:
            assert r.headers.get(name.decode()) == value.decode(), (r.request.url, name)
    assert httpx.get(b.url + "/docs").status_code == 200  # the docs page keeps its own rules
    assert "x-frame-options" not in httpx.get(b.url + "/docs").headers


def test_an_internal_error_answers_without_its_traceback(live_bridge: LiveBridge) -> None:
    b = live_bridge
    with b.db.write() as conn:  # a broken row: the server will crash reading it
        conn.exec_driver_sql("UPDATE sys_user SET role = 'nonsense' WHERE username = 'admin'")
    r = httpx.get(b.url + "/api/v1/me", headers={"Authorization": f"Bearer {b.admin_token}"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL"
    assert "Traceback" not in r.text and "nonsense" not in r.text and ".py" not in r.text
    for name, value in API_HEADERS:  # a crash answer carries the security headers too
        assert r.headers.get(name.decode()) == value.decode(), name


# --- API10: the add-in consumes bridge answers through schema-validated models --------------

HOSTILE: list[tuple[int, bytes]] = [
    (200, b"<html>not json</html>"), (200, b'{"cursor": "many", "entities": 5}'),
    (200, b'{"results": [{"status": "owned"}]}'), (200, b"[]" * 3),
    (500, b"Traceback (most recent call last):\n  File \"x.py\""),
    (418, b'{"error": {"code": 7}}'),
]


@pytest.fixture
def hostile_bridge() -> Any:
    app = FastAPI()
    state = {"answer": HOSTILE[0]}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
    def anything(path: str) -> Response:
        status, content = state["answer"]
        return PlainTextResponse(content, status_code=status, media_type="application/json")

    with serve_in_thread(app) as url:
        yield url, state


def test_hostile_answers_become_typed_errors(hostile_bridge: Any) -> None:
    url, state = hostile_bridge
    from schema.wire import PushRequest
    push = PushRequest(idempotency_key="k-12345678", template_version="1", rows=[])
    calls = {"me": lambda c: c.me(), "pull": lambda c: c.pull(), "push": lambda c: c.push(push),
             "imports": lambda c: c.imports(), "import": lambda c: c.import_get("x")}
    seen = set()
    for answer in HOSTILE:
        state["answer"] = answer
        with BridgeClient(url, "crm_token", attempts=1) as client:
            for name, call in calls.items():
                with pytest.raises(BridgeError) as err:  # every hostile answer is typed
                    call(client)
                seen.add(err.value.code)
                assert len(str(err.value)) < 600, (name, answer)  # echoed, but bounded
    assert ErrorCode.BRIDGE_BAD_RESPONSE in seen
