"""Security headers on every answer of the JSON API (OWASP API8, docs/security.md).

Answers under ``/api/`` are data, never a page: a browser must not sniff them into HTML,
frame them, send them on as a referrer or keep them in a cache (they hold customer data).
Other paths (the ``/docs`` page, a plugin's pages that Office frames) keep their own rules.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Add :data:`API_HEADERS` to every answer whose path starts with ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                names = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = [*msg.get("headers", []),
                                  *(h for h in API_HEADERS if h[0] not in names)]
            await send(msg)

        await self.app(scope, receive, with_headers)
