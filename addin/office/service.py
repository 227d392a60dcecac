"""The routes of ``/office/`` (the protocol is in docs/office-service.md): the manifest,
the client's pages, its configuration, sign-in, and the sessions a command runs in.

Session calls carry the caller's bridge token; the service checks it with the bridge
(``GET /api/v1/me``) before a session opens, passes it on to the bridge for the command,
and keeps only its hash (the session's owner)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from addin.client import BridgeClient, BridgeError
from addin.errors import AddinError
from addin.office import manifest
from addin.office.config import COMMANDS, config
from addin.office.sessions import SessionStore, check_file_name, owner_of
from addin.office.settings import OfficeSettings, is_local
from addin.office.web import Guard, error_body, install_error_handlers
from addin.payload.actions import MAX_BYTES
from addin.payload.snapshot import CellBlock, SheetNotes, WorkbookInfo
from schema.errors import ErrorCode, as_lang

STATIC = Path(__file__).resolve().parent / "static"
PAGES = ("taskpane.html", "signin.html")
BASE64 = r"^[A-Za-z0-9+/]*={0,2}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIn(_In):
    command: str = Field(max_length=64)
    lang: Literal["zh", "en"] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    workbook: WorkbookInfo


class FilePart(_In):
    part: int = Field(ge=0)
    parts: int = Field(ge=1)
    base64: str = Field(pattern=BASE64)


class SignIn(_In):
    token: str | None = Field(None, min_length=1, max_length=512)
    username: str | None = Field(None, min_length=1, max_length=255)
    password: str | None = Field(None, min_length=1, max_length=1024)


def parse(model: type[Any], body: bytes) -> Any:
    """``body`` as ``model``; a bad body names its first bad field."""
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        if first.get("type") == "json_invalid":
            raise AddinError(ErrorCode.MALFORMED_JSON, detail=first.get("msg")) from None
        raise AddinError(ErrorCode.REQUEST_INVALID, detail=f"{where}: {first.get('msg')}",
                         field=where) from None


def token_of(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AddinError(ErrorCode.AUTH_REQUIRED)
    return token.strip()


def public_base(request: Request, settings: OfficeSettings) -> str:
    """The public URL (setting), else the address this request came in on."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def bridge_base(request: Request, settings: OfficeSettings) -> str:
    """Where the service reaches the bridge: the setting, else the socket this request came
    in on (plain HTTP behind a proxy, or the Host's own https address when TLS is ours)."""
    if settings.bridge_url:
        return settings.bridge_url.rstrip("/")
    server = request.scope.get("server")
    direct_tls = request.scope.get("scheme") == "https" and \
        "x-forwarded-proto" not in request.headers
    if server and not direct_tls:
        host = str(server[0])
        return f"http://{f'[{host}]' if ':' in host else host}:{server[1]}"
    return f"{request.url.scheme}://{request.url.netloc}"


