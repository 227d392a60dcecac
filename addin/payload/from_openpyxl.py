"""openpyxl workbooks in payload terms: (a) :func:`snapshot_of`, what a host would send for
a workbook (values exactly as Office.js gives them), and (b) :func:`sheet_actions`, the
actions that rebuild a worksheet in any host (the report sheets are built with openpyxl
once and sent this way, so they look the same everywhere)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, LineChart, PieChart
from openpyxl.chart._chart import ChartBase
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from addin.payload.actions import Action, action
from addin.payload.snapshot import (
    CellBlock,
    CellIn,
    DefinedName,
    FormatRun,
    NoteIn,
    SheetInfo,
    SheetNotes,
    WorkbookInfo,
)
from addin.port_openpyxl import ooxml_unescape

_STATES = {"visible": "visible", "hidden": "hidden", "veryHidden": "very_hidden"}
PT_PER_CM = 72 / 2.54
Rect = tuple[int, int, int, int, Any]  # row, col, rows, cols, key


def host_value(value: Any) -> CellIn:
    """A stored cell value as Office.js ``Range.values`` shows it."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date | time | timedelta):
        return float(to_excel(value))
    if isinstance(value, str):
        return ooxml_unescape(value)
    return ""  # an array or data-table formula without a cached value


def _extent(ws: Worksheet) -> tuple[int, int]:
    cells = [rc for rc, cell in ws._cells.items() if cell.value is not None]
    return max((r for r, _c in cells), default=0), max((c for _r, c in cells), default=0)


def column_formats(ws: Worksheet) -> dict[int, str]:
    """Sheet column -> the number format its column style gives empty cells."""
    out: dict[int, str] = {}
    for dim in ws.column_dimensions.values():
        if dim.min and dim.max and dim.number_format not in (None, "General"):
            out.update(dict.fromkeys(range(dim.min, dim.max + 1), dim.number_format))
    return out


def _runs(formats: list[str]) -> list[FormatRun]:
    out: list[FormatRun] = []
    for i, fmt in enumerate(formats):
        if fmt == "General":
            continue
        if out and out[-1].format == fmt and out[-1].start + out[-1].count == i:
            out[-1].count += 1
        else:
            out.append(FormatRun(format=fmt, start=i, count=1))
    return out


def sheet_blocks(ws: Worksheet, cached: Worksheet | None = None,
                 rows_per_block: int | None = None) -> list[CellBlock]:
    """The used rectangle of ``ws`` as blocks of rows (formula cells show ``cached``'s
    value, as Excel shows the last calculated one; ``""`` without it)."""
    last, width = _extent(ws)
    if not last:
        return []
    grid: list[list[CellIn]] = [[""] * width for _ in range(last)]
    for (r, c), cell in ws._cells.items():
        if cell.value is None:
            continue
        value = cell.value
        if cell.data_type == "f":
            value = None if cached is None else cached.cell(row=r, column=c).value
        grid[r - 1][c - 1] = host_value(value)
    col_fmt = column_formats(ws)
    step = rows_per_block or last
    out = []
    for top in range(1, last + 1, step):
        rows = range(top, min(top + step, last + 1))
        formats = {}
        for c in range(1, width + 1):
            fmts = [_format(ws._cells.get((r, c)), col_fmt.get(c, "General")) for r in rows]
            if runs := _runs(fmts):
                formats[c - 1] = runs
        out.append(CellBlock(sheet=ws.title, row=top, col=1, formats=formats,
                             values=grid[top - 1:rows.stop - 1]))
    return out


def _format(cell: Cell | None, column: str) -> str:
    return column if cell is None else str(cell.number_format or "General")


def fill_of(cell: Cell) -> str | None:
    """A cell's solid fill colour as six hex digits (None: no fill, or a theme colour)."""
    if cell.fill is None or cell.fill.fill_type != "solid":
        return None
    rgb = cell.fill.fgColor.rgb
    return rgb[-6:].upper() if isinstance(rgb, str) and len(rgb) >= 6 else None


def sheet_notes(ws: Worksheet) -> SheetNotes:
    notes = [NoteIn(row=r, col=c, text=cell.comment.text or "",
                    author=cell.comment.author or "", fill=fill_of(cell))
             for (r, c), cell in sorted(ws._cells.items()) if cell.comment is not None]
    return SheetNotes(sheet=ws.title, notes=notes)


def freeze_of(ws: Worksheet) -> tuple[int, int] | None:
    return coordinate_to_tuple(ws.freeze_panes) if ws.freeze_panes else None


