"""The workbook port: the only way commands touch a workbook, whatever holds it.

Two adapters implement :class:`WorkbookPort`: ``port_openpyxl`` (files, the CLI and tests)
and ``port_xlwings`` (the live workbook in Excel). Every table is read and written in one
call, so the number of port calls never grows with the number of rows.

The add-in's typed errors (:class:`AddinError`, :class:`WorkbookError`) live in
:mod:`addin.errors` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import pandas as pd

from addin.errors import AddinError as AddinError  # re-exported: it lived here
from addin.errors import WorkbookError as WorkbookError
from schema.errors import Lang
from schema.layout import META_SHEET

MarkKind = Literal["error", "conflict", "warning"]
MARK_COLORS: dict[str, str] = {"error": "FFC7CE", "conflict": "FFEB9C", "warning": "FCE4D6"}
NOTE_AUTHOR = "CRM"
# the add-in's message in a cell note starts after this line (below the user's text, if any)
MARK_SEPARATOR = "—— CRM ——\n"
MARKS_META_PREFIX = "marks:"  # _meta key remembering which cells of a sheet are marked
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # formula injection (CSV/Excel)


@dataclass(frozen=True, slots=True)
class CellMark:
    """A highlighted cell with a note: ``row`` and ``col`` are 1-based sheet coordinates."""

    row: int
    col: int
    kind: MarkKind
    note: str

    @property
    def color(self) -> str:
        return MARK_COLORS[self.kind]


@dataclass(frozen=True, slots=True)
class CellNote:
    """A note a user wrote on a cell (the add-in's marks are not notes)."""

    row: int
    col: int
    text: str
    author: str = ""


def user_part(text: str | None, ours: bool = False) -> str | None:
    """The user's text of a note, without any mark of ours (None: the note is only a mark).

    ``ours`` says the note was written by the add-in (its author), so it holds no user text
    unless a mark was added under a user's note."""
    text = text or ""
    at = text.find(MARK_SEPARATOR)
    if at < 0:
        return None if ours or not text else text
    user = text[:at].removesuffix("\n\n")
    return user or None


def mark_part(text: str | None, ours: bool = False) -> str | None:
    """The add-in's message in a note (None: the note holds no mark)."""
    text = text or ""
    at = text.find(MARK_SEPARATOR)
    if at >= 0:
        return text[at + len(MARK_SEPARATOR):]
    return text if ours else None


def marked_text(user: str | None, message: str) -> str:
    """The note a marked cell shows: the user's own text first (if any), then the add-in's
    message after :data:`MARK_SEPARATOR`, which tells our part apart even when another
    program drops the note's author (LibreOffice does)."""
    return f"{user}\n\n{MARK_SEPARATOR}{message}" if user else MARK_SEPARATOR + message


def kind_of_color(color: str | None) -> MarkKind:
    """The mark kind whose fill colour is ``color`` (hex, any alpha prefix; else "error")."""
    hexa = (color or "").upper()[-6:]
    return cast(MarkKind, next((k for k, c in MARK_COLORS.items() if c == hexa), "error"))


@dataclass(frozen=True, slots=True)
class Dropdown:
    """A column's data validation as the template has it (a list and/or an input message)."""

    col: int  # 1-based
    list_name: str | None  # defined name of the list; None: an input message only
    stop: bool  # refuse values not in the list (else only inform)
    error_title: str = ""
    error: str = ""
    prompt_title: str = ""
    prompt: str = ""


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """What a sheet must keep whoever saved it last: validations over the template's full
    row range, frozen panes, hidden rows, columns and sheet."""

    first_row: int = 0
    last_row: int = 0
    dropdowns: tuple[Dropdown, ...] = ()
    freeze: tuple[int, int] | None = None  # (row, col) of the first cell that scrolls
    hidden_rows: tuple[int, ...] = ()
    hidden_cols: tuple[int, ...] = ()
    hidden: bool = False


def row_moves(before: pd.Index, after: pd.Index, first_row: int) -> dict[int, int | None]:
    """Where each row read (``before``: sheet rows) lands when ``after`` (frame labels, in
    order) is written from ``first_row``: only rows that move or go."""
    landing = {label: first_row + i for i, label in enumerate(after)}
    out: dict[int, int | None] = {}
    for label in before:
        new = landing.get(label)
        if new != label:
            out[int(label)] = new
    return out


def needs_text_guard(value: Any) -> bool:
    """True for a string Excel would run as a formula (or mangle) if written plainly."""
    return isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES)


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def encode_marks(marks: list[CellMark]) -> str:
    """The ``_meta`` record of marked cells: ``A3,B7``."""
    return ",".join(f"{column_letter(m.col)}{m.row}" for m in marks)


def decode_marks(text: str) -> list[tuple[int, int]]:
    """(row, col) pairs of an :func:`encode_marks` record (bad parts are skipped)."""
    out: list[tuple[int, int]] = []
    for ref in (text or "").split(","):
        letters = "".join(ch for ch in ref if ch.isalpha()).upper()
        digits = ref[len(letters):]
        if not letters or not digits.isdigit():
            continue
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        out.append((int(digits), col))
    return out


