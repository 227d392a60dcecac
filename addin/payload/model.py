"""The workbook a host sent, in memory: what :class:`~addin.port_payload.PayloadPort` reads
and keeps up to date as it records actions, so reads after writes in one command see them.

Cells are kept as the host sent them (``None`` for empty, dates as serial numbers); number
formats as runs of rows per column (a 100k-row date column is one run, not 100k entries);
notes with their author and the cell's fill; hidden rows and columns the port set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from addin.payload.snapshot import CellBlock, SheetNotes, Visibility, WorkbookInfo


@dataclass
class Runs:
    """Number formats of one column: sorted, disjoint ``[start, stop)`` row runs."""

    runs: list[tuple[int, int, str]] = field(default_factory=list)

    def set(self, start: int, stop: int, fmt: str) -> None:
        """Give rows ``start..stop-1`` format ``fmt`` ("General" removes the format)."""
        kept: list[tuple[int, int, str]] = []
        for a, b, f in self.runs:
            if b <= start or a >= stop:
                kept.append((a, b, f))
                continue
            if a < start:
                kept.append((a, start, f))
            if b > stop:
                kept.append((stop, b, f))
        if fmt and fmt != "General":
            kept.append((start, stop, fmt))
        self.runs = sorted(kept)

    def get(self, row: int) -> str:
        for a, b, f in self.runs:
            if a <= row < b:
                return f
        return "General"


@dataclass
class Note:
    text: str
    author: str = ""


@dataclass
class SheetModel:
    """One sheet: its cells (``grid[row-1][col-1]``), formats, notes and fills."""

    name: str
    visibility: Visibility = "visible"
    freeze: tuple[int, int] | None = None
    sent: bool = True  # the host sent its cells (or it is empty / new)
    grid: list[list[Any]] = field(default_factory=list)
    formats: dict[int, Runs] = field(default_factory=dict)  # col -> runs of rows
    notes: dict[tuple[int, int], Note] = field(default_factory=dict)
    fills: dict[tuple[int, int], str | None] = field(default_factory=dict)  # known fills
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)

    def get(self, row: int, col: int) -> Any:
        if row > len(self.grid):
            return None
        line = self.grid[row - 1]
        return line[col - 1] if col <= len(line) else None

    def row(self, row: int, width: int) -> list[Any]:
        """Values of ``row``, columns 1..``width``."""
        line = self.grid[row - 1][:width] if row <= len(self.grid) else []
        return line + [None] * (width - len(line))

    def put_block(self, row: int, col: int, values: list[list[Any]]) -> None:
        """Store a rectangle of values from (``row``, ``col``)."""
        need = row - 1 + len(values)
        if need > len(self.grid):
            self.grid.extend([] for _ in range(need - len(self.grid)))
        for i, vals in enumerate(values):
            line = self.grid[row - 1 + i]
            end = col - 1 + len(vals)
            if end > len(line):
                line.extend([None] * (end - len(line)))
            line[col - 1:end] = vals

    def clear(self, row: int, col: int, rows: int, cols: int) -> None:
        for r in range(row, min(row + rows, len(self.grid) + 1)):
            line = self.grid[r - 1]
            for c in range(col, min(col + cols, len(line) + 1)):
                line[c - 1] = None

    def last_row(self) -> int:
        """The last row holding a value (0: none)."""
        for r in range(len(self.grid), 0, -1):
            if any(v is not None for v in self.grid[r - 1]):
                return r
        return 0

    def last_col(self) -> int:
        return max((max((c for c, v in enumerate(line, 1) if v is not None), default=0)
                    for line in self.grid), default=0)

    def format_of(self, row: int, col: int) -> str:
        runs = self.formats.get(col)
        return "General" if runs is None else runs.get(row)

    def set_format(self, row: int, col: int, rows: int, cols: int, fmt: str) -> None:
        for c in range(col, col + cols):
            self.formats.setdefault(c, Runs()).set(row, row + rows, fmt)


@dataclass
class WorkbookModel:
    """Every sheet in workbook order, the active sheet and the defined names."""

    sheets: list[SheetModel]
    active: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # name -> "=ref"
    title: str = ""

    def sheet(self, name: str) -> SheetModel | None:
        return next((s for s in self.sheets if s.name == name), None)

    def names_in_order(self) -> list[str]:
        return [s.name for s in self.sheets]

    def add(self, sheet: SheetModel, index: int | None = None) -> None:
        self.sheets.insert(len(self.sheets) if index is None else index, sheet)

    def remove(self, name: str) -> None:
        self.sheets = [s for s in self.sheets if s.name != name]


def _cell(value: Any) -> Any:
    return None if value == "" and isinstance(value, str) else value


def model_of(info: WorkbookInfo, blocks: list[CellBlock],
             notes: list[SheetNotes]) -> WorkbookModel:
    """The model of what a host sent: sheets from ``info``, cells from ``blocks`` (a sheet
    with used rows but no block is marked as not sent), notes and their cells' fills."""
    sheets = [SheetModel(s.name, s.visibility, s.freeze, sent=s.rows == 0)
              for s in info.sheets]
    model = WorkbookModel(sheets, info.active, {n.name: n.ref for n in info.names},
                          info.name)
    for block in blocks:
        sheet = model.sheet(block.sheet)
        if sheet is None:
            continue
        sheet.sent = True
        sheet.put_block(block.row, block.col, [[_cell(v) for v in row] for row in block.values])
        for offset, runs in block.formats.items():
            for run in runs:
                sheet.set_format(block.row + run.start, block.col + offset, run.count, 1,
                                 run.format)
    for group in notes:
        sheet = model.sheet(group.sheet)
        if sheet is None:
            continue
        for n in group.notes:
            sheet.notes[(n.row, n.col)] = Note(n.text, n.author)
            sheet.fills[(n.row, n.col)] = n.fill.upper() if n.fill else None
    return model
