"""Test doubles: a bridge answering from memory (httpx MockTransport) and a port proxy that
counts calls."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from addin.port import WorkbookPort
from schema.dictionary import build_dictionary
from schema.wire import PushRequest


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


class FakeBridge:
    """Just enough of the bridge: /me, /pull of ``n`` customers, /push applying all rows."""

    def __init__(self, customers: int = 0) -> None:
        self.customers = customers
        self.pushed: list[PushRequest] = []
        d = build_dictionary()
        self.fields = {e.code: [f.code for f in e.fields] for e in d}

    def pull_body(self, since: str | None = None) -> dict[str, Any]:
        n = 0 if since else self.customers  # nothing changes between two pulls
        data: dict[str, list[Any]] = {
            "id": [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)],
            "version": [1] * n,
            "name": [f"客户{i:05d}" for i in range(n)],
            "industry": ["it"] * n,
            "phone": ["138 1234 5678"] * n,
            "region": ["east"] * n,
            "shared": [i % 2 == 0 for i in range(n)],
            "notes": [f"=note {i}" if i % 7 == 0 else f"备注 {i}" for i in range(n)],
            "owner": ["alice"] * n,
        }
        cols = ["id", "version", *self.fields["customer"]]
        for c in cols:
            data.setdefault(c, [None] * n)
        return {"cursor": 7, "full": not since,
                "entities": {"customer": {"columns": cols, "data": data, "removed": []}}}

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/me":
            return httpx.Response(200, json={
                "user": {"username": "alice", "display_name": "Alice", "role": "sales",
                         "team": "t1", "region": "east", "active": True},
                "dictionary_version": "1.0.0", "visible_fields": self.fields,
                "writable_fields": self.fields})
        if path == "/pull":
            return httpx.Response(200, json=self.pull_body(request.url.params.get("since")))
        if path == "/push":
            req = PushRequest.model_validate(json.loads(request.content))
            self.pushed.append(req)
            results = [{"entity": r.entity, "id": r.id, "row": r.row, "status": "applied",
                        "version": (r.base_version or 0) + 1} for r in req.rows]
            return httpx.Response(200, json={
                "idempotency_key": req.idempotency_key, "cursor": 8,
                "counts": {"applied": len(results)}, "results": results})
        return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message_zh": "无",
                                                   "message_en": "none"}})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
