"""One JSON body parser for every route: strict UTF-8, orjson, and errors that say where.

A body that is not JSON raises ``json.JSONDecodeError`` (FastAPI turns it into a validation
error, and the app into ``400 MALFORMED_JSON``) whose message names the line, column and
character of the problem, or the byte that is not UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


def _where(doc: str, pos: int) -> str:
    line = doc.count("\n", 0, pos) + 1
    column = pos - (doc.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column} (character {pos + 1})"


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; ``json.JSONDecodeError`` saying what is wrong and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = body[: exc.start].decode("utf-8")
        raise json.JSONDecodeError(
            f"invalid UTF-8: byte 0x{body[exc.start]:02X} at byte {exc.start + 1}, "
            f"{_where(head, len(head))}; send the body encoded as UTF-8", head, len(head),
        ) from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        pos = min(exc.pos, len(text))
        problem = exc.msg if exc.msg != "Input is a zero-length, empty document" \
            else "the body is empty"
        raise json.JSONDecodeError(f"{problem} at {_where(text, pos)}", text, pos) from None


class JsonRequest(Request):
    """A request whose JSON body goes through :func:`parse_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """A route that parses its body with :class:`JsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(JsonRequest(request.scope, request.receive))

        return route
