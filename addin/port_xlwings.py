"""The workbook port over the live workbook in Excel (xlwings), mirroring ``port_openpyxl``.

Kept thin: each table is one ``range.value`` read or write (xlwings chunks very large
ranges itself); only cell marks touch single cells, and there are as many as there are
problems, never one per row. Text Excel would turn into a formula or a number is written
with a leading apostrophe, which Excel stores as a text prefix.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import pandas as pd
import xlwings as xw

from addin.errors import AddinError
from addin.port import (
    MARK_SEPARATOR,
    MARKS_META_PREFIX,
    NOTE_AUTHOR,
    CellMark,
    CellNote,
    Dropdown,
    MetaCache,
    SheetSpec,
    WorkbookError,
    decode_marks,
    encode_marks,
    kind_of_color,
    list_ref,
    mark_part,
    marked_text,
    merge_marks,
    needs_text_guard,
    user_part,
)
from addin.port_openpyxl import plain
from addin.reportbook import SHEET_NAMES, grid_with_places
from addin.reportbook.charts import SPECS
from addin.reportbook.header import HEADER_ROWS
from addin.reportbook.printing import PAGE
from addin.reportbook.snapshot import copy_name
from schema.errors import ErrorCode, Lang
from schema.layout import LISTS_SHEET

log = logging.getLogger(__name__)
ADDIN_SUFFIXES = (".xlam", ".xla")
_LOOKS_NUMERIC = re.compile(r"^\s*[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?%?\s*$|"
                            r"^\s*\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?\s*$|^\s*\d+:\d+")


def _page_setup(ps: Any, title_rows: str) -> None:
    """``addin.reportbook.printing.PAGE`` through Excel's PageSetup object (Windows)."""
    ps.PaperSize = PAGE.paper  # xlPaperA4 = 9, the same code as OOXML's
    ps.Orientation = 2 if PAGE.landscape else 1  # xlLandscape / xlPortrait
    ps.Zoom = False
    ps.FitToPagesWide, ps.FitToPagesTall = PAGE.fit_wide, PAGE.fit_tall or False
    ps.PrintTitleRows = title_rows
    ps.LeftFooter, ps.RightFooter = PAGE.footer_left, PAGE.footer_right


def _is_addin(book: Any) -> bool:
    return PurePath(str(book.name)).suffix.lower() in ADDIN_SUFFIXES


def _cell_out(value: Any) -> Any:
    """A value as Excel must receive it so that it comes back unchanged."""
    value = plain(value)
    if isinstance(value, str) and (needs_text_guard(value) or _LOOKS_NUMERIC.match(value)):
        return "'" + value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _cell_in(value: Any) -> Any:
    if isinstance(value, time):
        return value.isoformat()
    return value


def _describe_validation(cells: xw.Range, d: Dropdown) -> None:
    """Windows Excel only: the alert style, input and error messages of a validation."""
    rule = cells.api.Validation
    if not d.list_name:
        rule.Delete()
        rule.Add(Type=0)  # xlValidateInputOnly
    rule.AlertStyle = 1 if d.stop else 3  # xlValidAlertStop / xlValidAlertInformation
    rule.IgnoreBlank = True
    rule.InputTitle, rule.InputMessage = d.prompt_title, d.prompt
    rule.ErrorTitle, rule.ErrorMessage = d.error_title, d.error
    rule.ShowInput, rule.ShowError = bool(d.prompt), True


