"""The error answers each operation documents in the OpenAPI document.

Every error the bridge sends has one shape, ``schema.wire.ErrorResponse``; its HTTP status
comes from the code's entry in ``schema.errors.CATALOGUE``. A route names the codes it can
raise (``errors(*AUTH, "USER_EXISTS")``); the statuses, the shared shape and the codes'
list in each description are derived here, so the document cannot drift from the server.
"""

from __future__ import annotations

from typing import Any

from schema.errors import CATALOGUE, ErrorCode
from schema.wire import ErrorResponse

AUTH = (ErrorCode.AUTH_REQUIRED, ErrorCode.AUTH_INVALID, ErrorCode.AUTH_EXPIRED,
        ErrorCode.AUTH_REVOKED)
"""The caller must be signed in (``deps.CurrentUser``)."""
ADMIN = (*AUTH, ErrorCode.ADMIN_ONLY)
"""The caller must be an administrator (``deps.AdminUser``)."""
INPUT = (ErrorCode.REQUEST_INVALID,)
"""Query or path parameters are validated."""
BODY = (ErrorCode.MALFORMED_JSON, ErrorCode.REQUEST_INVALID)
"""A JSON body is parsed and validated."""
ALWAYS = (ErrorCode.BODY_TOO_LARGE, ErrorCode.INTERNAL)
"""Any request: the body limit (``app.BodyLimit``) and the last-resort handler."""

REVOKES_CREDENTIALS: dict[str, Any] = {"x-revokes-credentials": True}
"""``openapi_extra`` of an operation that revokes, rotates or deactivates someone's
credentials: fuzzers aim it at throwaway users only, so a run cannot lock itself out."""

SIGNS_IN: dict[str, Any] = {"x-signs-in": True}
"""``openapi_extra`` of an operation that takes credentials in its body, not a token: its
401 means the credentials were wrong, and it answers without an ``Authorization`` header."""

_BEARER = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
_RETRY = {"Retry-After": {"description": "seconds to wait before trying again",
                          "schema": {"type": "string"}}}
_HEADERS: dict[str, dict[str, Any]] = {**{code: _BEARER for code in AUTH},
                                       ErrorCode.SIGNIN_THROTTLED: _RETRY}
"""Headers sent with a code (``bridge.auth`` adds ``WWW-Authenticate`` to every 401;
``bridge.throttle`` ``Retry-After`` to its 429)."""


def errors(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer the error ``codes`` (plus ``ALWAYS``)."""
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys((*codes, *ALWAYS)):
        by_status.setdefault(CATALOGUE[code].status, []).append(code)
    out: dict[int | str, dict[str, Any]] = {}
    for status, named in sorted(by_status.items()):
        answer: dict[str, Any] = {"model": ErrorResponse,
                                  "description": "Error codes: " + ", ".join(named)}
        headers = {k: v for code in named for k, v in _HEADERS.get(code, {}).items()}
        if headers:
            answer["headers"] = headers
        out[status] = answer
    return out
