"""The one road from the add-in to the bridge: JSON over HTTP with httpx.

Connection failures, timeouts, 5xx and 429 are retried with exponential backoff (429 and
503 honour ``Retry-After``); each retry is reported through ``on_retry`` so the UI can say
so. A kept-alive connection the server dropped (reset, or closed without an answer) is
retried at once on a fresh connection (once per attempt, reported like any retry). A
retried request sends the very same bytes, so a push keeps its idempotency key and the
bridge applies it once. Failures raise :class:`BridgeError` with a stable code.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from addin.errors import AddinError, code_of
from schema.errors import ErrorCode, Lang
from schema.wire import (
    ErrorItem,
    ErrorResponse,
    MeResponse,
    PullResponse,
    PushRequest,
    PushResponse,
)
from schema.wire_import import (
    DECISIONS_PER_PAGE,
    ROWS_PER_BATCH,
    ConfirmOut,
    DecisionPage,
    DryRunOut,
    ImportChoices,
    ImportCreate,
    ImportOut,
    ImportRow,
    ImportRows,
    RowChoice,
    RowDecision,
)

API_PREFIX = "/api/v1"
M = TypeVar("M", bound=BaseModel)
# the connection went away under the request: a fresh one is likely to work
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


class BridgeError(AddinError):
    """An error from (or on the way to) the bridge: ``code``, both messages, HTTP status."""

    def __init__(self, code: ErrorCode, message_zh: str | None = None,
                 message_en: str | None = None, status: int | None = None, *,
                 errors: list[ErrorItem] | None = None, wire_code: str | None = None,
                 **params: Any) -> None:
        super().__init__(code, status=status, message_zh=message_zh, message_en=message_en,
                         wire_code=wire_code, **params)
        self.errors = errors or []


@dataclass(frozen=True, slots=True)
class RetryInfo:
    """One retry about to happen: shown to the user as it happens."""

    attempt: int  # the attempt that failed (1-based)
    attempts: int
    delay: float
    reason: str

    @property
    def throttled(self) -> bool:
        """The server refused for a rate limit (429): the delay is its ``Retry-After``."""
        return self.reason == "HTTP 429"

    def message(self, lang: Lang) -> str:
        if self.throttled:
            wait = max(1, math.ceil(self.delay))
            if lang == "zh":
                return (f"服务器限流（请求过于频繁），等待 {wait} 秒后重试"
                        f"（第 {self.attempt}/{self.attempts - 1} 次）")
            return (f"The server is rate limiting (too many requests); wait {wait} s, "
                    f"then retrying ({self.attempt}/{self.attempts - 1})")
        if lang == "zh":
            return (f"连接服务器失败（{self.reason}），{self.delay:.1f} 秒后重试"
                    f"（第 {self.attempt}/{self.attempts - 1} 次）")
        return (f"Server problem ({self.reason}); retrying in {self.delay:.1f} s "
                f"({self.attempt}/{self.attempts - 1})")


RetryFn = Callable[[RetryInfo], None]


def normalize_server(url: str) -> str:
    """``https://crm.example.com`` from what a user typed (trailing / and /api/v1 removed)."""
    text = (url or "").strip().rstrip("/")
    if text.endswith(API_PREFIX):
        text = text[: -len(API_PREFIX)].rstrip("/")
    if text and "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BridgeError(ErrorCode.SERVER_URL_INVALID, value=url)
    return text


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def _error_from(resp: httpx.Response) -> BridgeError:
    try:
        body = ErrorResponse.model_validate_json(resp.content)
    except ValidationError:
        return BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=resp.status_code,
                           detail=resp.text[:200] or resp.reason_phrase)
    e = body.error
    return BridgeError(code_of(e.code), e.message_zh, e.message_en, resp.status_code,
                       errors=body.errors or [e], wire_code=e.code)


