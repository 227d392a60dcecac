"""The session API of /office/ on a real bridge: a session opens only for a token the
bridge knows, takes uploads in blocks under 5 MB each, belongs to its token, expires,
is swept, and caps what one session may upload; sign-in and the task pane's config."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import httpx
import orjson
import pytest

from addin.office.sessions import SessionStore, owner_of
from tests.conftest import LiveBridge
from tests.office.service_env import error_of, office, office_bridge, workbook

SHEETS = ("_meta", "客户", "联系人", "销售漏斗", "销售漏斗 2026-11-30", "RFM", "Funnel")


def _open(c: httpx.Client, command: str = "pull", *names: str) -> dict[str, object]:
    r = c.post("/api/sessions", json={"command": command, "lang": "zh",
                                      "workbook": workbook(*(names or SHEETS))})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_session_opens_for_a_known_token_and_lists_the_sheets_to_send(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        with office(bridge) as c:
            got = _open(c)
            assert got["upload"] == ["_meta", "客户", "联系人"]  # report sheets are rebuilt
            assert got["max_bytes"] == 4_000_000
            assert _open(c, "show_help")["upload"] == ["_meta"]
        with office(bridge, "crm_not_a_token") as c:
            r = c.post("/api/sessions", json={"command": "pull", "workbook": workbook("x")})
            assert r.status_code == 401 and error_of(r)["code"] == "AUTH_INVALID"
        anonymous = httpx.post(bridge.url + "/office/api/sessions", json={})
        assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "AUTH_REQUIRED"
        assert len(list((tmp_path / "sessions").iterdir())) == 2


def test_bad_requests_name_their_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge, office(bridge) as c:
        r = c.post("/api/sessions", json={"command": "format_disk", "workbook": workbook("a")})
        assert r.status_code == 422
        assert error_of(r)["code"] == "OFFICE_COMMAND_UNKNOWN" and r.json()["error"][
            "field"] == "command"
        r = c.post("/api/sessions", json={"command": "pull", "workbook": {"sheets": [
            {"name": "x" * 40}]}})
        assert r.status_code == 422 and r.json()["error"]["field"] == "workbook.sheets.0.name"
        r = c.post("/api/sessions", content=b"{not json", headers={
            "Content-Type": "application/json"})
        assert r.status_code == 400 and error_of(r)["code"] == "MALFORMED_JSON"
        sid = _open(c)["session"]
        r = c.post(f"/api/sessions/{sid}/cells", json={"sheet": "别的表", "row": 1,
                                                      "values": [[1]]})
        assert r.status_code == 422 and error_of(r)["code"] == "OFFICE_SHEET_UNKNOWN"


def test_upload_in_blocks_kept_as_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge, office(bridge) as c:
        sid = str(_open(c)["session"])
        blocks = [{"sheet": "客户", "row": 1 + 1000 * k, "col": 1,
                   "values": [[f"行{1000 * k + i}", i, i % 2 == 0, ""] for i in range(1000)]}
                  for k in range(3)]
        for block in blocks:
            assert c.post(f"/api/sessions/{sid}/cells", json=block).status_code == 204
        notes = {"sheet": "客户", "notes": [{"row": 5, "col": 2, "text": "备注",
                                             "author": "张伟", "fill": "FFC7CE"}]}
        assert c.post(f"/api/sessions/{sid}/notes", json=notes).status_code == 204
        store = SessionStore(tmp_path / "sessions", 3600, 10**9)
        session = store.get(sid, owner_of(bridge.admin_token))
        assert [orjson.loads(b) for b in session.bodies("cells")] == blocks  # as sent
        assert [orjson.loads(b)["notes"][0]["author"] for b in session.bodies("notes")] == [
            "张伟"]


def test_a_body_over_5_mb_gets_413_with_the_error_body(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        _413(bridge)


def _413(bridge: LiveBridge) -> None:
    with office(bridge) as c:
        sid = _open(c)["session"]
        row = ["x" * 1000] * 10
        big = {"sheet": "客户", "row": 1, "values": [row] * 520}  # about 5.2 MB
        r = c.post(f"/api/sessions/{sid}/cells", json=big)
        assert r.status_code == 413 and error_of(r)["code"] == "BODY_TOO_LARGE"

        def chunks() -> object:  # no Content-Length: counted as it streams
            for _ in range(6):
                yield b" " * 1_000_000

        r = c.post(f"/api/sessions/{sid}/cells", content=chunks())  # type: ignore[arg-type]
        assert r.status_code == 413 and error_of(r)["code"] == "BODY_TOO_LARGE"
        assert r.headers["connection"] == "close"
    with office(bridge) as c:  # a fresh connection: the refused ones were closed
        ok = {"sheet": "客户", "row": 1, "values": [row] * 400}  # about 4 MB
        assert c.post(f"/api/sessions/{sid}/cells", json=ok).status_code == 204


def test_a_session_belongs_to_its_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        other = bridge.make_user("zhang.wei", "sales", team="east-1", region="east")
        with office(bridge) as mine:
            sid = _open(mine)["session"]
        with office(bridge, other) as theirs:
            for r in (theirs.post(f"/api/sessions/{sid}/cells", json={
                    "sheet": "客户", "row": 1, "values": [[1]]}),
                      theirs.post(f"/api/sessions/{sid}/run", json={}),
                      theirs.get(f"/api/sessions/{sid}/actions/0"),
                      theirs.delete(f"/api/sessions/{sid}")):
                assert r.status_code == 404
                assert error_of(r)["code"] == "OFFICE_SESSION_NOT_FOUND"
            assert theirs.get("/api/sessions/../../etc/actions/0").status_code == 404
        with office(bridge) as mine:
            assert mine.delete(f"/api/sessions/{sid}").status_code == 204
            r = mine.get(f"/api/sessions/{sid}/actions/0")
            assert r.status_code == 404
        assert not list((tmp_path / "sessions").iterdir())
        secrets_kept = b"".join(p.read_bytes() for p in (tmp_path / "sessions").rglob("*")
                                if p.is_file())
        assert bridge.admin_token.encode() not in secrets_kept


def test_an_unused_session_expires_and_is_swept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch, CRM_OFFICE_SESSION_TTL="1") as bridge, \
            office(bridge) as c:
        sid, other = _open(c)["session"], _open(c)["session"]
        block = {"sheet": "客户", "row": 1, "values": [["x"] * 10] * 100}
        assert c.post(f"/api/sessions/{sid}/cells", json=block).status_code == 204
        time.sleep(1.3)
        r = c.post(f"/api/sessions/{sid}/cells", json=block)
        assert r.status_code == 410
        err = error_of(r)
        assert err["code"] == "OFFICE_SESSION_EXPIRED" and sid in err["message_en"]
        folder = tmp_path / "sessions" / str(sid)
        assert sorted(p.name for p in folder.iterdir()) == ["session.json", "touched"]
        assert c.get(f"/api/sessions/{sid}/actions/0").status_code == 410  # still says so
        store = SessionStore(tmp_path / "sessions", 1, 10**9)
        assert store.sweep() == 1  # the other one, buried
        assert (tmp_path / "sessions" / str(other) / "info.json").exists() is False
        old = time.time() - 2 * 86_400
        for p in (folder / "touched", tmp_path / "sessions" / str(other) / "touched"):
            os.utime(p, (old, old))
        assert store.sweep() == 2 and not list((tmp_path / "sessions").iterdir())


def test_what_one_session_uploads_is_capped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch,
                       CRM_OFFICE_MAX_SESSION_BYTES="3000000") as bridge, office(bridge) as c:
        sid = _open(c)["session"]
        block = {"sheet": "客户", "row": 1, "values": [["x" * 1000] * 10] * 90}  # ~0.9 MB
        for _ in range(3):
            assert c.post(f"/api/sessions/{sid}/cells", json=block).status_code == 204
        r = c.post(f"/api/sessions/{sid}/cells", json=block)
        assert r.status_code == 413
        err = error_of(r)
        assert err["code"] == "OFFICE_SESSION_TOO_LARGE" and "3000000" in err["message_en"]
        assert len(list((tmp_path / "sessions" / str(sid) / "cells").iterdir())) == 3


def test_a_file_arrives_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge, office(bridge) as c:
        sid = str(_open(c, "import_file")["session"])
        data = bytes(range(256)) * 5000
        cut = [data[:600_000], data[600_000:]]
        name = "旧客户 2024.xlsx"
        for k in (1, 0):  # in any order
            r = c.post(f"/api/sessions/{sid}/files/{name}", json={
                "part": k, "parts": 2, "base64": base64.b64encode(cut[k]).decode()})
            assert r.status_code == 204, r.text
        store = SessionStore(tmp_path / "sessions", 3600, 10**9)
        assert store.get(sid, owner_of(bridge.admin_token)).uploaded_files() == {name: data}
        for bad, field in (({"part": 2, "parts": 2, "base64": ""}, "part"),
                           ({"part": 0, "parts": 3, "base64": ""}, "parts"),
                           ({"part": 0, "parts": 2, "base64": "%%%"}, "base64")):
            r = c.post(f"/api/sessions/{sid}/files/{name}", json=bad)
            assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text


def test_nothing_to_fetch_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge, office(bridge) as c:
        sid = _open(c)["session"]
        for r in (c.get(f"/api/sessions/{sid}/actions/0"),
                  c.get(f"/api/sessions/{sid}/files/upgraded.xlsx")):
            assert r.status_code == 409 and error_of(r)["code"] == "OFFICE_SESSION_NOT_RUN"


def test_sign_in_with_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch, CRM_PUBLIC_URL="https://crm.example.com"
                       ) as bridge:
        url = bridge.url + "/office/api/sign-in"
        r = httpx.post(url, json={"token": bridge.admin_token})
        assert r.status_code == 200
        assert r.json() == {"token": bridge.admin_token, "server": "https://crm.example.com",
                            "user": {"username": "admin", "display_name": "Administrator",
                                     "role": "admin", "team": None, "region": None,
                                     "active": True}}
        r = httpx.post(url, json={"token": "crm_wrong"})
        assert r.status_code == 401 and error_of(r)["code"] == "AUTH_INVALID"
        r = httpx.post(url, json={"username": "admin"})
        assert r.status_code == 422 and r.json()["error"]["field"] == "token"


PASSWORD = "correct horse battery staple"


def _with_password(bridge: LiveBridge, username: str) -> None:
    from bridge.passwords import set_password

    bridge.make_user(username, "sales", team="east-1", region="east")
    with bridge.db.write() as conn:
        set_password(bridge.db, conn, username, PASSWORD)


def test_sign_in_with_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with office_bridge(tmp_path, monkeypatch) as bridge:
        _with_password(bridge, "zhang.wei")
        url = bridge.url + "/office/api/sign-in"
        r = httpx.post(url, json={"username": "zhang.wei", "password": PASSWORD})
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        assert r.json()["user"]["username"] == "zhang.wei" and token != bridge.admin_token
        with office(bridge, token) as c:  # the new token opens sessions
            assert c.post("/api/sessions", json={"command": "pull", "workbook": workbook(
                "_meta")}).status_code == 201
        r = httpx.post(url, json={"username": "zhang.wei", "password": "wrong"})
        assert r.status_code == 401 and error_of(r)["code"] == "SIGNIN_FAILED"


def test_failed_sign_ins_count_against_the_users_address_not_the_services(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a trusted proxy each user's address reaches the bridge's throttle: one
    address guessing is stopped, another user of the same service signs in."""
    with office_bridge(tmp_path, monkeypatch, CRM_FORWARDED_ALLOW_IPS="127.0.0.1",
                       CRM_SIGNIN_ADDRESS_FAILURES="3") as bridge:
        _with_password(bridge, "zhang.wei")
        url = bridge.url + "/office/api/sign-in"
        guesser = {"X-Forwarded-For": "203.0.113.7"}
        codes = [httpx.post(url, headers=guesser, json={"username": f"u{i}",
                                                       "password": "x"}).status_code
                 for i in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[-1] == 429, codes
        r = httpx.post(url, headers={"X-Forwarded-For": "198.51.100.20"},
                       json={"username": "zhang.wei", "password": PASSWORD})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_config_speaks_the_workbooks_language(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    from addin.ribbon.buttons import BUTTONS

    with office_bridge(tmp_path, monkeypatch) as bridge:
        got = httpx.get(bridge.url + "/office/api/config", params={"lang": lang}).json()
    assert got["lang"] == lang
    labels = {b["id"]: b["label"] for b in got["buttons"]}
    assert list(labels) == [b.id for b in BUTTONS]  # the ribbon's, in its order
    for b in BUTTONS:
        assert labels[b.id] == (b.label_zh if lang == "zh" else b.label_en)
    assert got["commands"] == ["pull", "push", "validate", "import_file", "refresh_reports",
                               "upgrade", "show_help"]
    assert got["limits"]["max_bytes"] == 4_000_000
    assert got["limits"]["max_request_bytes"] == 5_000_000
    assert got["requirements"] == {"ExcelApi": "1.10", "notes": "1.18", "SharedRuntime": "1.1"}
