"""A strict stand-in for the part of xlwings the add-in uses, built from xlwings' own classes.

Every public attribute of a stand-in class must exist on the xlwings class it stands for
(``@standin_for``, checked when this module is imported), every call is bound against the
real method's signature, and a property may only be set where xlwings has a setter. Nothing
else exists: ``.api`` (the Windows-only COM object), a method xlwings lacks or a keyword it
does not take is an error in a test, as it would be in Excel.

Cells behave the way Excel stores what COM writes into them: numbers come back as floats,
text that looks like a number or an ISO date is converted unless it starts with the text
prefix ``'``, a leading ``=`` makes a formula (read back as ``#NAME?``), ``""`` clears.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import xlwings as xw

T = TypeVar("T", bound=type)
Grid = dict[tuple[int, int], "Cell"]
_NUMBER = re.compile(r"^[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
RANGE_OPTIONS = {"ndim", "err_to_str", "numbers", "dates", "empty", "transpose", "expand",
                 "chunksize", "convert"}


def _checked(method: Callable[..., Any], real: Any, where: str) -> Callable[..., Any]:
    signature = inspect.signature(real.__func__ if isinstance(real, classmethod) else real)

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"xlwings {where}{signature} does not take that call: {exc}") from None
        return method(self, *args, **kwargs)

    return call


def standin_for(spec: type) -> Callable[[T], T]:
    """Check a stand-in class against the xlwings class ``spec`` (see the module doc)."""

    def check(cls: T) -> T:
        for name, member in list(vars(cls).items()):
            if name.startswith("_"):
                continue
            real = inspect.getattr_static(spec, name, None)
            where = f"{spec.__name__}.{name}"
            assert real is not None, f"xlwings {spec.__name__} has no {name!r}"
            if isinstance(member, property):
                assert isinstance(real, property), f"{where} is not a property in xlwings"
                assert member.fset is None or real.fset is not None, f"{where} is read-only"
            elif callable(member):
                assert callable(real) or isinstance(real, classmethod), f"{where} is no method"
                setattr(cls, name, _checked(member, real, where))
        return cls

    return check


class _Strict:
    """Only attributes the class declares (and private state) may be set."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and not isinstance(
                inspect.getattr_static(type(self), name, None), property):
            raise AttributeError(f"{type(self).__name__} has no settable attribute {name!r}")
        object.__setattr__(self, name, value)


@dataclass
class Cell:
    value: Any = None
    formula: str | None = None
    color: Any = None
    note: str | None = None


def excel_stores(value: Any) -> Cell:
    """What a cell holds after COM writes ``value`` into it."""
    if isinstance(value, str):
        if value.startswith("'"):
            return Cell(value[1:] or None)
        if value.startswith("="):
            return Cell("#NAME?", formula=value)
        text = value.strip()
        if not value:
            return Cell()
        if _NUMBER.match(text):
            return Cell(float(text.replace(",", "")))
        if _ISO_DATE.match(text):
            y, m, d = (int(x) for x in text.split("-"))
            return Cell(datetime(y, m, d))
        return Cell(value)
    if isinstance(value, bool) or value is None:
        return Cell(value)
    if isinstance(value, int | float):
        return Cell(float(value))
    if isinstance(value, datetime):
        return Cell(value)
    if isinstance(value, date):
        return Cell(datetime(value.year, value.month, value.day))
    if isinstance(value, time):
        return Cell(value.isoformat())
    raise TypeError(f"COM cannot write a {type(value).__name__} into a cell")


@standin_for(xw.main.Note)
class Note(_Strict):
    def __init__(self, cell: Cell, location: Range | None = None) -> None:
        self._cell, self._location = cell, location

    @property
    def location(self) -> Range | None:
        return self._location

    @property
    def author(self) -> str | None:
        return "Excel User"  # Excel signs a note with the user's name, never "CRM"

    @property
    def text(self) -> str | None:
        return self._cell.note

    @text.setter
    def text(self, value: str) -> None:
        self._cell.note = value

    def delete(self) -> None:
        self._cell.note = None


