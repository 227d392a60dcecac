"""How far the cells of each sheet of an ``.xls`` reach, read from its BIFF5/BIFF8 records.

calamine allocates the rectangle a sheet's cells span: one value at IV65536 of an .xls is
16.7 million cells, over half a gigabyte before Python sees a row, and the process aborts
when memory is capped. This scan runs first, over the ``Workbook`` (BIFF8) or ``Book``
(BIFF5) stream: a record is a type and a length (uint16 each, little-endian) then its data;
a sheet's records lie between its ``BOF`` and ``EOF``; every cell record starts with its
row and column (uint16). ``MULRK`` holds several values (first and last column);
``BLANK``/``MULBLANK`` hold none and are not counted.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from addin.importing.extent import SheetExtent

BOF, EOF, BOUNDSHEET = 0x0809, 0x000A, 0x0085
MULRK = 0x00BD
CELLS = frozenset({0x0203, 0x00FD, 0x0204, 0x027E, 0x0205, 0x0006, 0x00D6,  # BIFF8
                   0x0003, 0x0004, 0x0005, 0x0206, 0x0406})  # BIFF2-5 forms
_HEAD = struct.Struct("<HH")
_CELL = struct.Struct("<HH")


def _sheet_name(data: bytes, biff8: bool) -> str:
    """The name in a BOUNDSHEET record: BIFF8 ShortXLUnicodeString, BIFF5 8-bit text."""
    if len(data) < 7:
        return ""
    count = data[6]
    if not biff8:
        return data[7:7 + count].decode("cp1252", errors="replace")
    flags, raw = (data[7] if len(data) > 7 else 0), data[8:]
    if flags & 1:
        return raw[: 2 * count].decode("utf-16-le", errors="replace")
    return raw[:count].decode("latin-1")


def xls_extents(stream: bytes) -> Iterator[tuple[str, SheetExtent]]:
    """Per worksheet substream: its name (from BOUNDSHEET, in order), the cells holding a
    value, and the last row and column they reach."""
    names: list[str] = []
    biff8 = True
    sheet, depth = -1, 0  # sheet -1: before the workbook globals (0); depth: nested BOFs
    cells = max_row = max_col = 0
    at, end = 0, len(stream)
    while at + 4 <= end:
        kind, length = _HEAD.unpack_from(stream, at)
        data_at = at + 4
        at = data_at + length
        if kind == BOF:
            if sheet == -1 and length >= 2:
                biff8 = _CELL.unpack_from(stream, data_at)[0] == 0x0600
            depth += 1
            if depth == 1:  # a top-level substream (a chart inside a sheet is nested)
                sheet += 1
                cells = max_row = max_col = 0
        elif kind == EOF:
            depth = max(depth - 1, 0)
            if depth == 0 and sheet >= 1:
                yield (names[sheet - 1] if sheet - 1 < len(names) else f"#{sheet}",
                       SheetExtent(cells, max_row, max_col))
        elif kind == BOUNDSHEET and sheet == 0:
            names.append(_sheet_name(stream[data_at:at], biff8))
        elif (kind in CELLS or kind == MULRK) and length >= 4 and at <= end:
            row, col = _CELL.unpack_from(stream, data_at)
            last = col
            if kind == MULRK and length >= 6:
                last = _CELL.unpack_from(stream, at - 4)[1]  # colLast: the record's last uint16
                cells += max(last - col + 1, 1)
            else:
                cells += 1
            max_row, max_col = max(max_row, row + 1), max(max_col, last + 1, col + 1)
