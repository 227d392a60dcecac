"""The add-in's typed errors: every failure is an :class:`AddinError` with an
:class:`~schema.errors.ErrorCode` and its message in both languages.

A code arriving from the bridge is a plain string on the wire; :func:`code_of` turns it into
an ``ErrorCode``. A code this add-in does not know (a newer server) becomes
``BRIDGE_UNKNOWN_CODE``: the user sees the server's own messages, never a bare code, and the
wire's code is kept in ``wire_code`` for support.
"""

from __future__ import annotations

from typing import Any

from schema.errors import CATALOGUE, ErrorCode, Lang, render


def code_of(wire_code: str) -> ErrorCode:
    """The ``ErrorCode`` for a code from the wire (``BRIDGE_UNKNOWN_CODE`` if unknown)."""
    return ErrorCode.known(wire_code) or ErrorCode.BRIDGE_UNKNOWN_CODE


class AddinError(Exception):
    """A failure with a stable code from ``schema.errors`` and a message in both languages.

    ``message_zh``/``message_en`` override the catalogue's (the bridge's own words);
    ``status`` defaults to the code's HTTP status.
    """

    def __init__(self, code: ErrorCode, *, status: int | None = None,
                 message_zh: str | None = None, message_en: str | None = None,
                 wire_code: str | None = None, **params: Any) -> None:
        self.status = status if status is not None else CATALOGUE[code].status
        zh, en = render(code, **{"status": self.status, **params})  # messages may show {status}
        self.code = code
        self.wire_code = wire_code or str(code)
        self.message_zh = message_zh or zh
        self.message_en = message_en or en
        self.params = params
        super().__init__(f"{code}: {self.message_en}")

    def message(self, lang: Lang) -> str:
        return self.message_zh if lang == "zh" else self.message_en


class WorkbookError(AddinError):
    """The workbook file or its structure cannot be used (bad file, missing sheet...)."""