@standin_for(xw.Range)
class Range(_Strict):
    def __init__(self, sheet: Sheet, top: tuple[int, int], bottom: tuple[int, int],
                 options: dict[str, Any] | None = None) -> None:
        self._sheet, self._top, self._bottom = sheet, top, bottom
        self._options = options or {}

    def _cell(self, row: int, col: int) -> Cell:
        return self._sheet._grid.setdefault((row, col), Cell())

    def _coords(self) -> Iterator[tuple[int, int]]:
        for r in range(self._top[0], self._bottom[0] + 1):
            for c in range(self._top[1], self._bottom[1] + 1):
                yield r, c

    def options(self, convert: Any = None, **options: Any) -> Range:
        unknown = set(options) - RANGE_OPTIONS
        assert not unknown, f"xlwings Range.options has no {unknown}"
        return Range(self._sheet, self._top, self._bottom, {**self._options, **options})

    @property
    def row(self) -> int:
        return self._top[0]

    @property
    def column(self) -> int:
        return self._top[1]

    @property
    def last_cell(self) -> Range:
        return Range(self._sheet, self._bottom, self._bottom)

    @property
    def left(self) -> float:
        return float(self._top[1] * 64)

    @property
    def top(self) -> float:
        return float(self._top[0] * 20)

    @property
    def value(self) -> Any:
        grid = self._sheet._grid
        rows = [[self._read(grid.get((r, c))) for c in range(self._top[1], self._bottom[1] + 1)]
                for r in range(self._top[0], self._bottom[0] + 1)]
        if self._options.get("ndim") == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        return rows[0] if len(rows) == 1 else [r[0] for r in rows] if len(rows[0]) == 1 else rows

    def _read(self, cell: Cell | None) -> Any:
        if cell is None:
            return None
        if isinstance(cell.value, str) and cell.value.startswith("#") and not self._options.get(
                "err_to_str"):
            return None  # xlwings reads Excel errors as None unless err_to_str
        return cell.value

    @value.setter
    def value(self, data: Any) -> None:
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else (
            [data] if isinstance(data, list) else [[data]])
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = self._cell(self._top[0] + i, self._top[1] + j)
                stored = excel_stores(v)
                cell.value, cell.formula = stored.value, stored.formula

    def clear_contents(self) -> None:
        for rc in self._coords():
            if rc in self._sheet._grid:
                self._sheet._grid[rc].value = self._sheet._grid[rc].formula = None

    @property
    def color(self) -> Any:
        return self._cell(*self._top).color

    @color.setter
    def color(self, value: Any) -> None:
        assert value is None or (isinstance(value, str) and re.fullmatch(
            r"#[0-9A-Fa-f]{6}", value)) or isinstance(value, tuple), f"bad colour {value!r}"
        for rc in self._coords():
            self._cell(*rc).color = value

    @property
    def note(self) -> Note | None:
        cell = self._cell(*self._top)
        return Note(cell, self) if cell.note is not None else None

    def add_note(self, text: str) -> Note:
        cell = self._cell(*self._top)
        assert cell.note is None, "Excel refuses a second note on a cell"
        cell.note = text
        return Note(cell, self)

    @property
    def rows(self) -> RangeRows:
        return RangeRows(self._sheet, [r for r in range(self._top[0], self._bottom[0] + 1)],
                         self._sheet._hidden_rows)

    @property
    def columns(self) -> RangeColumns:
        return RangeColumns(self._sheet, [c for c in range(self._top[1], self._bottom[1] + 1)],
                            self._sheet._hidden_cols)

    @property
    def data_validation(self) -> DataValidation:
        return DataValidation(self)

    @property
    def sheet(self) -> Sheet:
        return self._sheet


@standin_for(xw.main.RangeRows)
class RangeRows(_Strict):
    def __init__(self, sheet: Sheet, numbers: list[int], hidden: set[int]) -> None:
        self._numbers, self._hidden = numbers, hidden

    @property
    def hidden(self) -> bool:
        return all(n in self._hidden for n in self._numbers)

    @hidden.setter
    def hidden(self, value: bool) -> None:
        for n in self._numbers:
            (self._hidden.add if value else self._hidden.discard)(n)


@standin_for(xw.main.RangeColumns)
class RangeColumns(RangeRows):
    pass


@standin_for(xw.main.DataValidation)
class DataValidation(_Strict):
    """A range's validation; the sheet keeps ``(first_row, last_row, col) -> source``."""

    def __init__(self, cells: Range) -> None:
        self._cells = cells

    def _columns(self) -> range:
        return range(self._cells._top[1], self._cells._bottom[1] + 1)

    def delete(self) -> None:
        rules = self._cells._sheet._validations
        for col in self._columns():
            rules.pop(col, None)

    def set_list(self, source: Any, *, in_cell_dropdown: bool = True) -> None:
        assert isinstance(source, Name | Range | list | tuple), f"no list source: {source!r}"
        for col in self._columns():
            self._cells._sheet._validations[col] = (self._cells._top[0], self._cells._bottom[0],
                                                    source)


