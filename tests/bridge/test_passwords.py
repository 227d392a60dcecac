"""Password sign-in against a live bridge, on SQLite and PostgreSQL: a right password gets an
ordinary (revocable) token; a wrong password and an unknown user get one answer; failures
are counted in the database per user name and client address (429 with Retry-After, across
a restart and across concurrent attempts), a success forgets them; a changed password ends
the old one; a disabled or revoked user cannot sign in; nothing stores the password."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from bridge.app import create_app
from bridge.errors import ApiError
from bridge.passwords import HASHER, set_password
from bridge.server import serve_in_thread
from bridge.settings import Settings
from tests.conftest import LiveBridge, _drop_pg_schema, make_settings, start_bridge

PASSWORD = "correct horse battery"
LIMIT, ADDRESS_LIMIT, WINDOW = 3, 8, 4


@contextmanager
def restarted(lb: LiveBridge) -> Iterator[LiveBridge]:
    """Another bridge process on the same database (its own app, engine and port)."""
    app = create_app(lb.settings)
    with serve_in_thread(app) as url:
        yield LiveBridge(url, lb.admin_token, lb.settings, app.state.db)
    app.state.db.engine.dispose()


@pytest.fixture
def signin_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    s = make_settings(backend, tmp_path, signin_failures=LIMIT,
                      signin_address_failures=ADDRESS_LIMIT, signin_window_seconds=WINDOW,
                      token_days=30)
    yield s
    if s.database_schema:
        _drop_pg_schema(s.database_schema)


@pytest.fixture
def lb(signin_settings: Settings) -> Iterator[LiveBridge]:
    with start_bridge(signin_settings) as bridge:
        yield bridge


def with_password(lb: LiveBridge, username: str, role: str = "sales",
                  password: str = PASSWORD) -> str:
    """A user made through the admin API, given ``password``; their first token."""
    token = lb.make_user(username, role, "t1", "east")
    with lb.db.write() as conn:
        set_password(lb.db, conn, username, password)
    return token


def sign_in(lb: LiveBridge, username: str, password: str, **extra: Any) -> httpx.Response:
    return httpx.post(lb.url + "/api/v1/auth/token", timeout=60,
                      json={"username": username, "password": password, **extra})


def me(lb: LiveBridge, token: str) -> httpx.Response:
    return httpx.get(lb.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                     timeout=60)


def audit(lb: LiveBridge, action: str) -> list[dict[str, Any]]:
    with lb.client() as c:
        resp = c.get("/audit", params={"action": action})
    assert resp.status_code == 200, resp.text
    return list(resp.json())


def test_a_right_password_gets_an_ordinary_revocable_token(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    resp = sign_in(lb, "amy", PASSWORD, days=7)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["username"] == "amy" and body["user"]["role"] == "sales"
    assert body["user"]["team"] == "t1" and body["user"]["active"] is True
    assert PASSWORD not in resp.text
    assert me(lb, body["token"]).json()["user"]["username"] == "amy"
    days = (_parse(body["expires"]) - time.time()) / 86400
    assert 6.9 < days <= 7.0
    longest = sign_in(lb, "amy", PASSWORD, days=3000).json()  # capped by token_days (30)
    days = (_parse(longest["expires"]) - time.time()) / 86400
    assert 29.9 < days <= 30.0
    entries = audit(lb, "sign_in")
    assert [(e["username"], e["changes"]["address"], e["changes"]["days"])
            for e in entries] == [("amy", "127.0.0.1", 7), ("amy", "127.0.0.1", 30)]
    with lb.client() as c:
        assert c.post("/users/amy/revoke").json()["revoked"] == 3
    assert me(lb, body["token"]).json()["error"]["code"] == "AUTH_REVOKED"


def _parse(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_wrong_password_unknown_user_and_no_password_answer_alike(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    lb.make_user("tokens_only", "sales")  # a user with no password
    answers = [sign_in(lb, name, pw) for name, pw in
               (("amy", "wrong password"), ("nobody_here", PASSWORD),
                ("tokens_only", PASSWORD), ("AMY", PASSWORD))]
    assert {(r.status_code, r.text) for r in answers} == {(401, answers[0].text)}
    error = answers[0].json()["error"]
    assert error["code"] == "SIGNIN_FAILED" and "field" not in error
    assert error["message_en"] == "Wrong user name or password"
    assert "www-authenticate" not in answers[0].headers
    # the known names' failures are audited; the unknown name is not written down
    failed = [e["username"] for e in audit(lb, "sign_in_failed")]
    assert sorted(failed) == ["amy", "tokens_only"]


def test_failures_throttle_a_user_name_until_the_window_passes(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    assert [sign_in(lb, "amy", "guess").status_code for _ in range(LIMIT)] == [401] * LIMIT
    throttled = sign_in(lb, "amy", PASSWORD)  # even the right password waits
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error"]["code"] == "SIGNIN_THROTTLED"
    assert 1 <= int(throttled.headers["retry-after"]) <= WINDOW
    assert "1 分钟" in throttled.json()["error"]["message_zh"]
    assert "1 min" in throttled.json()["error"]["message_en"]
    assert sign_in(lb, "bea", "guess").status_code == 401  # another name is not throttled
    # the count is in the database: a new bridge process on it counts the same failures
    with restarted(lb) as again:
        assert sign_in(again, "amy", PASSWORD).status_code == 429
        time.sleep(int(throttled.headers["retry-after"]) + 0.2)
        assert sign_in(again, "amy", PASSWORD).status_code == 201


def test_a_success_forgets_the_failures(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    for _ in range(2):
        for _ in range(LIMIT - 1):
            assert sign_in(lb, "amy", "guess").status_code == 401
        assert sign_in(lb, "amy", PASSWORD).status_code == 201
    assert sign_in(lb, "amy", "guess").status_code == 401  # 1 failure since the last success


def test_one_address_guessing_many_names_is_throttled(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    assert sign_in(lb, "amy", PASSWORD).status_code == 201  # a success is no failure
    statuses = [sign_in(lb, f"name{i}", "guess").status_code for i in range(ADDRESS_LIMIT)]
    assert statuses == [401] * ADDRESS_LIMIT
    blocked = sign_in(lb, "amy", PASSWORD)
    assert blocked.status_code == 429 and "retry-after" in blocked.headers


def test_concurrent_guesses_count_every_one(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda _: sign_in(lb, "amy", "guess").status_code,
                                   range(12)))
    assert statuses == [401] * LIMIT + [429] * (12 - LIMIT)


def test_a_new_password_ends_the_old_one(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    token = sign_in(lb, "amy", PASSWORD).json()["token"]
    with lb.db.write() as conn:
        set_password(lb.db, conn, "amy", "a new secret phrase")
    assert sign_in(lb, "amy", PASSWORD).status_code == 401
    assert sign_in(lb, "amy", "a new secret phrase").status_code == 201
    assert me(lb, token).status_code == 200  # tokens issued before stay (revoke ends them)


def test_a_disabled_or_revoked_user_cannot_sign_in(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    with_password(lb, "bea")
    with lb.client() as c:
        assert c.post("/users/amy/revoke").status_code == 200
    with lb.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sys_user SET active = false WHERE username = 'bea'"))
    for name in ("amy", "bea"):
        right, wrong = sign_in(lb, name, PASSWORD), sign_in(lb, name, "guess")
        assert right.status_code == 403 and right.json()["error"]["code"] == "SIGNIN_DISABLED"
        assert "token" not in right.text
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "SIGNIN_FAILED"
    with lb.db.write() as conn:  # an admin sets a new password: amy is back
        set_password(lb.db, conn, "amy", "a new secret phrase")
    assert sign_in(lb, "amy", "a new secret phrase").status_code == 201


def test_weak_passwords_are_refused(lb: LiveBridge) -> None:
    lb.make_user("amy", "sales")
    for weak in ("short", "AMY", "x" * 1025):
        with lb.db.write() as conn, pytest.raises(ApiError) as caught:
            set_password(lb.db, conn, "amy", weak)
        assert caught.value.code == "PASSWORD_WEAK"
    with lb.db.write() as conn, pytest.raises(ApiError) as missing:
        set_password(lb.db, conn, "nobody_here", PASSWORD)
    assert missing.value.code == "USER_NOT_FOUND"


def test_an_old_hash_is_made_anew_on_sign_in(lb: LiveBridge) -> None:
    lb.make_user("amy", "sales")
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with lb.db.write() as conn:
        set_password(lb.db, conn, "amy", "placeholder pass")
        conn.execute(sa.text("UPDATE sys_password SET hash = :h WHERE username = 'amy'"),
                     {"h": old})
    assert sign_in(lb, "amy", PASSWORD).status_code == 201
    with lb.db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT hash FROM sys_password")).scalar_one()
    assert stored != old and not HASHER.check_needs_rehash(stored)
    assert sign_in(lb, "amy", PASSWORD).status_code == 201


def test_the_password_is_stored_nowhere(lb: LiveBridge) -> None:
    with_password(lb, "amy")
    secret_name = "typed-my-Passw0rd-here"  # a password typed into the user name box
    for name, pw in (("amy", PASSWORD), ("amy", "a wrong guess 1"), (secret_name, PASSWORD)):
        sign_in(lb, name, pw)
    with lb.db.engine.connect() as conn:
        dump = json.dumps([[list(map(str, r)) for r in conn.execute(sa.select(t))]
                           for t in lb.db.metadata.sorted_tables], ensure_ascii=False)
    for secret in (PASSWORD, "a wrong guess 1", secret_name):
        assert secret not in dump
    assert "$argon2id$" in dump  # the hash is there, and only it


def test_the_request_is_validated_without_echoing_it(lb: LiveBridge) -> None:
    for body in ({"username": "amy"}, {"username": "amy", "password": ""},
                 {"username": "amy", "password": PASSWORD, "days": 0},
                 {"username": "amy", "password": PASSWORD, "extra": 1},
                 {"username": "amy", "password": "x" * 1025}):
        resp = httpx.post(lb.url + "/api/v1/auth/token", json=body, timeout=60)
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"]["code"] == "REQUEST_INVALID"
        assert PASSWORD not in resp.text


def test_the_admin_commands_set_change_and_unlock_passwords(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bridge.cli import app as bridge_cli

    run = CliRunner().invoke
    settings = make_settings("sqlite", tmp_path, signin_failures=LIMIT)
    db = ["--db", settings.database_url]
    with start_bridge(settings) as lb:
        typed = run(bridge_cli, ["user", "add", "amy", "--role", "sales", "--password", *db],
                    input=f"{PASSWORD}\n{PASSWORD}\n")
        assert typed.exit_code == 0 and "crm_" not in typed.stdout, typed.output
        assert PASSWORD not in typed.stdout
        assert sign_in(lb, "amy", PASSWORD).status_code == 201
        weak = run(bridge_cli, ["user", "add", "bea", "--role", "sales", "--password-stdin",
                                *db], input="bea\n")
        assert weak.exit_code == 2 and "at least 8 characters" in weak.output
        for _ in range(LIMIT):
            sign_in(lb, "amy", "guess")
        assert sign_in(lb, "amy", PASSWORD).status_code == 429
        unlocked = run(bridge_cli, ["user", "unlock", "amy", *db])
        assert unlocked.exit_code == 0 and f"{LIMIT} failed" in unlocked.stdout
        assert sign_in(lb, "amy", PASSWORD).status_code == 201
        assert "revoked" in run(bridge_cli, ["user", "revoke", "amy", *db]).stdout
        assert sign_in(lb, "amy", PASSWORD).status_code == 403
        changed = run(bridge_cli, ["user", "passwd", "amy", "--password-stdin", *db],
                      input="another long one\n")
        assert changed.exit_code == 0, changed.output
        assert sign_in(lb, "amy", PASSWORD).status_code == 401
        assert sign_in(lb, "amy", "another long one").status_code == 201
        nobody = run(bridge_cli, ["user", "passwd", "nobody_here", "--password-stdin", *db],
                     input=f"{PASSWORD}\n")
        assert nobody.exit_code == 1 and "does not exist" in nobody.output


def test_failures_older_than_the_window_are_purged(db: Any) -> None:
    from datetime import timedelta

    from bridge import throttle

    limits = throttle.Limits(per_user=2, per_address=0, window=timedelta(seconds=1))
    for _ in range(2):
        throttle.begin(db, limits, "amy", "10.0.0.1")
    with pytest.raises(ApiError) as caught:
        throttle.begin(db, limits, "amy", "10.0.0.1")
    assert caught.value.code == "SIGNIN_THROTTLED"
    assert caught.value.headers == {"Retry-After": "1"}
    time.sleep(1.1)
    throttle.begin(db, limits, "bea", None)  # any attempt purges what has aged out
    with db.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT subject FROM sys_signin_failure")).scalars().all()
        assert left == [throttle.subject("user", "bea")]
        assert throttle.failures(db, conn, "bea", limits.window) == 1
