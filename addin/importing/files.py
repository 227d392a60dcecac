"""Read a foreign file into :class:`~addin.importing.source.SourceTable`\\ s.

``read_tables(path)`` sniffs what the file really is from its bytes (a ``.xls`` or ``.csv``
renamed to ``.xlsx`` is read as what it is), runs the checks of
``addin.importing.preflight`` (encryption, zip bombs, XML entities, unsafe member names,
Strict OOXML, cells counted and how far they reach), then reads:

- spreadsheets (xlsx, xlsm, xlsb, xls, ods) with python-calamine, every visible worksheet
  that holds data; dates stay ``datetime.date``/``datetime.datetime``, integral numbers
  become ``int`` (a phone typed as a number is ``13800138000``, not ``13800138000.0``);
- text with ``addin.importing.text`` (encoding and delimiter sniffed).

Each table starts at its header row (``addin.importing.header``). Whatever a reader raises
becomes an :class:`~addin.errors.AddinError` with an ``IMPORT_*`` code naming the file.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from addin.errors import AddinError
from addin.importing.header import Header, Merge, column_names, find_header, two_row_header
from addin.importing.preflight import (
    FORMAT_NAMES,
    check_ole,
    check_package,
    refuse,
    sniff,
    unreadable,
)
from addin.importing.source import Cell, SourceTable
from addin.importing.text import read_text
from schema.errors import ErrorCode

DEFAULT_MAX_CELLS = 5_000_000  # cells holding a value, per file (200,000 rows x 25 columns)
PACKAGES = ("xlsx", "xlsm", "xlsb", "ods")
MAX_SAFE_INT = 2**53


def read_tables(path: Path, *, max_cells: int = DEFAULT_MAX_CELLS) -> list[SourceTable]:
    """Every table of ``path`` under its found header (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise AddinError(ErrorCode.WORKBOOK_NOT_FOUND, path=path.name)
    fmt = sniff(path)
    tables: list[SourceTable | AddinError]
    if fmt == "csv":
        tables = [_text_table(path, max_cells)]
    elif fmt in PACKAGES:
        strict = check_package(path, fmt, max_cells)
        tables = _spreadsheet_tables(path, fmt, max_cells, strict=strict)
    elif fmt in ("xls", "ole", "ooxml-encrypted"):
        check_ole(path, fmt, max_cells)
        tables = _spreadsheet_tables(path, fmt, max_cells)
    elif fmt == "empty":
        raise refuse(ErrorCode.IMPORT_NO_TABLE, path)
    else:
        raise unreadable(path, fmt, _WHY.get(fmt, "not a spreadsheet"))
    found = [t for t in tables if isinstance(t, SourceTable)]
    if not found:
        raise next((t for t in tables if isinstance(t, AddinError)),
                   refuse(ErrorCode.IMPORT_NO_TABLE, path))
    return found


_WHY = {
    "zip": "a zip archive without a workbook (xl/workbook.xml) or content.xml",
    "html": "a web page saved with a spreadsheet's name, not a spreadsheet",
    "xml": "an XML file (Excel 2003 XML or flat OpenDocument), not a workbook",
    "binary": "binary data that is neither a workbook nor text",
    "xls-old": "a file format older than Excel 97, which no current reader supports",
    "zip-damaged": "its zip directory is missing or broken (a download cut short?)",
    "gzip": "a compressed file (a Gnumeric workbook?), not an Excel, ODS or text file",
}


def _text_table(path: Path, max_cells: int) -> SourceTable:
    text = read_text(path, max_cells)
    rows: list[list[Cell]] = [[c if c != "" else None for c in row] for row in text.rows]
    table = _table(path, None, "csv", rows, 1)
    if table is None:
        raise refuse(ErrorCode.IMPORT_NO_TABLE, path)
    if isinstance(table, AddinError):
        raise table
    return SourceTable(table.file, None, "csv", table.header_row, table.columns, table.rows,
                       table.row_numbers, encoding=text.encoding, delimiter=text.delimiter)


def _spreadsheet_tables(path: Path, fmt: str, max_cells: int, *,
                        strict: bool = False) -> list[SourceTable | AddinError]:
    try:
        return list(_read_book(path, fmt, max_cells))
    except AddinError:
        raise
    except PasswordError as exc:
        raise refuse(ErrorCode.IMPORT_FILE_ENCRYPTED, path) from exc
    except BaseException as exc:  # CalamineError, OSError...; a Rust panic is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        if strict:
            raise refuse(ErrorCode.IMPORT_FILE_STRICT, path) from exc
        raise unreadable(path, fmt, f"{type(exc).__name__}: {exc}") from exc


def _read_book(path: Path, fmt: str, max_cells: int) -> Iterable[SourceTable | AddinError]:
    left = max_cells  # over all the sheets of the file
    with _open_book(path, fmt) as book:
        for meta in book.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            start = sheet.start
            if start is None:
                continue
            rows, used = _cells(path, meta.name, sheet.iter_rows(), left, max_cells)
            left -= used
            end = sheet.end  # calamine's rows run from row 1 to the last (padded above)
            table = _table(path, meta.name, fmt, rows,
                           end[0] + 2 - len(rows) if end else start[0] + 1,
                           _merges(sheet, len(rows), start[1]))
            if table is not None:
                yield table


def _merges(sheet: Any, height: int, col0: int) -> list[Merge]:
    """The sheet's merged ranges, in the positions of its rows as read (calamine's rows end
    at the sheet's last row; their cells start at its first column)."""
    try:
        found = sheet.merged_cell_ranges or []
    except Exception:  # a reader without merge information: no two-row headers
        return []
    end = sheet.end
    row0 = end[0] + 1 - height if end else 0
    return [(r0 - row0, c0 - col0, r1 - row0, c1 - col0) for (r0, c0), (r1, c1) in found]


def _open_book(path: Path, fmt: str) -> CalamineWorkbook:
    """calamine picks its reader by the file's extension: a file whose extension names what
    it is opens by path (calamine's own errors are the most precise then), any other (an
    .xls renamed .xlsx) from its bytes, where calamine detects the format itself."""
    if path.suffix.lower().lstrip(".") == fmt:
        return CalamineWorkbook.from_path(str(path))
    with path.open("rb") as fh:
        return CalamineWorkbook.from_filelike(io.BytesIO(fh.read()))


def _cells(path: Path, sheet: str, rows: Iterable[Sequence[Any]], left: int,
           max_cells: int) -> tuple[list[list[Cell]], int]:
    """The sheet's rows as ``Cell`` lists and how many cells hold a value; over ``left``
    (what the file's earlier sheets left of ``max_cells``) is ``IMPORT_TOO_MANY_CELLS``."""
    out: list[list[Cell]] = []
    count = 0
    big = MAX_SAFE_INT
    for raw in rows:  # cell_value, inlined: this loop sees every cell of the file
        row: list[Cell] = [
            None if v == "" else int(v) if type(v) is float and v.is_integer() and -big < v < big
            else v for v in raw]
        count += len(row) - row.count(None)
        if count > left:
            raise refuse(ErrorCode.IMPORT_TOO_MANY_CELLS, path, sheet=sheet,
                         count=f"> {max_cells}", max=max_cells)
        out.append(row)
    return out, count


def cell_value(value: object) -> Cell:
    """A calamine value as a ``Cell``: ``""`` is blank (None), an integral float an int."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_SAFE_INT:
        return int(value)
    return value  # type: ignore[return-value]  # calamine yields only Cell kinds


def _blank(row: Sequence[Cell]) -> bool:
    return all(v is None or (type(v) is str and not v.strip()) for v in row)


def _used(row: Sequence[Cell]) -> int:
    """How many cells of ``row`` come before its trailing blanks."""
    n = len(row)
    while n and row[n - 1] is None:
        n -= 1
    return n


def _table(path: Path, sheet: str | None, fmt: str, rows: Sequence[Sequence[Cell]],
           first_line: int, merges: Sequence[Merge] = ()) -> SourceTable | AddinError | None:
    """The table of one sheet below its header; None for a sheet with nothing in it, the
    ``IMPORT_NO_HEADER`` error (returned, not raised) for one without a header row."""
    filled = [(first_line + i, r if isinstance(r, list) else list(r))
              for i, r in enumerate(rows) if not _blank(r)]
    if not filled:
        return None
    header = find_header([r for _, r in filled])
    if header is not None and merges:  # a two-row header: its lower row, combined labels
        at = [i for i, r in enumerate(rows) if not _blank(r)]
        two = two_row_header(rows, at[header.index], merges)
        if two is not None and two[0] in at:
            header = Header(at.index(two[0]), two[1])
    if header is None:  # the file is refused for it only when no other sheet has a table
        return refuse(ErrorCode.IMPORT_NO_HEADER, path, sheet=sheet or path.name,
                      rows=min(len(filled), 30))
    body = filled[header.index + 1:]
    width = max([len(header.columns)] + [_used(r) for _, r in body])
    columns = header.columns
    if width > len(columns):
        columns = column_names(filled[header.index][1], width)
    return SourceTable(
        file=path.name, sheet=sheet, format=fmt, header_row=filled[header.index][0],
        columns=columns,
        rows=[r if len(r) == width else (r + [None] * width)[:width] for _, r in body],
        row_numbers=[n for n, _ in body],
    )


def describe(table: SourceTable) -> str:
    """``file › sheet`` as the user knows it (the file alone for a text file)."""
    return table.file if table.sheet is None else f"{table.file} › {table.sheet}"


__all__ = ["DEFAULT_MAX_CELLS", "FORMAT_NAMES", "cell_value", "describe", "read_tables"]
