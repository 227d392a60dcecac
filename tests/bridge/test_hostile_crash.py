"""After an unexpected exception the bridge answers ``500 INTERNAL`` with the catalogued
body and ``Connection: close``, so the client's next request works; and the add-in's client
retries at once on a fresh connection when a kept-alive one was dropped (issue 17, item 2)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from addin.client import BridgeClient, RetryInfo
from bridge.routes import meta
from tests.bridge.test_bad_input import assert_error
from tests.conftest import LiveBridge


def _boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("a bug, not bad input")


def test_a_crash_closes_the_connection_cleanly(live_bridge_any: LiveBridge,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meta, "visible_fields", _boom)  # GET /me now fails inside the app
    with live_bridge_any.client() as c:  # one keep-alive connection for every request
        assert c.get("/health").status_code == 200
        for _ in range(3):
            r = c.get("/me")
            err = assert_error(r, 500, "INTERNAL")
            assert "contact your admin" in err["message_en"] and "{" not in err["message_zh"]
            assert r.headers.get("connection") == "close", r.headers
            # the next request on the same client gets through (a fresh connection)
            assert c.get("/health").status_code == 200
            r = c.post("/push", json={})
            assert_error(r, 422, "REQUEST_INVALID")
        assert "RuntimeError" not in r.text


@contextmanager
def _dropping_server(how: str) -> Iterator[tuple[str, list[int]]]:
    """A server that answers the first request on each connection, keeps it alive, then
    drops it (``close``: without an answer; ``reset``: with an RST) when the next request
    arrives: what a crashed bridge without ``Connection: close`` did."""
    body = (b'{"user": {"username": "u", "display_name": "U", "role": "sales", "team": null, '
            b'"region": null, "active": true}, "dictionary_version": "1.0.0", '
            b'"visible_fields": {}, "writable_fields": {}}')
    answer = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    served: list[int] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            for n in range(2):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                if n == 1:
                    if how == "reset":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                served.append(1)  # before answering: the client may check as soon as it reads
                conn.sendall(answer)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", served
    finally:
        listener.close()


@pytest.mark.parametrize("how", ["close", "reset"])
def test_the_client_retries_a_dropped_connection_on_a_fresh_one(how: str) -> None:
    slept: list[float] = []
    seen: list[RetryInfo] = []
    with _dropping_server(how) as (url, served), BridgeClient(
            url, "tok", attempts=1, sleep=slept.append, on_retry=seen.append) as client:
        for _ in range(3):
            assert client.me().user.username == "u"
        assert len(served) == 3  # each on its own connection, after the old one dropped
    assert slept == []  # no backoff: the retry is immediate
    assert len(seen) == 2 and all(s.delay == 0 for s in seen), seen
    assert {s.reason for s in seen} <= {"RemoteProtocolError", "ReadError", "WriteError"}


def test_a_plain_httpx_client_sees_the_500_and_carries_on(live_bridge: LiveBridge,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The same over the add-in's client: the 500 is retried as a server error and comes
    back typed, and a later call on the same client works."""
    monkeypatch.setattr(meta, "visible_fields", _boom)
    slept: list[float] = []
    with BridgeClient(live_bridge.url, live_bridge.admin_token, attempts=2,
                      sleep=slept.append) as client:
        with pytest.raises(Exception) as exc:
            client.me()
        assert getattr(exc.value, "code", None) == "INTERNAL", exc.value
        assert client.get_json("/health")["status"] == "ok"
    with httpx.Client(base_url=live_bridge.url) as c:
        assert c.get("/api/v1/health").status_code == 200