@standin_for(xw.main.Chart)
class Chart(_Strict):
    def __init__(self) -> None:
        self._type: str | None = None
        self._source: Range | None = None

    @property
    def chart_type(self) -> str | None:
        return self._type

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        assert value in xw.main.CHART_TYPES, f"xlwings has no chart type {value!r}"
        self._type = value

    def set_source_data(self, source: Range, plot_by: Any = None) -> None:
        assert isinstance(source, Range)
        self._source = source


@standin_for(xw.main.Charts)
class Charts(_Strict):
    def __init__(self) -> None:
        self._charts: list[Chart] = []

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211,
            chart_type: str | None = None, source: Any = None, plot_by: Any = None,
            name: str | None = None, anchor: Any = None, style: int | None = 227) -> Chart:
        chart = Chart()
        self._charts.append(chart)
        return chart

    @property
    def count(self) -> int:
        return len(self._charts)


def _address(text: str) -> tuple[int, int]:
    letters = "".join(ch for ch in text if ch.isalpha()).upper()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(text[len(letters):]), col


@standin_for(xw.Sheet)
class Sheet(_Strict):
    def __init__(self, book: Book, name: str, visible: bool = True) -> None:
        self._book, self._name, self._visible = book, name, visible
        self._grid: Grid = {}
        self._charts = Charts()
        self._hidden_rows: set[int] = set()
        self._hidden_cols: set[int] = set()
        self._validations: dict[int, tuple[int, int, Any]] = {}  # col -> first, last, source
        self._frozen_at: str | None = None

    @property
    def notes(self) -> Notes:
        return Notes(self)

    @property
    def freeze_panes(self) -> FreezePanes:
        return FreezePanes(self)

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        assert value.lower() not in {s.name.lower() for s in self._book._sheets
                                     if s is not self}, value
        assert len(value) <= 31, f"Excel sheet names have at most 31 characters: {value}"
        self._name = value

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = value

    @property
    def charts(self) -> Charts:
        return self._charts

    def range(self, cell1: Any, cell2: Any = None) -> Range:
        top = _address(cell1) if isinstance(cell1, str) else tuple(cell1)
        bottom = top if cell2 is None else _address(cell2) if isinstance(cell2, str) else tuple(
            cell2)
        assert all(int(x) >= 1 for x in (*top, *bottom)), f"no cell {top}:{bottom}"
        return Range(self, (int(top[0]), int(top[1])), (int(bottom[0]), int(bottom[1])))

    @property
    def used_range(self) -> Range:
        used = [rc for rc, c in self._grid.items()
                if c.value is not None or c.formula or c.note is not None or c.color]
        last = (max(r for r, _ in used), max(c for _, c in used)) if used else (1, 1)
        return Range(self, (1, 1), last)

    def delete(self) -> None:
        self._book._sheets.remove(self)


@standin_for(xw.main.Notes)
class Notes(_Strict):
    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet

    def __iter__(self) -> Iterator[Note]:
        for (r, c), cell in sorted(self._sheet._grid.items()):
            if cell.note is not None:
                yield Note(cell, self._sheet.range((r, c)))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    @property
    def count(self) -> int:
        return len(self)


@standin_for(xw.main.FreezePanes)
class FreezePanes(_Strict):
    def __init__(self, sheet: Sheet) -> None:
        self._sheet = sheet

    def freeze_at(self, frozen_range: str | Range) -> None:
        if isinstance(frozen_range, Range):
            assert frozen_range._sheet is self._sheet, "Range object is on a different sheet."
            frozen_range = f"R{frozen_range.row}C{frozen_range.column}"
        self._sheet._frozen_at = frozen_range

    def unfreeze(self) -> None:
        self._sheet._frozen_at = None


@standin_for(xw.main.Sheets)
class Sheets(_Strict):
    def __init__(self, book: Book) -> None:
        self._book = book

    def __getitem__(self, key: int | str) -> Sheet:
        if isinstance(key, int):
            return self._book._sheets[key]
        for s in self._book._sheets:
            if s.name.lower() == key.lower():
                return s
        raise KeyError(key)

    def __iter__(self) -> Iterator[Sheet]:
        return iter(list(self._book._sheets))

    def __len__(self) -> int:
        return len(self._book._sheets)

    def add(self, name: str | None = None, before: Sheet | None = None,
            after: Sheet | None = None) -> Sheet:
        name = name or f"Sheet{len(self) + 1}"
        assert name.lower() not in {s.name.lower() for s in self._book._sheets}, name
        assert len(name) <= 31, f"Excel sheet names have at most 31 characters: {name}"
        sheet = Sheet(self._book, name)
        at = self._book._sheets.index(after) + 1 if after is not None else (
            self._book._sheets.index(before) if before is not None else 0)
        self._book._sheets.insert(at, sheet)
        return sheet

    @property
    def count(self) -> int:
        return len(self)


