"""The FastAPI application: wiring of settings, database, error shape and routes."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bridge.db import Database, connect, create_schema
from bridge.errors import ApiError
from bridge.headers import API_HEADERS, SecurityHeaders
from bridge.plugins import mount_plugins
from bridge.routes import admin, auth, imports, meta, privacy, pulls, reports, sync
from bridge.routes.responses import errors
from bridge.settings import Settings
from schema.dictionary import Dictionary, build_dictionary
from schema.errors import ErrorCode
from schema.validation import validate_frame
from schema.wire import ErrorItem

log = logging.getLogger("crm.bridge")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (declared or streamed) with a 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _send_error(send, ApiError(ErrorCode.BODY_TOO_LARGE, max=self.limit))
            return
        seen, refused = 0, False

        # Raising from receive() would be swallowed by FastAPI's body parsing (a generic
        # 400), so answer the 413 here, tell the app the client left, and drop its reply.
        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                refused = True
                await _send_error(send, ApiError(ErrorCode.BODY_TOO_LARGE, max=self.limit))
                return {"type": "http.disconnect"}
            return msg

        async def guarded(msg: Message) -> None:
            if not refused:
                await send(msg)

        await self.app(scope, counted, guarded)


async def _send_error(send: Send, err: ApiError) -> None:
    resp = JSONResponse(err.body(), status_code=err.status, headers=err.headers)
    await resp({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - never called for a response
    return {"type": "http.disconnect"}


_SOURCES = ("body", "query", "path", "header", "cookie")  # where, not which field
# pydantic names the member of a union it tried (``values.website.str``): not a field
_UNION_TAG = re.compile(r"(str|int|float|bool|none|list|dict|[a-z-]+\[.*\])")


def location(loc: tuple[Any, ...] | list[Any]) -> str:
    """A field path as a person reads it: ``rows[3].values.website`` in the body (``body``
    for the body as a whole), ``query.since`` for a query parameter."""
    parts = list(loc)
    source = str(parts.pop(0)) if parts and parts[0] in _SOURCES else "body"
    out = "" if source == "body" else source
    for p in parts:
        if isinstance(p, str) and _UNION_TAG.fullmatch(p):
            continue
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or source


def _validation_error(exc: RequestValidationError) -> ApiError:
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        detail = next(str(e.get("ctx", {}).get("error", e.get("msg"))) for e in errs
                      if e.get("type") == "json_invalid")
        return ApiError(ErrorCode.MALFORMED_JSON, detail=detail)
    items: list[ErrorItem] = []
    seen: set[str] = set()
    for e in errs[:200]:
        loc = location(e.get("loc", ()))
        if loc in seen:  # the other members of a union: the first says enough
            continue
        seen.add(loc)
        if len(items) == 50:
            break
        detail = f"{loc}: {e.get('msg')}"
        err = ApiError(ErrorCode.REQUEST_INVALID, detail=detail, field=loc)
        items.append(err.item)
    first = items[0] if items else ApiError(ErrorCode.REQUEST_INVALID, detail="?").item
    return ApiError(ErrorCode.REQUEST_INVALID, detail=first.message_en.split(": ", 1)[-1],
                    field=first.field, errors=items)


def crash_response(exc: BaseException) -> JSONResponse:
    """The answer to an unexpected exception: ``500 INTERNAL`` with a reference to the log
    entry, and ``Connection: close``. The server drops the connection after a crash; saying
    so lets the client open a fresh one for its next request instead of reusing a dead one."""
    ref = uuid.uuid4().hex[:12]
    log.error("internal error %s", ref, exc_info=exc)
    err = ApiError(ErrorCode.INTERNAL, ref=ref)
    headers = {"Connection": "close"} | {k.decode(): v.decode() for k, v in API_HEADERS}
    # (Starlette answers a crash outside every middleware: the security headers go here)
    return JSONResponse(err.body(), status_code=500, headers=headers)


def _warm_validation(dictionary: Dictionary) -> None:
    """pandera loads its backends (and hypothesis) on first use, ~0.3 s: pay that when the
    bridge starts, not in the first push."""
    entity = next(iter(dictionary))
    validate_frame(dictionary, entity.code, pd.DataFrame({c: ["x"] for c in
                                                          entity.field_codes()}, dtype=object))


def create_app(settings: Settings | None = None, dictionary: Dictionary | None = None,
               db: Database | None = None) -> FastAPI:
    """A bridge app; creates missing tables on start (idempotent)."""
    settings = settings or Settings()
    dictionary = dictionary or build_dictionary()
    db = db or connect(settings, dictionary)
    create_schema(db, settings.database_schema)
    _warm_validation(dictionary)
    app = FastAPI(
        title="Excel CRM bridge", version=dictionary.version,
        description="Central store of the Excel-native CRM: push, pull, audit, reports.",
        openapi_url="/openapi.json", docs_url="/docs",
        responses=errors(),  # every route: 413 and 500 as ErrorResponse
    )
    app.state.settings, app.state.dictionary, app.state.db = settings, dictionary, db

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = _validation_error(exc)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            err = ApiError(ErrorCode.METHOD_NOT_ALLOWED)
        elif exc.status_code == 404:
            err = ApiError(ErrorCode.NOT_FOUND, path=request.url.path)
        elif exc.status_code == 400:  # a body FastAPI could not read
            err = ApiError(ErrorCode.MALFORMED_JSON, detail=str(exc.detail))
        else:
            err = ApiError(ErrorCode.REQUEST_INVALID, detail=str(exc.detail), field="body")
        return JSONResponse(err.body(), status_code=exc.status_code if exc.status_code in
                            (404, 405) else err.status)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return crash_response(exc)

    for module in (meta, auth, sync, admin, reports, imports, privacy, pulls):
        app.include_router(module.router, prefix="/api/v1")
    app.state.plugins = [s.as_json() for s in mount_plugins(app, settings)]
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # around BodyLimit: its 413 gets them too
    if settings.forwarded_allow_ips.strip():  # a trusted reverse proxy says http or https
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[
            h.strip() for h in settings.forwarded_allow_ips.split(",") if h.strip()])
    return app


def app_from_env() -> Any:
    """Factory for ``uvicorn --factory bridge.app:app_from_env`` (settings from CRM_*)."""
    return create_app()
