"""What a host sends about its workbook before a command runs: the sheet list, then each
sheet's cells in row blocks (each request under 5 MB), then the notes on them.

Values arrive as the host reads them (Office.js ``Range.values``): numbers, strings,
booleans, ``""`` for an empty cell, Excel errors as text (``#N/A``). Dates arrive as serial
numbers; ``formats`` says which cells carry a number format other than General, as runs
per column, so the port can tell a date from a number without a format per cell.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Visibility = Literal["visible", "hidden", "very_hidden"]
CellIn = str | float | int | bool | None
MAX_NAME = 255


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SheetInfo(_Strict):
    """One sheet as the host lists it, in workbook order."""

    name: str = Field(min_length=1, max_length=31)
    visibility: Visibility = "visible"
    rows: int = Field(0, ge=0, le=1_048_576)  # last used row (0: empty sheet)
    cols: int = Field(0, ge=0, le=16_384)  # last used column
    freeze: tuple[int, int] | None = None  # first scrolling cell, None: not frozen


class DefinedName(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    ref: str = Field(max_length=8192)


class WorkbookInfo(_Strict):
    """The workbook a command runs on: every sheet (hidden ones too), the active one and
    the workbook-scoped defined names."""

    name: str = Field("", max_length=MAX_NAME)
    active: str | None = None
    sheets: list[SheetInfo] = Field(max_length=1000)
    names: list[DefinedName] = Field(default_factory=list, max_length=10_000)


class FormatRun(_Strict):
    """``count`` cells of one column, from ``start`` (an offset into the block), share
    number format ``format``."""

    format: str = Field(max_length=255)
    start: int = Field(ge=0)
    count: int = Field(ge=1)


class CellBlock(_Strict):
    """A rectangle of one sheet's cells from (``row``, ``col``), 1-based."""

    sheet: str = Field(min_length=1, max_length=31)
    row: int = Field(ge=1, le=1_048_576)
    col: int = Field(1, ge=1, le=16_384)
    values: list[list[CellIn]]
    formats: dict[int, list[FormatRun]] = Field(default_factory=dict)  # block column (0-)


class NoteIn(_Strict):
    """A cell note as the host reads it, with the cell's fill colour (marks are told by
    it), six hex digits or None."""

    row: int = Field(ge=1, le=1_048_576)
    col: int = Field(ge=1, le=16_384)
    text: str = Field(max_length=32_767)
    author: str = Field("", max_length=255)
    fill: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{6}$")


class SheetNotes(_Strict):
    sheet: str = Field(min_length=1, max_length=31)
    notes: list[NoteIn] = Field(max_length=100_000)
