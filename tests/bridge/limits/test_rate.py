"""Rate limits per token and per client address, shared by bridges on one database."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bridge.auth import add_user, issue_token
from bridge.settings import Settings
from schema.wire import ErrorResponse
from tests.bridge.limits.conftest import bridges
from tests.conftest import make_settings

DAY = 86_400  # a window no test run straddles unless it crosses midnight UTC


def window_of(window: int) -> int:
    return int(time.time() // window)


def limited(settings: Settings, **kw: object) -> Settings:
    for k, v in kw.items():
        setattr(settings, k, v)
    return settings


def assert_limited(resp: httpx.Response, window: int, limit: int, named_en: str,
                   named_zh: str) -> None:
    assert resp.status_code == 429, resp.text
    err = ErrorResponse.model_validate(resp.json()).error
    assert err.code == "RATE_LIMITED"
    wait = int(resp.headers["Retry-After"])
    assert 1 <= wait <= window
    assert named_en in err.message_en and f"{limit} requests per {window} s" in err.message_en
    assert f"retry in {wait} s" in err.message_en
    assert named_zh in err.message_zh and f"{wait} 秒后重试" in err.message_zh


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_bridges_share_a_token_limit(backend: str, tmp_path: Path) -> None:
    """Requests of one token alternate between two bridges: the limit counts them all."""
    limit = 6
    s = limited(make_settings(backend, tmp_path), rate_window_seconds=DAY,
                rate_token_requests=limit, rate_address_requests=0)
    with bridges(s, 2) as b:
        for attempt in range(2):  # once more if the window turned during the run
            start, tok = window_of(DAY), b.user(f"amy{attempt}")
            with b.client(0, tok) as c0, b.client(1, tok) as c1:
                answers = [(c0, c1)[i % 2].get("/me") for i in range(limit + 3)]
            if window_of(DAY) == start:
                break
        assert [r.status_code for r in answers] == [200] * limit + [429] * 3
        for r in answers[limit:]:  # refused on either bridge, naming the token's limit
            assert_limited(r, DAY, limit, "token (role Sales)", "此令牌（角色“销售”）")
        with b.client(0, b.user("bob")) as other:  # another token has its own count
            assert other.get("/me").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_requests_on_two_bridges_pass_exactly_the_limit(backend: str,
                                                                   tmp_path: Path) -> None:
    limit, sent = 15, 40
    s = limited(make_settings(backend, tmp_path), rate_window_seconds=DAY,
                rate_token_requests=limit, rate_address_requests=0)
    with bridges(s, 2) as b:
        for attempt in range(2):
            start, tok = window_of(DAY), b.user(f"cat{attempt}")

            def one(i: int, tok: str = tok) -> int:
                with b.client(i % 2, tok) as c:
                    return c.get("/me").status_code

            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(one, range(sent)))
            if window_of(DAY) == start:
                break
        assert sorted(codes) == [200] * limit + [429] * (sent - limit)
        t = b.db.table("sys_rate_window")
        with b.db.read() as conn:  # one row per subject and window, counting every request
            rows = conn.execute(select(t.c.hits)).scalars().all()
        assert sent in rows


def test_bad_tokens_count_against_the_address_and_health_is_exempt(tmp_path: Path) -> None:
    limit = 4
    s = limited(make_settings("sqlite", tmp_path), rate_window_seconds=DAY,
                rate_address_requests=limit)
    with bridges(s, 2) as b, b.client(0, "not-a-token") as c0, \
            b.client(1, "not-a-token") as c1:
        codes = [(c0, c1)[i % 2].get("/me").status_code for i in range(limit + 2)]
        if codes.count(401) > limit:  # the window turned during the run
            codes = [c0.get("/me").status_code for _ in range(limit + 2)]
        assert codes == [401] * limit + [429] * 2
        assert_limited(c1.get("/pull"), DAY, limit, "client address 127.0.0.1",
                       "客户端地址 127.0.0.1")
        # a good token from that address is refused too: the address is over its limit
        with b.client(0, b.user("dan")) as good:
            assert good.get("/me").status_code == 429
        for path in ("/health",):  # never counted
            assert all(c0.get(path).status_code == 200 for _ in range(limit + 2))
        for path in ("/openapi.json", "/docs"):
            assert all(httpx.get(b.urls[0] + path).status_code == 200
                       for _ in range(limit + 2))


def test_limits_follow_the_role(tmp_path: Path) -> None:
    s = limited(make_settings("sqlite", tmp_path), rate_window_seconds=DAY,
                rate_token_requests=50, rate_role_requests={"manager": 2},
                rate_address_requests=0)
    with bridges(s) as b:
        boss, amy = b.user("boss", "manager"), b.user("amy")
        with b.client(0, boss) as c:
            codes = [c.get("/me").status_code for _ in range(4)]
            assert codes.count(429) >= 2 and codes[0] == 200  # 2 (3 if the window turned)
            assert_limited(c.get("/me"), DAY, 2, "token (role Sales manager)",
                           "此令牌（角色“销售经理”）")
        with b.client(0, amy) as c:
            assert [c.get("/me").status_code for _ in range(4)] == [200] * 4


def test_a_limit_of_zero_counts_nothing(tmp_path: Path) -> None:
    s = limited(make_settings("sqlite", tmp_path), rate_token_requests=0,
                rate_role_requests={}, rate_address_requests=0)
    with bridges(s) as b, b.client(0, b.user("amy")) as c:
        assert all(c.get("/me").status_code == 200 for _ in range(5))
        with b.db.read() as conn:
            t = b.db.table("sys_rate_window")
            assert conn.execute(select(func.count()).select_from(t)).scalar_one() == 0


def test_ended_windows_are_purged_and_retry_after_ends_the_wait(tmp_path: Path) -> None:
    """A 2-second window: the refused client waits Retry-After and is let in; the new
    window's first request deletes the ended one."""
    s = limited(make_settings("sqlite", tmp_path), rate_window_seconds=2,
                rate_token_requests=1, rate_address_requests=0)
    with bridges(s) as b, b.client(0, b.user("amy")) as c:
        refused, refused_window = None, 0
        for _ in range(3):  # 2 requests in one window (the first may fall at its end)
            if c.get("/me").status_code == 200 and (r := c.get("/me")).status_code == 429:
                refused, refused_window = r, window_of(2)
                break
        assert refused is not None
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2
        time.sleep(wait + 0.05)
        assert c.get("/me").status_code == 200
        t = b.db.table("sys_rate_window")
        with b.db.read() as conn:
            starts = conn.execute(select(t.c.window_start)).scalars().all()
        assert len(starts) == 1 and starts[0] // 2 > refused_window


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_bridge_processes_share_a_token_limit(backend: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with real processes (``uvicorn --factory bridge.app:app_from_env``)."""
    from tests.bridge import procs

    limit = 5
    s = make_settings(backend, tmp_path)
    plain_env = procs.bridge_env

    def env(settings: Settings) -> dict[str, str]:
        return {**plain_env(settings), "CRM_RATE_WINDOW_SECONDS": str(DAY),
                "CRM_RATE_TOKEN_REQUESTS": str(limit), "CRM_RATE_ROLE_REQUESTS": "{}",
                "CRM_RATE_ADDRESS_REQUESTS": "0"}

    monkeypatch.setattr(procs, "bridge_env", env)
    procs.prepare_database(s)
    db = procs.open_db(s)
    started = [procs.start_bridge_proc(s, tmp_path / "logs") for _ in range(2)]
    try:
        for attempt in range(2):  # once more with a new token if the window turned
            with db.write() as conn:
                add_user(db, conn, f"amy{attempt}", "sales", "t1", "east")
                tok = issue_token(db, conn, f"amy{attempt}", days=1)
            start = window_of(DAY)
            codes = [httpx.get(started[i % 2].api + "/me", timeout=30,
                               headers={"Authorization": f"Bearer {tok}"}).status_code
                     for i in range(limit + 2)]
            if window_of(DAY) == start:
                break
        assert codes == [200] * limit + [429] * 2
    finally:
        for p in started:
            p.kill()
        db.engine.dispose()
