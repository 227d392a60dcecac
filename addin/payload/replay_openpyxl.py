"""The reference host: a list of actions applied to an openpyxl ``Workbook``, as the
Office.js client applies them to Excel (the tests check the payload port with it).

Like any host it stops at the first action it cannot apply, naming its index and op
(:class:`ReplayError`). Where Excel and openpyxl differ it does what Excel does: a note
written by a host gets the host's user as author (``author``); a string stays text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl.cell.cell import MergedCell
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from addin.payload.actions import OPS, Action
from addin.payload.from_openpyxl import PT_PER_CM
from addin.port import needs_text_guard
from addin.port_openpyxl import hide_column, ooxml_escape
from addin.reportbook.snapshot import retarget

HOST_AUTHOR = "Excel user"  # Office.js cannot set a note's author: the signed-in user's
_STATES = {"visible": "visible", "hidden": "hidden", "very_hidden": "veryHidden"}


class ReplayError(Exception):
    """An action the host could not apply: which one and why."""

    def __init__(self, index: int, op: str, reason: str) -> None:
        super().__init__(f"action {index} ({op}): {reason}")
        self.index, self.op, self.reason = index, op, reason


class Replay:
    """Applies actions to one workbook; ``opened`` lists the files ``open_workbook`` named."""

    def __init__(self, wb: Workbook, author: str = HOST_AUTHOR) -> None:
        self.wb = wb
        self.author = author
        self.opened: list[tuple[str, str]] = []

    def apply(self, actions: list[Action]) -> None:
        for i, act in enumerate(actions):
            op = str(act.get("op"))
            handler: Callable[[Action], None] | None = getattr(self, f"_{op}", None)
            if op not in OPS or handler is None:
                raise ReplayError(i, op, "unknown op")
            try:
                handler(act)
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                raise ReplayError(i, op, f"{type(exc).__name__}: {exc}") from exc

    def ws(self, act: Action) -> Worksheet:
        ws = self.wb[act["sheet"]]
        assert isinstance(ws, Worksheet)
        return ws

    @staticmethod
    def cells(act: Action) -> list[tuple[int, int]]:
        return [(r, c) for r in range(act["row"], act["row"] + act["rows"])
                for c in range(act["col"], act["col"] + act["cols"])]

    # sheets ---------------------------------------------------------------------------------
    def _add_sheet(self, act: Action) -> None:
        names = self.wb.sheetnames
        if act["after"] is not None:
            index: int | None = names.index(act["after"]) + 1
        elif act["before"] is not None:
            index = names.index(act["before"])
        else:
            index = None
        self.wb.create_sheet(act["sheet"], index)

    def _delete_sheet(self, act: Action) -> None:
        self.wb.remove(self.ws(act))

    def _rename_sheet(self, act: Action) -> None:
        ws = self.ws(act)
        ws.title = act["to"]
        retarget(ws, act["sheet"])  # Excel points a renamed sheet's charts at it

    def _set_visibility(self, act: Action) -> None:
        self.ws(act).sheet_state = _STATES[act["state"]]

    def _activate(self, act: Action) -> None:
        self.wb.active = self.wb.worksheets.index(self.ws(act))

    # cells ----------------------------------------------------------------------------------
    def _set_values(self, act: Action) -> None:
        ws = self.ws(act)
        for i, row in enumerate(act["values"]):
            for j, value in enumerate(row):
                put(ws, act["row"] + i, act["col"] + j, value)

    def _clear(self, act: Action) -> None:
        ws = self.ws(act)
        for rc in self.cells(act):
            cell = ws._cells.get(rc)
            if cell is not None and not isinstance(cell, MergedCell):
                cell.value = None

    def _set_number_format(self, act: Action) -> None:
        ws = self.ws(act)
        for r, c in self.cells(act):
            ws.cell(row=r, column=c).number_format = act["format"]

    def _set_fill(self, act: Action) -> None:
        ws, color = self.ws(act), act["color"]
        fill = PatternFill(fill_type=None) if color is None else PatternFill(
            fill_type="solid", start_color=color, end_color=color)
        for r, c in act["cells"]:
            ws.cell(row=r, column=c).fill = fill

    def _set_font(self, act: Action) -> None:
        ws = self.ws(act)
        for r, c in self.cells(act):
            cell = ws.cell(row=r, column=c)
            cell.font = Font(name=cell.font.name, b=act["bold"], i=act["italic"],
                             sz=act["size"] or cell.font.sz, color=act["color"])

    def _set_alignment(self, act: Action) -> None:
        ws = self.ws(act)
        for r, c in self.cells(act):
            ws.cell(row=r, column=c).alignment = Alignment(horizontal=act["horizontal"],
                                                           wrap_text=act["wrap"] or None)

    def _merge(self, act: Action) -> None:
        self.ws(act).merge_cells(start_row=act["row"], start_column=act["col"],
                                 end_row=act["row"] + act["rows"] - 1,
                                 end_column=act["col"] + act["cols"] - 1)

    def _set_notes(self, act: Action) -> None:
        ws = self.ws(act)
        for n in act["notes"]:
            cell = ws.cell(row=n["row"], column=n["col"])
            if n["text"] is None:
                cell.comment = None
                continue
            author = cell.comment.author if cell.comment is not None else self.author
            note = Comment(n["text"], author or self.author)
            note.width, note.height = 300, min(60 + 20 * n["text"].count("\n"), 400)
            cell.comment = note

    # layout ---------------------------------------------------------------------------------
    def _set_validation(self, act: Action) -> None:
        ws = self.ws(act)
        top, bottom = act["row"], act["row"] + act["rows"] - 1
        left, right = act["col"], act["col"] + act["cols"] - 1
        kept = [dv for dv in ws.data_validations.dataValidation
                if not any(r.min_col <= right and r.max_col >= left and r.max_row >= top
                           and r.min_row <= bottom for r in dv.sqref.ranges)]
        ws.data_validations.dataValidation = kept
        source = act["list"]
        ws.data_validations.dataValidation.append(DataValidation(
            type="list" if source else None, formula1=source.lstrip("=") if source else None,
            allow_blank=True, showErrorMessage=True, showInputMessage=bool(act["prompt"]),
            errorStyle="stop" if act["stop"] else "information",
            errorTitle=act["error_title"] or None, error=act["error"] or None,
            promptTitle=act["prompt_title"] or None, prompt=act["prompt"] or None,
            sqref=f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"))

    def _set_name(self, act: Action) -> None:
        name = act["name"]
        self.wb.defined_names[name] = DefinedName(name=name,
                                                  attr_text=str(act["ref"]).lstrip("="))

    def _freeze(self, act: Action) -> None:
        ws = self.ws(act)
        ws.freeze_panes = None if (act["row"], act["col"]) == (1, 1) else ws.cell(
            row=act["row"], column=act["col"]).coordinate

    def _hide_rows(self, act: Action) -> None:
        ws = self.ws(act)
        for r in act["rows"]:
            ws.row_dimensions[r].hidden = True

    def _hide_cols(self, act: Action) -> None:
        ws = self.ws(act)
        for c in act["cols"]:
            hide_column(ws, c)

    def _set_column_widths(self, act: Action) -> None:
        ws = self.ws(act)
        for col, width in act["widths"].items():
            ws.column_dimensions[get_column_letter(int(col))].width = float(width)

    def _page_setup(self, act: Action) -> None:
        ws = self.ws(act)
        ws.page_setup.orientation = "landscape" if act["landscape"] else "portrait"
        if act["fit_width"]:
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = act["fit_width"], 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
        if act["title_rows"]:
            ws.print_title_rows = act["title_rows"]

    def _add_chart(self, act: Action) -> None:
        ws = self.ws(act)
        ws.add_chart(make_chart(ws, act), ws.cell(row=act["anchor"]["row"],
                                                  column=act["anchor"]["col"]).coordinate)

    def _open_workbook(self, act: Action) -> None:
        self.opened.append((act["file"], act["name"]))


def put(ws: Worksheet, r: int, c: int, value: Any) -> None:
    """One cell as Excel stores what a host writes: a string always as text."""
    existing = ws._cells.get((r, c))
    if isinstance(existing, MergedCell) or (value is None and existing is None):
        return
    cell = ws.cell(row=r, column=c)
    if isinstance(value, dict):
        cell.value = str(value["f"])
        return
    cell.value = ooxml_escape(value) if isinstance(value, str) else value
    if isinstance(value, str):
        cell.data_type = "s"
        cell.quotePrefix = needs_text_guard(value)


def make_chart(ws: Worksheet, act: Action) -> ChartBase:
    """An openpyxl chart for an ``add_chart`` action (series by column, header row)."""
    kind, data = act["kind"], act["data"]
    chart: ChartBase = PieChart() if kind == "pie" else LineChart() if kind == "line" \
        else BarChart()
    if isinstance(chart, BarChart):
        chart.type = "bar" if kind == "bar" else "col"
    top, last = data["row"], data["row"] + data["rows"] - 1
    series = data.get("series") or list(range(data["col"] + 1, data["col"] + data["cols"]))
    for col in series:
        chart.add_data(Reference(ws, min_col=col, min_row=top, max_row=last),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=data["col"], min_row=top + 1, max_row=last))
    chart.title = act["title"] or None
    anchor = act["anchor"]
    if anchor.get("width"):
        chart.width, chart.height = anchor["width"] / PT_PER_CM, anchor["height"] / PT_PER_CM
    return chart


def replay(wb: Workbook, actions: list[Action], author: str = HOST_AUTHOR) -> Replay:
    """Apply ``actions`` to ``wb`` in order (see :class:`Replay`)."""
    host = Replay(wb, author)
    host.apply(actions)
    return host
