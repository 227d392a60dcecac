"""How far the cells of an xlsb worksheet part reach, streamed over its BIFF12 records.

calamine allocates the rectangle a sheet's cells span, so a lone value at XFD1048576 of an
xlsb takes gigabytes (the process aborts); this scan counts before calamine opens the file.
A record is a type (1-2 bytes) and a size (1-4 bytes), both 7-bit varints, then its data:
``BrtRowHdr`` (type 0) starts with the row index, every cell record with its column (both
uint32, little-endian). ``BrtCellBlank`` (1) holds no value and is not counted.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from addin.importing.extent import SheetExtent

ROW_HEADER = 0
VALUED_CELLS = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 62})  # Rk..FmlaError, RString
_U32 = struct.Struct("<I")


def _varint(buf: bytes, at: int, most: int) -> tuple[int, int] | None:
    """The varint at ``at`` and the position after it; None when ``buf`` ends first."""
    value = 0
    for k in range(most):
        if at + k >= len(buf):
            return None
        byte = buf[at + k]
        value |= (byte & 0x7F) << (7 * k)
        if not byte & 0x80:
            return value, at + k + 1
    return value, at + most


def xlsb_extent(chunks: Iterable[bytes]) -> SheetExtent:
    """Cells with a value in a worksheet part, and the last row and column they reach."""
    buf, skip, row = b"", 0, 0
    cells = max_row = max_col = 0
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        buf, skip = buf + chunk[skip:], 0
        at = 0
        while True:
            head = _varint(buf, at, 2)
            size = _varint(buf, head[1], 4) if head else None
            if head is None or size is None:
                break
            kind, (length, start) = head[0], size
            need = min(4, length) if kind == ROW_HEADER or kind in VALUED_CELLS else 0
            if start + need > len(buf):
                break
            if need == 4 and kind == ROW_HEADER:
                row = _U32.unpack_from(buf, start)[0]
            elif need == 4:
                cells += 1
                max_row = max(max_row, row + 1)
                max_col = max(max_col, _U32.unpack_from(buf, start)[0] + 1)
            at = start + length
            if at > len(buf):
                skip, at = at - len(buf), len(buf)
                break
        buf = buf[at:]
    return SheetExtent(cells, max_row, max_col)