@standin_for(xw.main.Name)
class Name(_Strict):
    def __init__(self, names: Names, name: str) -> None:
        self._names, self._name = names, name

    @property
    def name(self) -> str:
        return self._name

    @property
    def refers_to(self) -> str:
        return self._names._refs[self._name]


@standin_for(xw.main.Names)
class Names(_Strict):
    def __init__(self) -> None:
        self._refs: dict[str, str] = {}

    def __getitem__(self, name: str) -> Name:
        if name not in self._refs:
            raise KeyError(name)
        return Name(self, name)

    def add(self, name: str, refers_to: str) -> Any:
        assert refers_to.startswith("="), f"a name refers to a formula: {refers_to}"
        self._refs[name] = refers_to  # Excel's Names.Add replaces a name of the same text
        return name

    @property
    def count(self) -> int:
        return len(self._refs)


@standin_for(xw.main.Books)
class Books(_Strict):
    def __init__(self, app: App) -> None:
        self._app = app

    @property
    def active(self) -> Book | None:
        return self._app._active

    def open(self, fullname: Any = None, update_links: Any = None, read_only: Any = None,
             format: Any = None, password: Any = None, write_res_password: Any = None,
             ignore_read_only_recommended: Any = None, origin: Any = None,
             delimiter: Any = None, editable: Any = None, notify: Any = None,
             converter: Any = None, add_to_mru: Any = None, local: Any = None,
             corrupt_load: Any = None, json: Any = None) -> Book:
        book = open_book(Path(str(fullname)), self._app)
        self._app._active = book
        return book


@standin_for(xw.App)
class App(_Strict):
    def __init__(self) -> None:
        self._status: Any = False
        self._alerts: list[tuple[str, str | None]] = []
        self._active: Book | None = None

    @property
    def books(self) -> Books:
        return Books(self)

    @property
    def status_bar(self) -> Any:
        return self._status

    @status_bar.setter
    def status_bar(self, value: Any) -> None:
        assert value is False or isinstance(value, str)
        self._status = value

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok",
              mode: str | None = None, callback: str | None = None) -> str | None:
        self._alerts.append((prompt, mode))
        return None


@standin_for(xw.Book)
class Book(_Strict):
    def __init__(self, app: App | None = None, fullname: str = "book.xlsm") -> None:
        self._app = app or App()
        self._fullname = fullname
        self._sheets: list[Sheet] = []
        self._names = Names()
        self._saves = 0

    @property
    def app(self) -> App:
        return self._app

    @property
    def name(self) -> str:
        return Path(self._fullname).name

    @property
    def fullname(self) -> str:
        return self._fullname

    @property
    def sheets(self) -> Sheets:
        return Sheets(self)

    @property
    def names(self) -> Names:
        return self._names

    def save(self, path: Any = None, password: str | None = None) -> None:
        self._saves += 1

    def activate(self, steal_focus: bool = False) -> None:
        self._app._active = self


def open_book(path: Path, app: App | None = None) -> Book:
    """The workbook as Excel would open it: every sheet's values, notes, hidden state, names."""
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() != ".xlsx")
    book = Book(app, str(path))
    for ws in wb.worksheets:
        sheet = Sheet(book, ws.title, ws.sheet_state == "visible")
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    sheet._grid[(c.row, c.column)] = excel_stores(
                        "'" + c.value if isinstance(c.value, str) else c.value)
                if c.comment is not None:
                    sheet._grid.setdefault((c.row, c.column), Cell()).note = c.comment.text
        book._sheets.append(sheet)
    for name, dn in wb.defined_names.items():
        book._names._refs[name] = "=" + str(dn.attr_text)
    return book


def values(book: Book, sheet: str) -> dict[tuple[int, int], Any]:
    """The non-empty values of a sheet, by (row, column)."""
    return {rc: c.value for rc, c in book.sheets[sheet]._grid.items() if c.value is not None}


def notes(book: Book, sheet: str) -> dict[tuple[int, int], str]:
    return {rc: c.note for rc, c in book.sheets[sheet]._grid.items() if c.note is not None}


def layout(book: Book, sheet: str) -> tuple[set[int], set[int], dict[int, Any], str | None]:
    """Hidden rows, hidden columns, validations by column and the frozen cell of a sheet."""
    s = book.sheets[sheet]
    return s._hidden_rows, s._hidden_cols, s._validations, s._frozen_at


def colours(book: Book, sheet: str) -> dict[tuple[int, int], Any]:
    return {rc: c.color for rc, c in book.sheets[sheet]._grid.items() if c.color}
