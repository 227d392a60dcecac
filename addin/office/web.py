"""What every ``/office/`` request goes through: HTTPS or refusal, a body under 5 MB, and
errors in the bridge's one error body (never a 500 page or a traceback)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addin.errors import AddinError
from addin.office.settings import is_local
from schema.errors import ErrorCode
from schema.wire import ErrorItem, ErrorResponse

log = logging.getLogger("crm.office")


def error_body(exc: AddinError, field: str | None = None) -> dict[str, Any]:
    """The bridge's error body for ``exc`` (a bridge error keeps the bridge's code)."""
    item = ErrorItem(code=exc.wire_code, message_zh=exc.message_zh, message_en=exc.message_en,
                     field=field or exc.params.get("field"))
    return ErrorResponse(error=item).model_dump(exclude_none=True)


def error_response(exc: AddinError, field: str | None = None) -> JSONResponse:
    status = exc.status if 400 <= exc.status < 600 else 502
    return JSONResponse(error_body(exc, field), status_code=status)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def install_error_handlers(app: FastAPI) -> None:
    """Typed errors, bad requests, unknown paths and crashes answer the bridge's body."""

    @app.exception_handler(AddinError)
    async def _typed(_: Request, exc: AddinError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = (exc.errors() or [{}])[0]
        where = _where(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            err = AddinError(ErrorCode.MALFORMED_JSON, detail=first.get("msg", "?"))
        else:
            err = AddinError(ErrorCode.REQUEST_INVALID, detail=f"{where}: {first.get('msg')}")
        return error_response(err, where)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            return error_response(AddinError(ErrorCode.METHOD_NOT_ALLOWED))
        if exc.status_code == 404:
            return error_response(AddinError(ErrorCode.NOT_FOUND, path=request.url.path))
        return error_response(AddinError(ErrorCode.REQUEST_INVALID, detail=str(exc.detail),
                                         status=exc.status_code))

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=400)  # nobody listens (a refused body, a closed tab)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.error("office service error %s", ref, exc_info=exc)
        return JSONResponse(error_body(AddinError(ErrorCode.INTERNAL, ref=ref)),
                            status_code=500, headers={"Connection": "close"})


def _host_of(scope: Scope) -> str:
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    if not host and scope.get("server"):
        host = str(scope["server"][0])
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _refuse(send: Send, err: AddinError) -> None:
    resp = error_response(err)
    resp.headers["Connection"] = "close"  # the rest of the body is not read
    await resp({"type": "http"}, _nothing, send)


async def _nothing() -> Message:  # pragma: no cover - a response never reads
    return {"type": "http.disconnect"}


class Guard:
    """Refuse plain HTTP from a host other than this machine (Office would refuse the page
    anyway, and a token must not travel in clear) and bodies over ``limit`` bytes. The
    scheme is the connection's, or a trusted proxy's (the bridge's
    ``CRM_FORWARDED_ALLOW_IPS`` rewrites it before this runs)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_of(scope)
        if scope.get("scheme") != "https" and not is_local(host):
            await _refuse(send, AddinError(ErrorCode.OFFICE_HTTPS_REQUIRED, host=host))
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, AddinError(ErrorCode.BODY_TOO_LARGE, max=self.limit))
            return
        seen, refused = 0, False

        # Raising from receive() would become a generic 400 in the body parser: answer the
        # 413 here, tell the app the client left, and drop whatever the app answers.
        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                refused = True
                await _refuse(send, AddinError(ErrorCode.BODY_TOO_LARGE, max=self.limit))
                return {"type": "http.disconnect"}
            return msg

        async def guarded(msg: Message) -> None:
            if not refused:
                await send(msg)

        await self.app(scope, counted, guarded)