class WorkbookPort(Protocol):
    """What commands need from a workbook; every method is one bulk operation."""

    def sheet_names(self) -> list[str]:
        """All sheet names, hidden ones included, in workbook order."""
        ...

    def read_table(self, sheet: str) -> tuple[list[str], pd.DataFrame]:
        """Row-1 keys (``""`` where blank) and rows 2..last used row in one read.

        The frame is indexed by sheet row number and has positional columns ``0..n-1``
        (sheet column minus one); cells hold raw values (str, int, float, bool, datetime,
        ``None``; Excel errors as text such as ``#N/A``).
        """
        ...

    def write_table(self, sheet: str, keys: list[str], frame: pd.DataFrame,
                    first_row: int) -> None:
        """Write ``keys`` to row 1 and ``frame`` (positional) from ``first_row`` in one call.

        Rows below the written block, up to the old last row, are cleared; text that
        Excel would treat as a formula is stored as text.
        """
        ...

    def mark_cells(self, sheet: str, marks: list[CellMark]) -> None:
        """Clear the previous marks of ``sheet``, then colour and annotate ``marks``.

        Users' notes stay: a mark on a cell with a note is added below the user's text and
        taken away again when the mark is cleared."""
        ...

    def read_notes(self, sheet: str) -> list[CellNote]:
        """Every note users wrote on ``sheet`` (their text only, without our marks)."""
        ...

    def write_notes(self, sheet: str, notes: list[CellNote]) -> None:
        """Put ``notes`` on their cells (replacing what those cells had)."""
        ...

    def read_marks(self, sheet: str) -> list[CellMark]:
        """The add-in's marks now on ``sheet`` (as :meth:`mark_cells` left them)."""
        ...

    def move_notes(self, sheet: str, moves: dict[int, int | None]) -> None:
        """Move users' notes with their rows after a table write (old row -> new row; None:
        the row is gone, and its notes with it); marks are left for :meth:`mark_cells`."""
        ...

    def restore_layout(self, sheet: str, spec: SheetSpec) -> None:
        """Put back what another program shortened or dropped: ``spec``'s validations replace
        those of their columns, frozen panes come back if gone, hidden things are hidden."""
        ...

    def read_meta(self) -> dict[str, str]:
        """The ``_meta`` key/value pairs."""
        ...

    def write_meta(self, values: dict[str, str | None]) -> None:
        """Set (or, with ``None``, remove) ``_meta`` keys, keeping the others."""
        ...

    def write_list(self, name: str, values: list[str]) -> None:
        """Rewrite the ``_lists`` column ``name`` and its defined name (dropdown source)."""
        ...

    def write_reports(self, reports: dict[str, dict[str, Any]], lang: Lang, *,
                      keep_as: str | None = None) -> None:
        """(Re)build the report sheets (funnel, rfm, kpis) with their charts, in place;
        with ``keep_as`` (a date) the sheets shown so far first become copies named
        ``<sheet> <keep_as>`` (one of that name already there is replaced)."""
        ...

    def progress(self, text: str, fraction: float | None = None) -> None:
        """Show what is happening (status bar or CLI progress)."""
        ...

    def save(self) -> None:
        """Persist every write (the file, or the open workbook)."""
        ...


def merge_marks(marks: list[CellMark]) -> list[CellMark]:
    """One mark per cell: several problems on a cell share the first one's colour and list
    every note."""
    merged: dict[tuple[int, int], CellMark] = {}
    for m in marks:
        prev = merged.get((m.row, m.col))
        merged[(m.row, m.col)] = m if prev is None else CellMark(
            m.row, m.col, prev.kind, f"{prev.note}\n{m.note}")
    return list(merged.values())


class MetaCache:
    """``read_meta``/``write_meta`` for a port, over its own ``read_table``/``write_table``:
    ``_meta`` is read once and rewritten whole (it is a few dozen rows)."""

    _meta: dict[str, str] | None = None

    def read_table(self, sheet: str) -> tuple[list[str], pd.DataFrame]:
        raise NotImplementedError

    def write_table(self, sheet: str, keys: list[str], frame: pd.DataFrame,
                    first_row: int) -> None:
        raise NotImplementedError

    def read_meta(self) -> dict[str, str]:
        if self._meta is None:
            self._meta = meta_from_frame(self.read_table(META_SHEET)[1])
        return dict(self._meta)

    def write_meta(self, values: dict[str, str | None]) -> None:
        meta = self.read_meta()
        for k, v in values.items():
            if v is None:
                meta.pop(k, None)
            else:
                meta[k] = str(v)
        self._meta = meta
        self.write_table(META_SHEET, ["key", "value"], meta_frame(meta), 2)


def meta_from_frame(frame: pd.DataFrame) -> dict[str, str]:
    """``_meta`` rows (column 0 key, column 1 value) as a dict."""
    out: dict[str, str] = {}
    values = frame[1].tolist() if frame.shape[1] > 1 else [None] * len(frame)
    for k, v in zip(frame[0].tolist() if frame.shape[1] else [], values, strict=False):
        if k is not None and str(k).strip():
            out[str(k).strip()] = "" if v is None or v != v else str(v)
    return out


def meta_frame(meta: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(meta.items()), columns=[0, 1], dtype=object)


def list_ref(sheet: str, col: int, count: int) -> str:
    """The range a ``_lists`` defined name refers to: rows 2..1+count (at least row 2)."""
    letter = column_letter(col)
    return f"'{sheet}'!${letter}$2:${letter}${1 + max(count, 1)}"
