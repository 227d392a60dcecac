"""Typed API errors and their one JSON shape (codes and messages from ``schema.errors``)."""

from __future__ import annotations

from typing import Any

from schema.errors import CATALOGUE, ErrorCode, render
from schema.types import Field
from schema.validation import CellError
from schema.wire import ErrorItem, ErrorResponse


class ApiError(Exception):
    """An error with a stable code; becomes an ``ErrorResponse`` with the code's HTTP status."""

    def __init__(self, code: ErrorCode, *, entity: str | None = None, row: int | None = None,
                 id: str | None = None, field: str | None = None,
                 allowed: list[str] | None = None, errors: list[ErrorItem] | None = None,
                 headers: dict[str, str] | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = CATALOGUE[code].status
        zh, en = render(code, **params)
        self.item = ErrorItem(code=code, message_zh=zh, message_en=en, entity=entity, row=row,
                              id=id, field=field, allowed=allowed)
        self.errors = errors or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return ErrorResponse(error=self.item, errors=self.errors).model_dump(exclude_none=True)


def item(code: ErrorCode, *, entity: str | None = None, row: int | None = None,
         id: str | None = None, field: Field | str | None = None, **params: Any) -> ErrorItem:
    """An ``ErrorItem``; a ``Field`` puts its label in each language into the message."""
    if isinstance(field, Field):
        zh, en = render(code, {"field": field.zh}, {"field": field.en}, **params)
        code_of_field: str | None = field.code
    else:
        zh, en = render(code, field=field, **params)
        code_of_field = field
    return ErrorItem(code=code, message_zh=zh, message_en=en, entity=entity, row=row, id=id,
                     field=code_of_field)


def from_cell(e: CellError, row: int | None, id: str | None) -> ErrorItem:
    return ErrorItem(code=e.code, message_zh=e.message_zh, message_en=e.message_en,
                     entity=e.entity, row=row, id=id, field=e.field,
                     allowed=list(e.allowed) or None)
