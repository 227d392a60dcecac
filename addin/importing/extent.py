"""How many cells of a sheet hold a value and how far they reach, read from the sheet's
own bytes before any reader opens it (``addin.importing.preflight``): calamine allocates the
whole rectangle the cells span, and a sheet's declared ``<dimension>`` may lie.

- xlsx worksheet parts are streamed: cells in the common form (``<c r="B7" ...>``, as Excel,
  LibreOffice, openpyxl and XlsxWriter write them) are counted by regular expressions alone;
  a part with prefixed tags or the reference elsewhere falls back to a tag-by-tag walk, and
  one with cells placed by position only (no ``r``) to :func:`xlsx_extent_by_position`;
- ODS ``content.xml`` is walked with defusedxml, repeats multiplied;
- xlsb parts: ``addin.importing.biff12``.

A styled empty cell (``<c r="D9" s="1"/>``, an ODS cell without a value) costs nothing, as
in calamine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from defusedxml import ElementTree as SafeET


@dataclass(frozen=True, slots=True)
class SheetExtent:
    """What one sheet part holds: cells with a value, and the last row and column used."""

    cells: int = 0
    rows: int = 0
    cols: int = 0

    @property
    def area(self) -> int:
        return self.rows * self.cols


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)\b([^>]*?)(/?)>")
_REF = re.compile(rb"""\br\s*=\s*["']([A-Za-z]*)(\d*)["']""")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _whole_tags(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks re-cut so that no tag is split between two of them."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"<")
        if cut == -1 or buf.find(b">", cut) != -1:
            cut = len(buf)
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry


_P = rb"<(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_VALUED = re.compile(_P + rb"c\b[^>]*(?<!/)>")  # <c ...> holding a value (not <c .../>)
_VALUED_REF = re.compile(_P + rb"""c\b[^>]*?\br\s*=\s*["']([A-Za-z]{1,3})(\d+)["'][^>]*(?<!/)>""")


_PLAIN_VALUED = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>/]*>')  # as Excel and most writers
_PLAIN_EMPTY = re.compile(rb'<c r="[A-Z]{1,3}\d+"[^>]*/>')


def _plain_refs(part: bytes) -> list[tuple[bytes, bytes]] | None:
    """The references of the valued cells of a part written the common way (no prefix,
    ``r`` first), or None when some cell is written otherwise."""
    if b":c " in part or b":c>" in part or b":c/" in part:  # a prefixed <x:c> (or text)
        return None
    refs = _PLAIN_VALUED.findall(part)
    if len(refs) + len(_PLAIN_EMPTY.findall(part)) != \
            part.count(b"<c ") + part.count(b"<c>") + part.count(b"<c/"):
        return None
    return refs


def xlsx_extent(source: Callable[[], Iterator[bytes]]) -> SheetExtent:
    """Cells with a value and how far they reach, streamed over a worksheet part's bytes
    (``source()`` yields them; it is called again when the part must be walked twice).
    Every valued ``<c>`` carrying its ``r`` reference (as Excel and most writers do) is
    counted by regular expressions alone; a part with cells placed by position only is
    walked tag by tag (:func:`xlsx_extent_by_position`)."""
    cells = max_row = max_col = 0
    for part in _whole_tags(source()):
        refs = _plain_refs(part)
        if refs is None:
            refs = _VALUED_REF.findall(part)
            if len(refs) != len(_VALUED.findall(part)):
                return xlsx_extent_by_position(source())
        if refs:
            cells += len(refs)
            letters = {c for c, _ in refs}
            max_col = max(max_col, max(_col_number(c) for c in letters))
            max_row = max(max_row, max(int(r) for r in {r for _, r in refs}))
    return SheetExtent(cells, max_row, max_col)


def xlsx_extent_by_position(chunks: Iterator[bytes]) -> SheetExtent:
    """:func:`xlsx_extent` for parts whose ``<row>``/``<c>`` may leave out ``r``: each
    takes the next position then."""
    cells = max_row = max_col = row = col = 0
    for buf in _whole_tags(chunks):
        for m in _TAG.finditer(buf):
            ref = _REF.search(m.group(2))
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            col = _col_number(ref.group(1)) if ref and ref.group(1) else col + 1
            if ref and ref.group(2):
                row = max(row, int(ref.group(2)))
            if not m.group(3):  # <c .../> holds no value
                cells += 1
                max_row, max_col = max(max_row, row), max(max_col, col)
    return SheetExtent(cells, max_row, max_col)


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def ods_extents(fh: IO[bytes]) -> Iterator[tuple[str, SheetExtent]]:
    """Per table of an ODS ``content.xml``: cells with a value (repeats multiplied) and how
    far they reach; repeated empty rows and cells (LibreOffice's padding) cost nothing."""
    name, cells, rows, cols, row_pos, row_cells, row_cols, col = "", 0, 0, 0, 0, 0, 0, 0
    for event, el in SafeET.iterparse(fh, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == f"{_ODS_TABLE}table":
                name, cells, rows, cols, row_pos = el.get(f"{_ODS_TABLE}name", ""), 0, 0, 0, 0
            elif tag == f"{_ODS_TABLE}table-row":
                row_cells, row_cols, col = 0, 0, 0
            continue
        if tag in (f"{_ODS_TABLE}table-cell", f"{_ODS_TABLE}covered-table-cell"):
            rep = int(el.get(f"{_ODS_TABLE}number-columns-repeated", "1"))
            col += rep
            if el.get(f"{_ODS_OFFICE}value-type") or len(el):
                row_cells += rep
                row_cols = col
            el.clear()
        elif tag == f"{_ODS_TABLE}table-row":
            rep = int(el.get(f"{_ODS_TABLE}number-rows-repeated", "1"))
            row_pos += rep
            if row_cells:
                cells += row_cells * rep
                rows, cols = row_pos, max(cols, row_cols)
            el.clear()
        elif tag == f"{_ODS_TABLE}table":
            yield name, SheetExtent(cells, rows, cols)
            el.clear()