class OfficeService:
    """The sub-application served at ``/office``."""

    def __init__(self, settings: OfficeSettings) -> None:
        self.settings = settings
        self.store = SessionStore(settings.sessions_dir(), settings.session_ttl,
                                  settings.max_session_bytes)
        self.app = FastAPI(title="Excel CRM Office add-in service", docs_url=None,
                           redoc_url=None, openapi_url=None)
        install_error_handlers(self.app)
        self._pages()
        self._api()
        self._sessions()
        self.app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), "static")
        self.app.add_middleware(Guard, limit=settings.max_request_bytes)

    def client(self, request: Request, token: str) -> BridgeClient:
        """A client of the bridge for the caller; it passes on the caller's address (the
        bridge believes it when ``CRM_FORWARDED_ALLOW_IPS`` trusts this service's)."""
        where = {"X-Forwarded-For": request.client.host} if request.client else {}
        return BridgeClient(bridge_base(request, self.settings), token, attempts=2,
                            timeout=600.0, headers=where)

    # --- the manifest and the pages --------------------------------------------------------
    def _pages(self) -> None:
        app, settings = self.app, self.settings

        @app.get("/manifest.xml")
        def manifest_xml(request: Request) -> Response:
            base = public_base(request, settings)
            host = base.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
            if base.startswith("http://") and not is_local(host):
                raise AddinError(ErrorCode.OFFICE_HTTPS_REQUIRED, host=host)
            info = manifest.ManifestInfo(base, settings.manifest_id(base), settings.provider)
            return Response(manifest.build_manifest(info), media_type="application/xml",
                            headers={"Content-Disposition": 'inline; filename="manifest.xml"'})

        @app.get("/")
        def home() -> Response:
            return RedirectResponse("taskpane.html")

        for page in PAGES:
            def serve(request: Request, page: str = page) -> Response:
                path = STATIC / page
                if not path.is_file():
                    raise AddinError(ErrorCode.NOT_FOUND, path=request.url.path)
                return FileResponse(path, media_type="text/html; charset=utf-8",
                                    headers={"Cache-Control": "no-cache"})

            app.add_api_route(f"/{page}", serve, methods=["GET"])

    # --- configuration and sign-in ------------------------------------------------------
    def _api(self) -> None:
        app, settings = self.app, self.settings

        @app.get("/api/config")
        def get_config(lang: str = "zh") -> dict[str, Any]:
            return config(as_lang(lang), settings)

        @app.post("/api/sign-in")
        async def sign_in(request: Request) -> dict[str, Any]:
            body: SignIn = parse(SignIn, await request.body())
            return await run_in_threadpool(self.sign_in, request, body)

    def sign_in(self, request: Request, body: SignIn) -> dict[str, Any]:
        """A pasted token checked with ``/me``, or a user name and password exchanged for
        a token at the bridge's ``POST /api/v1/auth/token``."""
        token = body.token
        if token is None:
            if not body.username or not body.password:
                raise AddinError(ErrorCode.REQUEST_INVALID, field="token",
                                 detail="send a token, or a username and a password")
            token = self._exchange(request, body.username, body.password)
        with self.client(request, token) as c:
            me = c.me()
        return {"token": token, "user": me.user.model_dump(),
                "server": public_base(request, self.settings)}

    def _exchange(self, request: Request, username: str, password: str) -> str:
        with self.client(request, "") as c:
            try:
                return c.exchange_password(username, password)
            except BridgeError as exc:
                if exc.status in (404, 405):  # an older bridge without password sign-in
                    raise AddinError(ErrorCode.OFFICE_PASSWORD_SIGNIN_UNAVAILABLE) from None
                raise

    # --- sessions ----------------------------------------------------------------------
    def _sessions(self) -> None:
        app = self.app

        @app.post("/api/sessions", status_code=201)
        async def open_session(request: Request) -> dict[str, Any]:
            token = token_of(request)
            body = await request.body()
            return await run_in_threadpool(self.open_session, request, token, body)

        @app.post("/api/sessions/{sid}/cells", status_code=204)
        async def cells(sid: str, request: Request) -> Response:
            return await self._upload(sid, request, "cells")

        @app.post("/api/sessions/{sid}/notes", status_code=204)
        async def notes(sid: str, request: Request) -> Response:
            return await self._upload(sid, request, "notes")

        @app.post("/api/sessions/{sid}/files/{name}", status_code=204)
        async def file_part(sid: str, name: str, request: Request) -> Response:
            session = self.store.get(sid, owner_of(token_of(request)))
            part: FilePart = parse(FilePart, await request.body())
            try:
                data = base64.b64decode(part.base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise AddinError(ErrorCode.OFFICE_FILE_PART_INVALID, name=name,
                                 detail=f"base64: {exc}", field="base64") from None
            await run_in_threadpool(session.add_file_part, check_file_name(name), part.part,
                                    part.parts, data)
            return Response(status_code=204)

        @app.post("/api/sessions/{sid}/run")
        async def run(sid: str, request: Request) -> dict[str, Any]:
            token = token_of(request)
            session = self.store.get(sid, owner_of(token))
            return await run_in_threadpool(self.run, request, token, session)

        @app.get("/api/sessions/{sid}")
        def status(sid: str, request: Request) -> dict[str, Any]:
            return self.store.get(sid, owner_of(token_of(request))).status()

        @app.get("/api/sessions/{sid}/actions/{page}")
        def actions(sid: str, page: int, request: Request) -> Response:
            session = self.store.get(sid, owner_of(token_of(request)))
            return Response(orjson.dumps(session.page(page)), media_type="application/json")

        @app.get("/api/sessions/{sid}/files/{name}")
        def download(sid: str, name: str, request: Request, part: int = 0) -> dict[str, Any]:
            session = self.store.get(sid, owner_of(token_of(request)))
            data, parts = session.produced(name, part)
            return {"part": part, "parts": parts, "base64": base64.b64encode(data).decode()}

        @app.delete("/api/sessions/{sid}", status_code=204)
        def delete(sid: str, request: Request) -> Response:
            self.store.delete(sid, owner_of(token_of(request)))
            return Response(status_code=204)

    def open_session(self, request: Request, token: str, body: bytes) -> dict[str, Any]:
        req: SessionIn = parse(SessionIn, body)
        if req.command not in COMMANDS:
            raise AddinError(ErrorCode.OFFICE_COMMAND_UNKNOWN, value=req.command[:64],
                             allowed=", ".join(COMMANDS), field="command")
        with self.client(request, token) as c:
            me = c.me()  # a bad token stops here, before anything is kept
        from addin.office.run import upload_list

        meta = {"command": req.command, "lang": req.lang, "options": req.options,
                "user": me.user.username}
        info = req.workbook.model_dump_json().encode("utf-8")
        session = self.store.open(owner_of(token), meta, info)
        return {"session": session.id, "upload": upload_list(req.command, req.workbook),
                "max_bytes": MAX_BYTES}

    async def _upload(self, sid: str, request: Request, kind: str) -> Response:
        session = self.store.get(sid, owner_of(token_of(request)))
        body = await request.body()
        model = CellBlock if kind == "cells" else SheetNotes
        got = parse(model, body)
        info = WorkbookInfo.model_validate_json((session.path / "info.json").read_bytes())
        if got.sheet not in {s.name for s in info.sheets}:
            raise AddinError(ErrorCode.OFFICE_SHEET_UNKNOWN, sheet=got.sheet, field="sheet")
        await run_in_threadpool(session.add, kind, body)
        return Response(status_code=204)

    def run(self, request: Request, token: str, session: Any) -> dict[str, Any]:
        from addin.office.run import run_session

        session.claim_run()
        try:
            with self.client(request, token) as c:
                return run_session(session, c, session.set_progress)
        except AddinError as exc:
            session.fail(error_body(exc))
            raise
