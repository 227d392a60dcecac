"""Test helpers around real parts: a port proxy that counts calls, and a transport that
forwards to the real bridge and keeps what the pushes sent and got back.

There is no bridge double any more: every add-in test that needs a server runs the real
one (``live_bridge``/``live_bridge_any`` in ``tests/conftest.py``). Failures a real bridge
cannot be made to produce (a lost answer, a proxy's HTML 502, a refused connection) are
written next to the test that needs them, each saying why.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from addin.port import WorkbookPort


class CountingPort:
    """Forwards to a real port and counts every call by method name."""

    def __init__(self, inner: WorkbookPort) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kw: Any) -> Any:
            self.calls[name] += 1
            return target(*args, **kw)

        return counted


class RecordPushes(httpx.HTTPTransport):
    """Forwards every request to the real bridge; keeps each push's body and its results."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/push"):
            self.sent.append(json.loads(request.content))
            response.read()
            self.results += json.loads(response.content).get("results", [])
        return response