def snapshot_of(wb: Workbook, cached: Workbook | None = None,
                rows_per_block: int | None = None
                ) -> tuple[WorkbookInfo, list[CellBlock], list[SheetNotes]]:
    """What a host sends for ``wb``: the sheet list, every sheet's cells, the notes
    (``cached``: the same file loaded with ``data_only``, for formula results)."""
    sheets, blocks, notes = [], [], []
    for ws in wb.worksheets:
        last, width = _extent(ws)
        sheets.append(SheetInfo(name=ws.title, visibility=_STATES[ws.sheet_state],  # type: ignore[arg-type]
                                rows=last, cols=width, freeze=freeze_of(ws)))
        other = cached[ws.title] if cached is not None and ws.title in cached else None
        blocks += sheet_blocks(ws, other, rows_per_block)
        notes.append(sheet_notes(ws))
    names = [DefinedName(name=n, ref="=" + str(d.attr_text))
             for n, d in wb.defined_names.items() if d.attr_text]
    info = WorkbookInfo(name="", active=wb.active.title if wb.active else None,
                        sheets=sheets, names=names)
    return info, blocks, notes


# (b) rebuilding a worksheet -------------------------------------------------------------------
def rectangles(keys: dict[tuple[int, int], Hashable]) -> list[Rect]:
    """Cells sharing a key as few rectangles: runs of rows per column, then equal runs of
    neighbouring columns joined."""
    runs: list[tuple[int, int, int, Hashable]] = []  # col, start, stop, key
    for (r, c) in sorted(keys, key=lambda rc: (rc[1], rc[0])):
        k = keys[(r, c)]
        if runs and runs[-1][0] == c and runs[-1][2] == r and runs[-1][3] == k:
            runs[-1] = (c, runs[-1][1], r + 1, k)
        else:
            runs.append((c, r, r + 1, k))
    out: list[Rect] = []
    for c, start, stop, k in sorted(runs, key=lambda x: (x[1], x[2], str(x[3]), x[0])):
        prev = out[-1] if out else None
        if prev and (prev[0], prev[2], prev[4]) == (start, stop - start, k) \
                and prev[1] + prev[3] == c:
            out[-1] = (prev[0], prev[1], prev[2], prev[3] + 1, k)
        else:
            out.append((start, c, stop - start, 1, k))
    return out


def _styled(ws: Worksheet, key: Callable[[Cell], Hashable]) -> list[Rect]:
    keys = {rc: k for rc, cell in ws._cells.items() if (k := key(cell)) is not None}
    return rectangles(keys)


def _font_key(cell: Cell) -> Hashable:
    f = cell.font
    color = f.color.rgb[-6:].upper() if f.color is not None and isinstance(
        f.color.rgb, str) else None
    size = float(f.sz) if f.sz is not None and float(f.sz) != 11 else None
    key = (bool(f.b), bool(f.i), size, color)
    return None if key == (False, False, None, None) else key


def _align_key(cell: Cell) -> Hashable:
    a = cell.alignment
    horizontal = a.horizontal if a.horizontal not in (None, "general") else None
    return None if horizontal is None and not a.wrap_text else (horizontal, bool(a.wrap_text))


def _format_key(cell: Cell) -> Hashable:
    fmt = cell.number_format
    return None if fmt in (None, "General") else fmt


def _cell_out(cell: Cell) -> Any:
    if cell.data_type == "f" and isinstance(cell.value, str):
        return {"f": cell.value}
    value = host_value(cell.value)
    return None if value == "" else value


def _values(ws: Worksheet) -> list[Action]:
    last, width = _extent(ws)
    if not last:
        return []
    grid: list[list[Any]] = [[None] * width for _ in range(last)]
    for (r, c), cell in ws._cells.items():
        if cell.value is not None:
            grid[r - 1][c - 1] = _cell_out(cell)
    return [action("set_values", sheet=ws.title, row=1, col=1, values=grid)]


def _styles(ws: Worksheet) -> list[Action]:
    name = ws.title
    out = [action("set_number_format", sheet=name, row=r, col=c, rows=n, cols=m, format=k)
           for r, c, n, m, k in _styled(ws, _format_key)]
    out += [action("set_font", sheet=name, row=r, col=c, rows=n, cols=m, bold=k[0],
                   italic=k[1], size=k[2], color=k[3])
            for r, c, n, m, k in _styled(ws, _font_key)]
    out += [action("set_alignment", sheet=name, row=r, col=c, rows=n, cols=m,
                   horizontal=k[0], wrap=k[1]) for r, c, n, m, k in _styled(ws, _align_key)]
    fills: dict[str, list[list[int]]] = {}
    for (r, c), cell in sorted(ws._cells.items()):
        if (color := fill_of(cell)) is not None:
            fills.setdefault(color, []).append([r, c])
    out += [action("set_fill", sheet=name, cells=cells, color=color)
            for color, cells in fills.items()]
    out += [action("merge", sheet=name, row=m.min_row, col=m.min_col,
                   rows=m.max_row - m.min_row + 1, cols=m.max_col - m.min_col + 1)
            for m in ws.merged_cells.ranges]
    return out