class XlwingsPort(MetaCache):
    """A :class:`~addin.port.WorkbookPort` over an open ``xw.Book``."""

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        self._meta: dict[str, str] | None = None

    @classmethod
    def caller(cls, book: xw.Book | None = None) -> XlwingsPort:
        """The workbook the ribbon works on: the one whose button was clicked
        (``xw.Book.caller()``), or, when that is the CRM add-in (``.xlam``), the active
        workbook."""
        book = book if book is not None else xw.Book.caller()
        if not _is_addin(book):
            return cls(book)
        try:
            active = book.app.books.active
            if active is not None and not _is_addin(active):
                return cls(active)
        except Exception:  # Excel has no active workbook: COM answers with an error
            log.info("no active workbook", exc_info=True)
        raise AddinError(ErrorCode.NO_ACTIVE_WORKBOOK)

    def _sheet(self, name: str) -> xw.Sheet:
        if name not in self.sheet_names():
            raise WorkbookError(ErrorCode.WORKBOOK_NOT_CRM, sheet=name)
        return self.book.sheets[name]

    @staticmethod
    def _extent(sheet: xw.Sheet) -> tuple[int, int]:
        last = sheet.used_range.last_cell
        return int(last.row), int(last.column)

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def read_table(self, sheet: str) -> tuple[list[str], pd.DataFrame]:
        sht = self._sheet(sheet)
        last_row, last_col = self._extent(sht)
        last_row = max(last_row, 2)
        values = sht.range((1, 1), (last_row, last_col)).options(ndim=2, err_to_str=True).value
        grid = [[_cell_in(v) for v in row] for row in (values or [])]
        while len(grid) > 2 and all(v is None or v == "" for v in grid[-1]):
            grid.pop()  # the used range often reaches past the data
        keys = ["" if v is None else str(v).strip() for v in grid[0]]
        frame = pd.DataFrame(grid[1:], index=range(2, len(grid) + 1),
                             columns=range(last_col), dtype=object)
        return keys, frame

    def write_table(self, sheet: str, keys: list[str], frame: pd.DataFrame,
                    first_row: int) -> None:
        sht = self._sheet(sheet)
        old_last, old_width = self._extent(sht)
        width = max(len(keys), frame.shape[1])
        if keys:
            sht.range((1, 1)).value = [list(keys)]
        rows = [[_cell_out(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        if rows:
            sht.range((first_row, 1)).options(ndim=2).value = rows
        end = first_row + len(rows)
        if old_last >= end:
            sht.range((end, 1), (old_last, max(width, old_width))).clear_contents()

    def mark_cells(self, sheet: str, marks: list[CellMark]) -> None:
        sht = self._sheet(sheet)
        for row, col in decode_marks(self.read_meta().get(MARKS_META_PREFIX + sheet, "")):
            cell = sht.range((row, col))
            cell.color = None
            note = cell.note
            if note is not None and MARK_SEPARATOR in (note.text or ""):
                user = user_part(note.text)
                if user is None:
                    note.delete()
                else:
                    note.text = user
        merged = merge_marks(marks)
        for m in merged:
            cell = sht.range((m.row, m.col))
            cell.color = f"#{m.color}"
            note = cell.note
            text = marked_text(user_part(note.text) if note is not None else None,
                               m.note[:2000])
            if note is not None:
                note.text = text
            else:
                cell.add_note(text)
        self.write_meta({MARKS_META_PREFIX + sheet: encode_marks(merged) or None})

    def _notes(self, sheet: str) -> list[tuple[int, int, str, str]]:
        """(row, col, text, author) of every note on ``sheet`` (xlwings' ``Sheet.notes``,
        on Windows and Mac alike)."""
        out = []
        for note in self._sheet(sheet).notes:
            cell = note.location
            if cell is not None:
                out.append((int(cell.row), int(cell.column), str(note.text or ""),
                            str(note.author or "")))
        return out

    def read_notes(self, sheet: str) -> list[CellNote]:
        out = []
        for row, col, text, author in self._notes(sheet):
            user = user_part(text, author == NOTE_AUTHOR)
            if user is not None:
                out.append(CellNote(row, col, user, author))
        return out

    def write_notes(self, sheet: str, notes: list[CellNote]) -> None:
        sht = self._sheet(sheet)
        for n in notes:
            cell = sht.range((n.row, n.col))
            if cell.note is not None:
                cell.note.text = n.text
            else:
                cell.add_note(n.text)

    def move_notes(self, sheet: str, moves: dict[int, int | None]) -> None:
        sht = self._sheet(sheet)
        found = [n for n in self._notes(sheet) if n[0] in moves]
        for row, col, _text, _author in found:
            note = sht.range((row, col)).note
            if note is not None:
                note.delete()
        for row, col, text, author in found:
            user, to = user_part(text, author == NOTE_AUTHOR), moves[row]
            if to is not None and user is not None:
                sht.range((to, col)).add_note(user)

    def read_marks(self, sheet: str) -> list[CellMark]:
        sht = self._sheet(sheet)
        out = []
        for row, col in decode_marks(self.read_meta().get(MARKS_META_PREFIX + sheet, "")):
            cell = sht.range((row, col))
            note = cell.note
            text = mark_part(note.text) if note is not None else None
            if text is not None:
                rgb = cell.color
                color = "".join(f"{int(v):02X}" for v in rgb) if rgb else None
                out.append(CellMark(row, col, kind_of_color(color), text))
        return out

    def restore_layout(self, sheet: str, spec: SheetSpec) -> None:
        """As the file port, through xlwings' own API (Windows and Mac): hidden sheet, rows
        and columns, each list dropdown over the template's rows, frozen panes. Input
        messages and an informing (not refusing) alert need Excel's object model, which
        xlwings does not wrap: they are set only on Windows."""
        sht = self._sheet(sheet)
        if spec.hidden and sht.visible:
            sht.visible = False
        for row in spec.hidden_rows:
            sht.range((row, 1)).rows.hidden = True
        for col in spec.hidden_cols:
            sht.range((1, col)).columns.hidden = True
        for d in spec.dropdowns:
            cells = sht.range((spec.first_row, d.col), (spec.last_row, d.col))
            if d.list_name:
                cells.data_validation.delete()
                cells.data_validation.set_list(self.book.names[d.list_name])
            if sys.platform == "win32":
                _describe_validation(cells, d)
        if spec.freeze is not None:
            sht.freeze_panes.freeze_at(sht.range(spec.freeze))

    def write_list(self, name: str, values: list[str]) -> None:
        sht = self._sheet(LISTS_SHEET)
        last_row, last_col = self._extent(sht)
        names = sht.range((1, 1), (1, last_col)).options(ndim=2).value[0]
        col = names.index(name) + 1 if name in names else len(
            [n for n in names if n is not None]) + 1
        sht.range((1, col)).value = name
        if last_row >= 2:
            sht.range((2, col), (max(last_row, 2), col)).clear_contents()
        if values:
            sht.range((2, col)).options(ndim=2).value = [[_cell_out(v)] for v in values]
        self.book.names.add(name, "=" + list_ref(LISTS_SHEET, col, len(values)))

    def write_reports(self, reports: dict[str, dict[str, Any]], lang: Lang, *,
                      keep_as: str | None = None) -> None:
        """Rebuild each report sheet: the header block, cards and tables in one range write
        (``report_grid``), a column chart of the first charted table, the header block
        frozen; with ``keep_as`` the sheets shown so far are renamed to their dated copies
        first (Excel points their charts at the new name)."""
        for kind, rep in reports.items():
            copy = self._keep_or_drop(kind, keep_as)
            name = SHEET_NAMES[kind][lang]
            sht = (self.book.sheets.add(name, before=copy) if copy is not None
                   else self.book.sheets.add(name, after=self.book.sheets[-1]))
            grid, where = grid_with_places(rep, lang, kind)
            if not grid:
                continue
            sht.range("A1").value = [[_cell_out(v) for v in row] for row in grid]
            sht.freeze_panes.freeze_at(sht.range((HEADER_ROWS + 1, 1)))
            if sys.platform == "win32":  # page set-up is in Excel's object model only
                _page_setup(sht.api.PageSetup, f"$1:${HEADER_ROWS}")
            spec = next((s for s in SPECS[kind] if where.get(s.table, (0, 0))[1]), None)
            if spec is not None:
                top, count = where[spec.table]
                anchor = sht.range((2, len(grid[0]) + 2))
                chart = sht.charts.add(left=anchor.left, top=anchor.top)
                chart.chart_type = "bar_clustered" if spec.kind == "bar" else "column_clustered"
                chart.set_source_data(sht.range((top, 1), (top + min(count, 50), 2)))

    def _keep_or_drop(self, kind: str, keep_as: str | None) -> Any:
        """Delete the report sheet of ``kind`` shown so far, or rename it to its dated copy
        (replacing a copy of that name); returns the copy, if kept."""
        kept = None
        for other in SHEET_NAMES[kind].values():
            if other not in [s.name for s in self.book.sheets]:
                continue
            sht = self.book.sheets[other]
            if not keep_as:
                sht.delete()
                continue
            target = copy_name(other, keep_as)
            if target in [s.name for s in self.book.sheets]:
                self.book.sheets[target].delete()
            sht.name = target
            kept = sht
        return kept

    def _status(self, value: str | bool) -> None:
        """The status bar is a courtesy: a host that refuses it costs a log line only."""
        try:
            self.book.app.status_bar = value
        except Exception as exc:  # e.g. Excel busy in an edit, or a host without one
            log.info("status bar not set (%s: %s)", type(exc).__name__, exc)

    def progress(self, text: str, fraction: float | None = None) -> None:
        self._status(f"CRM: {text}" + (f" ({fraction:.0%})" if fraction is not None else ""))

    def done(self) -> None:
        """Give the status bar back to Excel."""
        self._status(False)

    def save(self) -> None:
        self.book.save()
