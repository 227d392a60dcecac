"""The workbook port over a payload (the Office.js add-in, and any thin host after it).

The host sent its workbook (:mod:`addin.payload.snapshot`); the port reads that, and every
write is recorded as host-neutral actions (:mod:`addin.payload.actions`) that the host
applies afterwards, while the in-memory model (:mod:`addin.payload.model`) is kept up to date
so reads later in the same command see the writes. One table write is one ``set_values``
however many rows it has (``split_pages`` cuts it for transport); dates go out as serial
numbers with a ``set_number_format`` per run of cells not already formatted as dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import from_excel, to_excel

from addin.payload.actions import Action, action
from addin.payload.from_openpyxl import freeze_of, sheet_actions, sheet_blocks
from addin.payload.model import Note, SheetModel, WorkbookModel, model_of
from addin.payload.snapshot import CellBlock, SheetNotes, WorkbookInfo
from addin.port import (
    MARKS_META_PREFIX,
    NOTE_AUTHOR,
    CellMark,
    CellNote,
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
    user_part,
)
from addin.port_openpyxl import plain
from addin.reportbook import build_report_sheets
from schema.errors import ErrorCode, Lang
from schema.layout import LISTS_SHEET

ProgressFn = Callable[[str, float | None], None]
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"  # as OpenpyxlPort leaves


def out_value(value: Any) -> Any:
    """A frame value as the host receives it: dates as serial numbers, NaN as null."""
    value = plain(value)
    if isinstance(value, datetime | date):
        return float(to_excel(value))
    if isinstance(value, time):
        return value.isoformat()
    return value


def in_value(value: Any, fmt: str) -> Any:
    """A host value as ``read_table`` gives it: a number in a date format is a date."""
    if isinstance(value, int | float) and not isinstance(value, bool) and is_date_format(fmt):
        got = from_excel(value)
        return got.isoformat() if isinstance(got, time) else got
    return value


def _is_mark(note: Note) -> bool:
    return note.author == NOTE_AUTHOR or mark_part(note.text) is not None


def _user_note(note: Note | None) -> Note | None:
    if note is None:
        return None
    user = user_part(note.text, note.author == NOTE_AUTHOR)
    return None if user is None else Note(user, note.author)


class PayloadPort(MetaCache):
    """A :class:`~addin.port.WorkbookPort` over what a host sent; writes become actions."""

    def __init__(self, info: WorkbookInfo, blocks: list[CellBlock],
                 notes: list[SheetNotes], *, on_progress: ProgressFn | None = None) -> None:
        self.model: WorkbookModel = model_of(info, blocks, notes)
        self.actions: list[Action] = []
        self.files: dict[str, bytes] = {}
        self.progress_log: list[tuple[str, float | None]] = []
        self.on_progress = on_progress
        self._meta: dict[str, str] | None = None

    # helpers --------------------------------------------------------------------------------
    def _sheet(self, name: str) -> SheetModel:
        sheet = self.model.sheet(name)
        if sheet is None:
            raise WorkbookError(ErrorCode.WORKBOOK_NOT_CRM, sheet=name)
        if not sheet.sent:
            raise WorkbookError(ErrorCode.WORKBOOK_INVALID, path=self.model.title or name,
                                detail=f"the cells of sheet “{name}” were not sent")
        return sheet

    def _do(self, op: str, **keys: Any) -> None:
        self.actions.append(action(op, **keys))

    # WorkbookPort ---------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return self.model.names_in_order()

    def read_table(self, sheet: str) -> tuple[list[str], pd.DataFrame]:
        sh = self._sheet(sheet)
        last, width = max(sh.last_row(), 2), max(sh.last_col(), 1)
        rows = [sh.row(r, width) for r in range(1, last + 1)]
        for c, runs in sh.formats.items():
            if c > width:
                continue
            for start, stop, fmt in runs.runs:
                if is_date_format(fmt):
                    for r in range(start, min(stop, last + 1)):
                        rows[r - 1][c - 1] = in_value(rows[r - 1][c - 1], fmt)
        keys = ["" if v is None else str(v).strip() for v in rows[0]]
        frame = pd.DataFrame(rows[1:], index=range(2, last + 1), columns=range(width),
                             dtype=object)
        return keys, frame

    def write_table(self, sheet: str, keys: list[str], frame: pd.DataFrame,
                    first_row: int) -> None:
        sh = self._sheet(sheet)
        old_last, width = sh.last_row(), max(len(keys), frame.shape[1])
        if keys:
            self._set_values(sh, 1, [[k or None for k in keys]])
        rows = [list(r) for r in frame.itertuples(index=False, name=None)]
        if rows and frame.shape[1]:
            self._date_formats(sh, rows, first_row)
            self._set_values(sh, first_row, [[out_value(v) for v in r] for r in rows])
        end = first_row + len(rows)
        if old_last >= end:
            cols = max(width, sh.last_col())
            self._do("clear", sheet=sheet, row=end, col=1, rows=old_last - end + 1, cols=cols)
            sh.clear(end, 1, old_last - end + 1, cols)

    def _set_values(self, sh: SheetModel, row: int, values: list[list[Any]]) -> None:
        self._do("set_values", sheet=sh.name, row=row, col=1, values=values)
        sh.put_block(row, 1, values)

    def _date_formats(self, sh: SheetModel, rows: list[list[Any]], first_row: int) -> None:
        """One ``set_number_format`` per run of date cells (empty cells between them join
        the run) whose cells are not formatted as dates yet."""
        for j in range(len(rows[0])):
            run: list[int] = []  # rows of the current run
            fmt = DATE_FORMAT
            for i, raw in enumerate([*(r[j] for r in rows), "end"]):
                value, r = plain(raw), first_row + i
                if isinstance(value, date) and not is_date_format(sh.format_of(r, j + 1)):
                    run.append(r)
                    if isinstance(value, datetime):
                        fmt = DATETIME_FORMAT
                elif value is not None or raw == "end":
                    if run:
                        self._do("set_number_format", sheet=sh.name, row=run[0], col=j + 1,
                                 rows=run[-1] - run[0] + 1, cols=1, format=fmt)
                        sh.set_format(run[0], j + 1, run[-1] - run[0] + 1, 1, fmt)
                    run, fmt = [], DATE_FORMAT

    # notes and marks ------------------------------------------------------------------------
    def _commit(self, sh: SheetModel, notes: dict[tuple[int, int], Note],
                fills: dict[tuple[int, int], str | None]) -> None:
        """Record the difference between the sheet's notes and fills and ``notes`` and
        ``fills`` (the wanted state): one ``set_notes``, one ``set_fill`` per colour."""
        changed = [{"row": r, "col": c, "text": None if n is None else n.text}
                   for (r, c) in sorted(set(sh.notes) | set(notes))
                   if (n := notes.get((r, c))) != sh.notes.get((r, c))]
        if changed:
            self._do("set_notes", sheet=sh.name, notes=changed)
        by_color: dict[str | None, list[list[int]]] = {}
        for rc, color in sorted(fills.items()):
            if rc not in sh.fills or sh.fills[rc] != color:
                by_color.setdefault(color, []).append([rc[0], rc[1]])
        for color, cells in sorted(by_color.items(), key=lambda kv: kv[0] or ""):
            self._do("set_fill", sheet=sh.name, cells=cells, color=color)
        sh.notes, sh.fills = notes, {**sh.fills, **fills}

    def mark_cells(self, sheet: str, marks: list[CellMark]) -> None:
        sh = self._sheet(sheet)
        recorded = set(decode_marks(self.read_meta().get(MARKS_META_PREFIX + sheet, "")))
        notes, fills = dict(sh.notes), dict[tuple[int, int], str | None]()
        for rc in recorded | {rc for rc, n in sh.notes.items() if _is_mark(n)}:
            note = sh.notes.get(rc)
            if rc in recorded or (note is not None and note.author == NOTE_AUTHOR):
                fills[rc] = None
            if note is not None and _is_mark(note):
                if (kept := _user_note(note)) is None:
                    notes.pop(rc, None)
                else:
                    notes[rc] = kept
        merged = merge_marks(marks)
        for m in merged:
            note = notes.get((m.row, m.col))
            user = None if note is None else user_part(note.text, note.author == NOTE_AUTHOR)
            author = NOTE_AUTHOR if note is None or user is None else note.author
            notes[(m.row, m.col)] = Note(marked_text(user, m.note[:2000]), author)
            fills[(m.row, m.col)] = m.color
        self._commit(sh, notes, fills)
        self.write_meta({MARKS_META_PREFIX + sheet: encode_marks(merged) or None})

    def read_notes(self, sheet: str) -> list[CellNote]:
        sh = self._sheet(sheet)
        out = [CellNote(r, c, u.text, u.author) for (r, c), n in sh.notes.items()
               if (u := _user_note(n)) is not None]
        return sorted(out, key=lambda n: (n.row, n.col))

    def write_notes(self, sheet: str, notes: list[CellNote]) -> None:
        sh = self._sheet(sheet)
        wanted = dict(sh.notes) | {(n.row, n.col): Note(n.text, n.author) for n in notes}
        self._commit(sh, wanted, {})

    def move_notes(self, sheet: str, moves: dict[int, int | None]) -> None:
        sh = self._sheet(sheet)
        found = {rc: n for rc, n in sh.notes.items() if rc[0] in moves}
        wanted = {rc: n for rc, n in sh.notes.items() if rc not in found}
        for (r, c), note in found.items():
            user, to = _user_note(note), moves[r]
            if to is not None and user is not None:
                wanted[(to, c)] = user
        self._commit(sh, wanted, {})

    def read_marks(self, sheet: str) -> list[CellMark]:
        sh = self._sheet(sheet)
        out = []
        for row, col in decode_marks(self.read_meta().get(MARKS_META_PREFIX + sheet, "")):
            note = sh.notes.get((row, col))
            text = None if note is None else mark_part(note.text, note.author == NOTE_AUTHOR)
            if text is not None:
                out.append(CellMark(row, col, kind_of_color(sh.fills.get((row, col))), text))
        return out

    # layout ---------------------------------------------------------------------------------
    def restore_layout(self, sheet: str, spec: SheetSpec) -> None:
        sh = self.model.sheet(sheet)
        if sh is None:
            raise WorkbookError(ErrorCode.WORKBOOK_NOT_CRM, sheet=sheet)
        if spec.hidden and sh.visibility == "visible" and self.model.active != sheet:
            self._do("set_visibility", sheet=sheet, state="hidden")
            sh.visibility = "hidden"
        if spec.freeze is not None and sh.freeze is None:
            self._do("freeze", sheet=sheet, row=spec.freeze[0], col=spec.freeze[1])
            sh.freeze = spec.freeze
        if spec.hidden_rows:
            self._do("hide_rows", sheet=sheet, rows=list(spec.hidden_rows))
            sh.hidden_rows |= set(spec.hidden_rows)
        if spec.hidden_cols:
            self._do("hide_cols", sheet=sheet, cols=list(spec.hidden_cols))
            sh.hidden_cols |= set(spec.hidden_cols)
        for d in spec.dropdowns:
            self._do("set_validation", sheet=sheet, row=spec.first_row, col=d.col,
                     rows=spec.last_row - spec.first_row + 1, cols=1,
                     list="=" + d.list_name if d.list_name else None, stop=d.stop,
                     error_title=d.error_title, error=d.error, prompt_title=d.prompt_title,
                     prompt=d.prompt)

    def write_list(self, name: str, values: list[str]) -> None:
        sh = self._sheet(LISTS_SHEET)
        names = [sh.get(1, c) for c in range(1, sh.last_col() + 1)]
        col = names.index(name) + 1 if name in names else len(
            [n for n in names if n is not None]) + 1
        last = max((r for r in range(1, sh.last_row() + 1) if sh.get(r, col) is not None),
                   default=1)
        column = [[name]] + [[values[i] if i < len(values) else None]
                             for i in range(max(last - 1, len(values)))]
        self._do("set_values", sheet=LISTS_SHEET, row=1, col=col, values=column)
        sh.put_block(1, col, column)
        ref = "=" + list_ref(LISTS_SHEET, col, len(values))
        self._do("set_name", name=name, ref=ref)
        self.model.names[name] = ref

    def write_reports(self, reports: dict[str, dict[str, Any]], lang: Lang, *,
                      keep_as: str | None = None) -> None:
        """Build the report sheets with the openpyxl builder in a scratch workbook holding
        placeholders for the sheets here, then send what changed: sheets deleted, renamed
        (dated copies) and the new sheets, each rebuilt with :func:`sheet_actions`."""
        scratch = openpyxl.Workbook()
        scratch.remove(scratch.active)
        placeholders = {scratch.create_sheet(s.name): s.name for s in self.model.sheets}
        built = build_report_sheets(scratch, reports.get("funnel"), reports.get("rfm"),
                                    reports.get("kpis"), lang, keep_as=keep_as)
        for ws, old in placeholders.items():  # deletes first: a copy may take a name
            if ws not in scratch.worksheets:
                self._do("delete_sheet", sheet=old)
                self.model.remove(old)
        for ws, old in placeholders.items():
            if ws in scratch.worksheets and ws.title != old:
                self._do("rename_sheet", sheet=old, to=ws.title)
                self._rename(old, ws.title)
        order = [ws.title for ws in scratch.worksheets]
        for ws in built:
            i = order.index(ws.title)
            after = order[i - 1] if i > 0 else None
            before = None if after is not None or len(order) == 1 else order[1]
            self._do("add_sheet", sheet=ws.title, before=before, after=after)
            self.actions += sheet_actions(ws)
            self.model.add(self._model_of(ws), i)

    def _rename(self, old: str, new: str) -> None:
        sh = self.model.sheet(old)
        if sh is not None:
            sh.name = new
        if self.model.active == old:
            self.model.active = new

    @staticmethod
    def _model_of(ws: Any) -> SheetModel:
        sh = SheetModel(ws.title, freeze=freeze_of(ws))
        for block in sheet_blocks(ws):
            sh.put_block(block.row, block.col,
                         [[None if v == "" else v for v in row] for row in block.values])
            for offset, runs in block.formats.items():
                for run in runs:
                    sh.set_format(block.row + run.start, block.col + offset, run.count, 1,
                                  run.format)
        return sh

    def progress(self, text: str, fraction: float | None = None) -> None:
        self.progress_log.append((text, fraction))
        if self.on_progress is not None:
            self.on_progress(text, fraction)

    def save(self) -> None:
        """Nothing to do here: the host applies :attr:`actions`."""