def _dimensions(ws: Worksheet) -> list[Action]:
    """Column widths, hidden rows and columns."""
    name, out = ws.title, []
    widths = {str(c): float(d.width) for d in ws.column_dimensions.values()
              if d.width and d.customWidth and d.min and d.max
              for c in range(d.min, d.max + 1)}
    if widths:
        out.append(action("set_column_widths", sheet=name, widths=widths))
    rows = sorted(r for r, d in ws.row_dimensions.items() if d.hidden)
    cols = sorted(c for d in ws.column_dimensions.values() if d.hidden and d.min and d.max
                  for c in range(d.min, d.max + 1))
    if rows:
        out.append(action("hide_rows", sheet=name, rows=rows))
    if cols:
        out.append(action("hide_cols", sheet=name, cols=cols))
    return out


def _layout(ws: Worksheet) -> list[Action]:
    out = _dimensions(ws)
    if (frozen := freeze_of(ws)) is not None:
        out.append(action("freeze", sheet=ws.title, row=frozen[0], col=frozen[1]))
    out += _validations(ws)
    props = ws.sheet_properties.pageSetUpPr
    fit = ws.page_setup.fitToWidth if props is not None and props.fitToPage else None
    titles = (ws.print_title_rows or "").replace("$", "") or None
    out.append(action("page_setup", sheet=ws.title, landscape=ws.page_setup.orientation ==
                      "landscape", fit_width=int(fit) if fit else None, title_rows=titles))
    return out


def _validations(ws: Worksheet) -> list[Action]:
    out = []
    for dv in ws.data_validations.dataValidation:
        if dv.type not in ("list", None):
            continue  # only lists and input messages are in the vocabulary
        source = None if dv.type is None or not dv.formula1 else "=" + str(
            dv.formula1).lstrip("=")
        for rng in dv.sqref.ranges:
            out.append(action(
                "set_validation", sheet=ws.title, row=rng.min_row, col=rng.min_col,
                rows=rng.max_row - rng.min_row + 1, cols=rng.max_col - rng.min_col + 1,
                list=source, stop=dv.errorStyle in (None, "stop"),
                error_title=dv.errorTitle or "", error=dv.error or "",
                prompt_title=dv.promptTitle or "", prompt=dv.prompt or ""))
    return out


def _title(chart: ChartBase) -> str:
    title = chart.title
    rich = getattr(getattr(title, "tx", None), "rich", None)
    if rich is None:
        return "" if title is None else str(title)
    return "".join(run.t or "" for p in rich.p for run in (p.r or []))


def _kind(chart: ChartBase) -> str:
    if isinstance(chart, PieChart):
        return "pie"
    if isinstance(chart, LineChart):
        return "line"
    return "bar" if isinstance(chart, BarChart) and chart.type == "bar" else "column"


def _ref_box(ref: str) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of ``'Sheet'!$B$5:$B$9``."""
    box = range_boundaries(ref.rsplit("!", 1)[-1].replace("$", ""))
    return int(box[0] or 1), int(box[1] or 1), int(box[2] or 1), int(box[3] or 1)


def chart_action(ws: Worksheet, chart: ChartBase) -> Action:
    """An ``add_chart`` for one openpyxl chart whose series share one category column."""
    cols, first, last, cat = [], 0, 0, None
    for s in chart.series:
        c, first, _c2, last = _ref_box(s.val.numRef.f)
        cols.append(c)
        ref = s.cat.strRef or s.cat.numRef if s.cat is not None else None
        cat = _ref_box(ref.f)[0] if ref is not None else cat
    header = first - 1  # the series' names are the cells above their values
    left = cat if cat is not None else min(cols)
    anchor = chart.anchor
    row, col = (coordinate_to_tuple(anchor) if isinstance(anchor, str)
                else (anchor._from.row + 1, anchor._from.col + 1))
    data = {"row": header, "col": left, "rows": last - header + 1,
            "cols": max(cols) - left + 1, "series": cols}
    return action("add_chart", sheet=ws.title, kind=_kind(chart), data=data,
                  anchor={"row": row, "col": col, "width": round(chart.width * PT_PER_CM, 1),
                          "height": round(chart.height * PT_PER_CM, 1)},
                  title=_title(chart))


def sheet_actions(ws: Worksheet) -> list[Action]:
    """The actions that rebuild ``ws`` on a fresh, empty sheet of its name: values and
    formulas, number formats, fonts, alignment, fills, merges, column widths, hidden rows
    and columns, frozen panes, validations, page set-up, charts, visibility."""
    out = _values(ws) + _styles(ws) + _layout(ws)
    out += [chart_action(ws, ch) for ch in ws._charts]
    if ws.sheet_state != "visible":
        out.append(action("set_visibility", sheet=ws.title, state=_STATES[ws.sheet_state]))
    return out
