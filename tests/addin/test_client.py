"""The HTTP client: retries with backoff, Retry-After, typed errors, same bytes on retry;
and the token store."""

from __future__ import annotations

import httpx
import pytest

from addin import credentials
from addin.client import BridgeClient, BridgeError, RetryInfo, normalize_server
from schema.wire import PushRequest, RowChange

ME = {"user": {"username": "u", "display_name": "U", "role": "sales", "team": None,
               "region": None, "active": True},
      "dictionary_version": "1.0.0", "visible_fields": {}, "writable_fields": {}}


def _client(handler: object, **kw: object) -> tuple[BridgeClient, list[float], list[RetryInfo]]:
    slept: list[float] = []
    seen: list[RetryInfo] = []
    client = BridgeClient("http://bridge.test", "tok",
                          transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
                          sleep=slept.append, on_retry=seen.append, **kw)  # type: ignore[arg-type]
    return client, slept, seen


def test_retries_5xx_429_and_connection_errors_then_succeeds() -> None:
    answers = iter([
        httpx.ConnectError("refused"),
        httpx.Response(503, text="busy"),
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {
            "code": "RATE_LIMITED", "message_zh": "慢点", "message_en": "slow down"}}),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json=ME),
    ])
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer tok"
        bodies.append(request.content)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, slept, seen = _client(handler, backoff=0.5)
    assert client.me().user.username == "u"
    assert slept == [0.5, 1.0, 7.0, 4.0]  # exponential, except where the server said
    assert [r.reason for r in seen] == ["ConnectError", "HTTP 503", "HTTP 429", "ReadTimeout"]
    assert "重试" in seen[0].message("zh") and "retrying" in seen[0].message("en")


def test_a_retried_push_sends_the_same_bytes_and_key() -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        if len(bodies) == 1:
            raise httpx.ReadError("reset after the server applied it")
        return httpx.Response(200, json={"idempotency_key": "push-abcdef12", "replayed": True,
                                         "cursor": 3, "counts": {}, "results": []})

    client, _, _ = _client(handler)
    req = PushRequest(idempotency_key="push-abcdef12", template_version="1.0.0",
                      rows=[RowChange(op="insert", entity="customer", id="x",
                                      values={"name": "甲"})])
    assert client.push(req).replayed
    assert len(bodies) == 2 and bodies[0] == bodies[1] and b"push-abcdef12" in bodies[0]


def test_errors_are_typed_with_codes() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": {
            "code": "TEMPLATE_OUTDATED", "message_zh": "请升级", "message_en": "upgrade"}})

    client, slept, _ = _client(refused)
    with pytest.raises(BridgeError) as e:
        client.me()
    assert (e.value.code, e.value.status, e.value.message_zh) == ("TEMPLATE_OUTDATED", 409,
                                                                  "请升级")
    assert slept == []  # 4xx is final: no retry

    client, slept, _ = _client(lambda r: httpx.Response(502, text="<html>bad gateway"),
                               attempts=3)
    with pytest.raises(BridgeError) as e:
        client.me()
    assert e.value.code == "BRIDGE_BAD_RESPONSE" and len(slept) == 2

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, slept, _ = _client(down, attempts=2)
    with pytest.raises(BridgeError) as e:
        client.me()
    assert e.value.code == "BRIDGE_UNREACHABLE" and "bridge.test" in e.value.message_en

    client, _, _ = _client(lambda r: httpx.Response(200, json={"nonsense": 1}))
    with pytest.raises(BridgeError) as e:
        client.me()
    assert e.value.code == "BRIDGE_BAD_RESPONSE"


def test_server_urls_are_normalized() -> None:
    assert normalize_server(" crm.example.com/ ") == "https://crm.example.com"
    assert normalize_server("http://127.0.0.1:8000/api/v1/") == "http://127.0.0.1:8000"
    with pytest.raises(BridgeError) as e:
        normalize_server("ftp://x")
    assert e.value.code == "SERVER_URL_INVALID"


def test_tokens_live_in_the_keyring_not_the_workbook(monkeypatch: pytest.MonkeyPatch,
                                                      memory_keyring: object) -> None:
    credentials.save_token("https://crm.example.com/", " secret ")
    assert credentials.load_token("crm.example.com") == "secret"
    assert memory_keyring.store == {  # type: ignore[attr-defined]
        ("excel-crm", "https://crm.example.com"): "secret"}
    monkeypatch.setenv("CRM_TOKEN", "from-env")
    assert credentials.load_token("https://crm.example.com") == "from-env"
    monkeypatch.delenv("CRM_TOKEN")
    credentials.delete_token("https://crm.example.com")
    assert credentials.load_token("https://crm.example.com") is None
