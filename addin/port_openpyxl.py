"""The workbook port over a file (openpyxl): used by the ``crm-sheet`` CLI and by tests.

Files are checked by :mod:`addin.safety` before openpyxl sees them; macros and the ribbon
survive (``keep_vba``); writes stay in memory until :meth:`OpenpyxlPort.save`, which
replaces the file atomically, so a failed command leaves the file untouched.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from addin.port import (
    MARK_SEPARATOR,
    MARKS_META_PREFIX,
    NOTE_AUTHOR,
    CellMark,
    CellNote,
    MetaCache,
    SheetSpec,
    WorkbookError,
    column_letter,
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
from addin.reportbook import build_report_sheets
from addin.reportbook.printing import widen_to_content
from addin.safety import (
    DEFAULT_LIMITS,
    Limits,
    check_workbook_file,
    package_problems,
    repair_package,
)
from schema.errors import ErrorCode, Lang
from schema.layout import LISTS_SHEET

ProgressFn = Callable[[str, float | None], None]
_NO_FILL = PatternFill(fill_type=None)
# OOXML escapes characters XML cannot carry as _xHHHH_ (Excel does; openpyxl does not)
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_VML_SHAPE = re.compile(r"<v:shape\b.*?</v:shape>", re.S)
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def ooxml_escape(text: str) -> str:
    """``text`` as Excel stores it: control characters (CR too) and a literal ``_xHHHH_``
    escaped, so the value survives the file exactly."""
    return _NEEDS_ESCAPE.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def ooxml_unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


def _note(text: str, author: str) -> Comment:
    note = Comment(text, author)
    note.width, note.height = 300, min(60 + 20 * text.count("\n") + len(text) // 2, 400)
    return note


def _is_mark(note: Comment) -> bool:
    return note.author == NOTE_AUTHOR or MARK_SEPARATOR in (note.text or "")


def _without_mark(note: Comment | None) -> Comment | None:
    """``note`` with any mark of ours taken out (None when nothing of the user's is left)."""
    if note is None or not _is_mark(note):
        return note
    user = user_part(note.text, note.author == NOTE_AUTHOR)
    return None if user is None else _note(user, note.author or "")


def _with_mark(note: Comment | None, message: str) -> Comment:
    """The note of a marked cell: the user's note (if any) with our message below it."""
    user = None if note is None else user_part(note.text, note.author == NOTE_AUTHOR)
    author = NOTE_AUTHOR if note is None or user is None else note.author or ""
    return _note(marked_text(user, message), author)


def hide_column(ws: Worksheet, col: int) -> None:
    """Hide one column, splitting a width group that holds it with others (LibreOffice
    groups equal columns)."""
    dims = ws.column_dimensions
    group = next((d for d in dims.values() if d.min is not None and d.max is not None
                  and d.min <= col <= d.max), None)
    if group is None:
        dims[column_letter(col)].hidden = True
        return
    if group.hidden:
        return
    lo, hi = group.min or col, group.max or col
    del dims[column_letter(lo)]
    for a, b, hidden in ((lo, col - 1, False), (col, col, True), (col + 1, hi, False)):
        if a <= b:
            part = copy.copy(group)
            part.index, part.min, part.max, part.hidden = column_letter(a), a, b, hidden
            dims[column_letter(a)] = part


def restore_dropdowns(ws: Worksheet, spec: SheetSpec) -> None:
    """Replace the validations touching ``spec``'s columns by the template's, over rows
    ``first_row..last_row``; validations of other columns are kept."""
    cols = {d.col for d in spec.dropdowns}
    kept = [dv for dv in ws.data_validations.dataValidation
            if not any(rng.min_col <= c <= rng.max_col and rng.max_row >= spec.first_row
                       for rng in dv.sqref.ranges for c in cols)]
    ws.data_validations.dataValidation = kept
    for d in spec.dropdowns:
        letter = column_letter(d.col)
        dv = DataValidation(type="list" if d.list_name else None,
                            formula1=d.list_name, allow_blank=True,
                            showErrorMessage=True, showInputMessage=bool(d.prompt),
                            errorStyle="stop" if d.stop else "information",
                            errorTitle=d.error_title or None, error=d.error or None,
                            promptTitle=d.prompt_title or None, prompt=d.prompt or None,
                            sqref=f"{letter}{spec.first_row}:{letter}{spec.last_row}")
        ws.data_validations.dataValidation.append(dv)


def only_note_shapes(vml: bytes) -> bool:
    """Whether a VML drawing holds nothing but cell-note shapes (or nothing at all)."""
    text = vml.decode("utf-8", "replace")
    shapes = _VML_SHAPE.findall(text)
    return all('ObjectType="Note"' in shape for shape in shapes)


def plain(value: Any) -> Any:
    """A pandas/numpy cell value as a plain Python value openpyxl can store."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return plain(value.item())  # numpy scalar
    return value


def _file_mode(path: Path) -> int:
    """The permission bits ``path`` has, or what a new file gets under the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class OpenpyxlPort(MetaCache):
    """A :class:`~addin.port.WorkbookPort` over one ``.xlsx``/``.xlsm`` file."""

    def __init__(self, wb: Workbook, path: Path, *, source: bytes | None = None,
                 on_progress: ProgressFn | None = None) -> None:
        self.wb = wb
        self.path = path
        self._source = source  # bytes of the file, to read cached formula results on demand
        self._values_wb: Workbook | None = None
        self._meta: dict[str, str] | None = None
        self.on_progress = on_progress
        self.repairs: list[str] = []  # package problems fixed when the file was opened

    # construction ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, limits: Limits = DEFAULT_LIMITS,
             on_progress: ProgressFn | None = None) -> OpenpyxlPort:
        """Check, then open ``path`` (macros kept for .xlsm)."""
        path = Path(path)
        check_workbook_file(path, limits)
        data, repairs = repair_package(path.read_bytes(), path.name)
        port = cls(cls._load(data, path), path, source=data, on_progress=on_progress)
        port.repairs = repairs
        return port

    @classmethod
    def from_bytes(cls, data: bytes, path: Path | str, *,
                   on_progress: ProgressFn | None = None) -> OpenpyxlPort:
        """A workbook made from ``data`` (a template) that :meth:`save` writes to ``path``."""
        path = Path(path)
        return cls(cls._load(data, path), path, source=data, on_progress=on_progress)

    @staticmethod
    def _load(data: bytes, path: Path, data_only: bool = False) -> Workbook:
        keep_vba = path.suffix.lower() in (".xlsm", ".xltm", ".xlam")
        try:
            return openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba,
                                          data_only=data_only, keep_links=False)
        except Exception as exc:
            raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=path.name,
                                detail=f"{type(exc).__name__}: {exc}"[:200]) from exc

    # helpers --------------------------------------------------------------------------------
    def _sheet(self, name: str) -> Worksheet:
        if name not in self.wb.sheetnames:
            raise WorkbookError(ErrorCode.WORKBOOK_NOT_CRM, sheet=name)
        ws = self.wb[name]
        assert isinstance(ws, Worksheet)
        return ws

    def _cached_value(self, sheet: str, row: int, col: int) -> Any:
        """The value Excel last calculated for a formula cell (None if never calculated)."""
        if self._values_wb is None:
            if self._source is None:
                return None
            self._values_wb = self._load(self._source, self.path, data_only=True)
        if sheet not in self._values_wb.sheetnames:
            return None
        return self._values_wb[sheet].cell(row=row, column=col).value

    @staticmethod
    def _last_row(ws: Worksheet) -> int:
        """The last row holding a value (the declared dimension is not trusted)."""
        rows = [r for (r, _c), cell in ws._cells.items() if cell.value is not None]
        return max(rows, default=0)

    # WorkbookPort ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def read_table(self, sheet: str) -> tuple[list[str], pd.DataFrame]:
        ws = self._sheet(sheet)
        last = max(self._last_row(ws), 2)
        for rng in ws.merged_cells.ranges:  # a merged block reaches below its only value
            if ws.cell(row=rng.min_row, column=rng.min_col).value is not None:
                last = max(last, min(rng.max_row, DEFAULT_LIMITS.max_rows))
        width = max((c for (_r, c), cell in ws._cells.items() if cell.value is not None),
                    default=1)
        rows: list[list[Any]] = []
        for r_idx, row in enumerate(ws.iter_rows(min_row=1, max_row=last, max_col=width),
                                    start=1):
            values: list[Any] = []
            for cell in row:
                if isinstance(cell, MergedCell):
                    values.append(None)
                elif cell.data_type == "f":
                    values.append(self._cached_value(sheet, r_idx, cell.column or 0))
                elif isinstance(cell.value, time):
                    values.append(cell.value.isoformat())
                elif isinstance(cell.value, str):
                    values.append(ooxml_unescape(cell.value))
                else:
                    values.append(cell.value)
            rows.append(values)
        for rng in ws.merged_cells.ranges:  # a merged block shows its first value everywhere
            top = rows[rng.min_row - 1][rng.min_col - 1] if rng.min_row <= last else None
            for r in range(max(rng.min_row, 2), min(rng.max_row, last) + 1):
                for c in range(rng.min_col, min(rng.max_col, width) + 1):
                    rows[r - 1][c - 1] = top
        keys = ["" if v is None else str(v).strip() for v in rows[0]]
        frame = pd.DataFrame(rows[1:], index=range(2, last + 1), columns=range(width),
                             dtype=object)
        return keys, frame

    def write_table(self, sheet: str, keys: list[str], frame: pd.DataFrame,
                    first_row: int) -> None:
        ws = self._sheet(sheet)
        old_last = self._last_row(ws)
        width = max(len(keys), frame.shape[1])
        for c, key in enumerate(keys, start=1):
            if key or ws.cell(row=1, column=c).value is not None:
                ws.cell(row=1, column=c).value = key or None
        formats = {c: ws.column_dimensions[column_letter(c)].number_format
                   for c in range(1, width + 1)}
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=first_row):
            for c, raw in enumerate(row, start=1):
                self._put(ws, r, c, plain(raw), formats[c])
        if ws.sheet_state == "visible" and first_row > 1:
            widen_to_content(ws, frame)
        end = first_row + len(frame)
        if old_last >= end:
            for (r, c) in [k for k in ws._cells if k[0] >= end and k[0] <= old_last]:
                cell = ws._cells[(r, c)]
                if not isinstance(cell, MergedCell):
                    cell.value = None

    @staticmethod
    def _put(ws: Worksheet, r: int, c: int, value: Any, fmt: str) -> None:
        existing = ws._cells.get((r, c))
        if isinstance(existing, MergedCell):
            return  # only the first cell of a merged block holds a value
        if value is None and existing is None:
            return
        cell: Cell = ws.cell(row=r, column=c)
        cell.value = ooxml_escape(value) if isinstance(value, str) else value
        if needs_text_guard(value):
            cell.data_type = "s"  # openpyxl would otherwise write it as a formula
            cell.quotePrefix = True
        elif cell.quotePrefix and isinstance(value, str):
            cell.quotePrefix = False
        if (isinstance(value, int | float | date) and not isinstance(value, bool)
                and fmt and fmt != "General" and cell.number_format == "General"):
            cell.number_format = fmt
        if isinstance(value, datetime) and cell.number_format == "yyyy-mm-dd h:mm:ss":
            cell.number_format = "yyyy-mm-dd hh:mm"

    def mark_cells(self, sheet: str, marks: list[CellMark]) -> None:
        ws = self._sheet(sheet)
        meta = self.read_meta()
        recorded = set(decode_marks(meta.get(MARKS_META_PREFIX + sheet, "")))
        for (row, col), cell in ws._cells.items():  # marks moved by a sort are found too
            marked = cell.comment is not None and _is_mark(cell.comment)
            if ((row, col) not in recorded and not marked) or isinstance(cell, MergedCell):
                continue
            if (row, col) in recorded or (marked and cell.comment.author == NOTE_AUTHOR):
                cell.fill = _NO_FILL
            cell.comment = _without_mark(cell.comment)
        merged = merge_marks(marks)
        for m in merged:
            if isinstance(ws._cells.get((m.row, m.col)), MergedCell):
                continue
            cell = ws.cell(row=m.row, column=m.col)
            cell.fill = PatternFill(fill_type="solid", start_color=m.color, end_color=m.color)
            cell.comment = _with_mark(cell.comment, m.note[:2000])
        self.write_meta({MARKS_META_PREFIX + sheet: encode_marks(merged) or None})

    def read_notes(self, sheet: str) -> list[CellNote]:
        ws = self._sheet(sheet)
        out = []
        for (row, col), cell in ws._cells.items():
            note = cell.comment
            user = None if note is None else user_part(note.text, note.author == NOTE_AUTHOR)
            if note is not None and user is not None:
                out.append(CellNote(row, col, user, note.author or ""))
        return sorted(out, key=lambda n: (n.row, n.col))

    def write_notes(self, sheet: str, notes: list[CellNote]) -> None:
        ws = self._sheet(sheet)
        for n in notes:
            if not isinstance(ws._cells.get((n.row, n.col)), MergedCell):
                ws.cell(row=n.row, column=n.col).comment = _note(n.text, n.author)

    def move_notes(self, sheet: str, moves: dict[int, int | None]) -> None:
        ws = self._sheet(sheet)
        found = [(r, c, cell) for (r, c), cell in ws._cells.items()
                 if r in moves and cell.comment is not None]
        notes = [(r, c, cell.comment) for r, c, cell in found]
        for _r, _c, cell in found:
            cell.comment = None
        for r, c, note in notes:
            user = user_part(note.text, note.author == NOTE_AUTHOR)
            to = moves[r]
            if to is not None and user is not None:
                ws.cell(row=to, column=c).comment = _note(user, note.author or "")

    def read_marks(self, sheet: str) -> list[CellMark]:
        ws = self._sheet(sheet)
        out = []
        for row, col in decode_marks(self.read_meta().get(MARKS_META_PREFIX + sheet, "")):
            cell = ws._cells.get((row, col))
            note = None if cell is None else cell.comment
            text = None if note is None else mark_part(note.text, note.author == NOTE_AUTHOR)
            if cell is not None and text is not None:
                color = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                out.append(CellMark(row, col, kind_of_color(str(color)), text))
        return out

    def restore_layout(self, sheet: str, spec: SheetSpec) -> None:
        ws = self._sheet(sheet)
        if spec.hidden and ws.sheet_state == "visible" and self.wb.active is not ws:
            ws.sheet_state = "hidden"
        if spec.freeze is not None and ws.freeze_panes is None:
            ws.freeze_panes = ws.cell(row=spec.freeze[0], column=spec.freeze[1]).coordinate
        for row in spec.hidden_rows:
            ws.row_dimensions[row].hidden = True
        for col in spec.hidden_cols:
            hide_column(ws, col)
        if spec.dropdowns:
            restore_dropdowns(ws, spec)

    def write_list(self, name: str, values: list[str]) -> None:
        ws = self._sheet(LISTS_SHEET)
        names = [c.value for c in ws[1]]
        col = names.index(name) + 1 if name in names else len(
            [n for n in names if n is not None]) + 1
        last = max((r for (r, c), cell in ws._cells.items()
                    if c == col and cell.value is not None), default=1)
        ws.cell(row=1, column=col).value = name
        for r in range(2, max(last, len(values) + 1) + 1):
            value = values[r - 2] if r - 2 < len(values) else None
            if value is None and (r, col) not in ws._cells:
                continue
            self._put(ws, r, col, value, "General")
        ref = list_ref(LISTS_SHEET, col, len(values))
        self.wb.defined_names[name] = DefinedName(name=name, attr_text=ref)

    def write_reports(self, reports: dict[str, dict[str, Any]], lang: Lang, *,
                      keep_as: str | None = None) -> None:
        build_report_sheets(self.wb, reports.get("funnel"), reports.get("rfm"),
                            reports.get("kpis"), lang, keep_as=keep_as)

    def progress(self, text: str, fraction: float | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(text, fraction)

    def _settle_legacy_drawings(self) -> None:
        """Let openpyxl write each sheet's note drawing afresh unless the old one holds more
        than notes: a drawing left from removed notes (or missing from the file) would be
        related but not written, and the next save would fail on it."""
        archive = self.wb.vba_archive
        names = set(archive.namelist()) if archive is not None else set()
        for ws in self.wb.worksheets:
            legacy = ws.legacy_drawing
            if legacy is None:
                continue
            if archive is None or legacy not in names or only_note_shapes(archive.read(legacy)):
                ws.legacy_drawing = None

    def _check_package(self, tmp: str) -> None:
        """Refuse to replace the file with a package that has a dangling relationship: carry
        over a kept drawing openpyxl did not copy, else fail with the reason."""
        problems = package_problems(Path(tmp))
        archive = self.wb.vba_archive
        missing = [p.target for p in problems if p.kind == "missing_part"]
        if archive is not None and missing and set(missing) <= set(archive.namelist()):
            with zipfile.ZipFile(tmp, "a", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(set(missing)):
                    zf.writestr(part, archive.read(part))
            problems = package_problems(Path(tmp))
        if problems:
            raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=self.path.name,
                                detail=f"not saved: {problems[0]}")

    def save(self) -> None:
        """Write to a temporary file beside the target, check its package, then replace the
        target in one step."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".crm-", suffix=self.path.suffix,
                                   dir=self.path.parent)
        os.close(fd)
        try:
            self._settle_legacy_drawings()
            self.wb.save(tmp)
            self._check_package(tmp)
            os.chmod(tmp, _file_mode(self.path))  # mkstemp makes 0600: keep the file's own
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise WorkbookError(ErrorCode.WORKBOOK_LOCKED, path=self.path.name,
                                detail=str(exc)) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._source = None
        self._values_wb = None