class BridgeClient:
    """A signed-in connection to one bridge."""

    def __init__(self, server_url: str, token: str, *, timeout: float = 120.0,
                 attempts: int = 5, backoff: float = 0.5, max_delay: float = 30.0,
                 on_retry: RetryFn | None = None, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 headers: dict[str, str] | None = None) -> None:
        self.server_url = normalize_server(server_url)
        self.attempts = max(attempts, 1)
        self.backoff, self.max_delay = backoff, max_delay
        self.on_retry = on_retry
        self.sleep = sleep
        self._http = httpx.Client(
            base_url=self.server_url + API_PREFIX, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            headers={"Accept": "application/json", "User-Agent": "excel-crm-addin",
                     **(headers or {})})  # headers: the Office service's X-Forwarded-For
        if token:  # none yet: exchange_password signs in
            self._http.headers["Authorization"] = f"Bearer {token}"

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(hint, max(self.max_delay, 120.0))
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_delay))

    def _wait(self, attempt: int, hint: float | None, reason: str) -> None:
        delay = self._delay(attempt, hint)
        self._report(attempt, delay, reason)
        self.sleep(delay)

    def _report(self, attempt: int, delay: float, reason: str) -> None:
        if self.on_retry is not None:
            self.on_retry(RetryInfo(attempt, self.attempts, delay, reason))

    def _unreachable(self, exc: Exception) -> BridgeError:
        return BridgeError(ErrorCode.BRIDGE_UNREACHABLE, url=self.server_url,
                           attempts=self.attempts,
                           detail=f"{type(exc).__name__}: {exc}"[:200])

    def request(self, method: str, path: str, *, content: bytes | None = None,
                params: dict[str, Any] | None = None,
                retry_throttled: bool = True) -> httpx.Response:
        """Send, retrying what may succeed later; raise :class:`BridgeError` otherwise
        (a 429 at once when not ``retry_throttled``)."""
        headers = {"Content-Type": "application/json"} if content is not None else None
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                resp = self._send(attempt, method, path, content, params, headers)
            except httpx.TransportError as exc:
                if last:
                    raise self._unreachable(exc) from exc
                self._wait(attempt, None, type(exc).__name__)
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                if last or (resp.status_code == 429 and not retry_throttled):
                    raise _error_from(resp)
                self._wait(attempt, _retry_after(resp), f"HTTP {resp.status_code}")
                continue
            if resp.status_code >= 400:
                raise _error_from(resp)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, attempt: int, method: str, path: str, content: bytes | None,
              params: dict[str, Any] | None, headers: dict[str, str] | None) -> httpx.Response:
        """One attempt; when a kept-alive connection turns out dead (the server closed or
        reset it), at once once more: the pool has dropped it, so on a fresh connection."""
        try:
            return self._http.request(method, path, content=content, params=params,
                                      headers=headers)
        except DROPPED as exc:
            self._report(attempt, 0.0, type(exc).__name__)
        return self._http.request(method, path, content=content, params=params,
                                  headers=headers)

    def _model(self, model: type[M], resp: httpx.Response) -> M:
        try:
            return model.model_validate_json(resp.content)
        except ValidationError as exc:
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=resp.status_code,
                              detail=str(exc)[:200]) from exc

    def exchange_password(self, user: str, password: str, days: int | None = None) -> str:
        """A new token for ``user`` and ``password`` (``POST /auth/token``); this client
        then uses it. A throttled sign-in (429, ``SIGNIN_THROTTLED``) is not retried: the
        wait is minutes, and the message says how many."""
        body = json.dumps({"username": user, "password": password,
                           **({"days": days} if days is not None else {})},
                          ensure_ascii=False).encode("utf-8")
        resp = self.request("POST", "/auth/token", content=body, retry_throttled=False)
        try:
            token = str(resp.json()["token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=resp.status_code,
                              detail=f"no token in the answer ({type(exc).__name__})") from exc
        self._http.headers["Authorization"] = f"Bearer {token}"
        return token

    def me(self) -> MeResponse:
        return self._model(MeResponse, self.request("GET", "/me"))

    def push(self, req: PushRequest) -> PushResponse:
        body = req.model_dump_json(exclude_none=True).encode("utf-8")
        return self._model(PushResponse, self.request("POST", "/push", content=body))

    def pull(self, since: int | None = None) -> PullResponse:
        params = {"since": since} if since is not None else None
        return self._model(PullResponse, self.request("GET", "/pull", params=params))

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = self.request("GET", path, params=params)
        try:
            return resp.json()
        except ValueError as exc:
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=resp.status_code,
                              detail=str(exc)[:200]) from exc

    # --- imports (schema.wire_import; routes /imports..., /import-mappings) -------------

    def _post(self, path: str, body: BaseModel | None, model: type[M]) -> M:
        content = b"{}" if body is None else body.model_dump_json(exclude_none=True).encode()
        return self._model(model, self.request("POST", path, content=content))

    def _json(self, resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=resp.status_code,
                              detail=str(exc)[:200]) from exc

    def import_create(self, req: ImportCreate) -> ImportOut:
        return self._post("/imports", req, ImportOut)

    def import_rows(self, import_id: str, rows: list[ImportRow],
                    on_batch: Callable[[int], None] | None = None) -> None:
        """Send the mapped rows in batches of ``ROWS_PER_BATCH``; ``on_batch(sent)``."""
        for start in range(0, len(rows), ROWS_PER_BATCH):
            batch = ImportRows(rows=rows[start:start + ROWS_PER_BATCH])
            self.request("POST", f"/imports/{_seg(import_id)}/rows",
                         content=batch.model_dump_json(exclude_none=True).encode())
            if on_batch is not None:
                on_batch(min(start + ROWS_PER_BATCH, len(rows)))

    def import_dry_run(self, import_id: str) -> DryRunOut:
        return self._post(f"/imports/{_seg(import_id)}/dry-run", None, DryRunOut)

    def import_decisions(self, import_id: str, after: int | None = None,
                         limit: int = DECISIONS_PER_PAGE) -> DecisionPage:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        resp = self.request("GET", f"/imports/{_seg(import_id)}/decisions", params=params)
        return self._model(DecisionPage, resp)

    def import_all_decisions(self, import_id: str,
                             on_page: Callable[[int], None] | None = None
                             ) -> Iterator[RowDecision]:
        """Every decision, page by page; ``on_page(decisions so far)``."""
        after: int | None = None
        seen = 0
        while True:
            page = self.import_decisions(import_id, after)
            yield from page.decisions
            seen += len(page.decisions)
            if on_page is not None:
                on_page(seen)
            if page.next_after is None or not page.decisions:
                return
            after = page.next_after

    def import_choices(self, import_id: str, choices: list[RowChoice]) -> None:
        for start in range(0, len(choices), ROWS_PER_BATCH):
            body = ImportChoices(choices=choices[start:start + ROWS_PER_BATCH])
            self.request("POST", f"/imports/{_seg(import_id)}/choices",
                         content=body.model_dump_json(exclude_none=True).encode())

    def import_confirm(self, import_id: str) -> ConfirmOut:
        return self._post(f"/imports/{_seg(import_id)}/confirm", None, ConfirmOut)

    def import_undo(self, import_id: str) -> ImportOut:
        return self._post(f"/imports/{_seg(import_id)}/undo", None, ImportOut)

    def import_get(self, import_id: str) -> ImportOut:
        return self._model(ImportOut, self.request("GET", f"/imports/{_seg(import_id)}"))

    def imports(self) -> list[ImportOut]:
        items = self._json(self.request("GET", "/imports"))  # the bridge answers a list
        try:
            if not isinstance(items, list):
                raise TypeError(f"expected a list of imports, got {type(items).__name__}")
            return [ImportOut.model_validate(item) for item in items]
        except (TypeError, ValidationError) as exc:
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=200,
                              detail=str(exc)[:200]) from exc

    def mapping_get(self, name: str) -> dict[str, Any]:
        """A saved column mapping (``addin.importing.source.Mapping.to_json()`` shape)."""
        data = self._json(self.request("GET", f"/import-mappings/{_seg(name)}"))
        if not isinstance(data, dict):
            raise BridgeError(ErrorCode.BRIDGE_BAD_RESPONSE, status=200, detail="mapping")
        return data

    def mapping_put(self, name: str, mapping: dict[str, Any]) -> None:
        body = json.dumps({**mapping, "name": name}, ensure_ascii=False).encode("utf-8")
        self.request("PUT", f"/import-mappings/{_seg(name)}", content=body)

    def mappings(self) -> list[dict[str, Any]]:
        data = self._json(self.request("GET", "/import-mappings"))
        items = data.get("mappings", []) if isinstance(data, dict) else data
        return [m for m in items if isinstance(m, dict)]


def _seg(text: str) -> str:
    """One URL path segment (a name may hold ``/`` or spaces)."""
    return quote(text, safe="")
