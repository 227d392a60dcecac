"""Page set-up, declared once for every sheet a manager prints: A4 landscape, one page
wide, header rows repeated, the sheet name and page number in the footer; columns sized to
their content within limits; frozen panes. The template builder uses the same declaration
for the data sheets (XlsxWriter), report sheets get it here (openpyxl)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet


@dataclass(frozen=True)
class PageSetup:
    paper: int = 9  # A4 (the OOXML paperSize code, also XlsxWriter's)
    landscape: bool = True
    fit_wide: int = 1
    fit_tall: int = 0  # as many pages down as it takes
    footer_left: str = "&A"  # the sheet name
    footer_right: str = "&P / &N"  # page / pages
    margin_in: float = 0.4


PAGE = PageSetup()
MIN_WIDTH, MAX_WIDTH = 8.0, 46.0  # column widths (characters) a sheet's content may take


def xlsxwriter_footer() -> str:
    """The footer as one XlsxWriter/OOXML header-footer string."""
    return f"&L{PAGE.footer_left}&R{PAGE.footer_right}"


def text_width(value: Any, number_format: str | None = None) -> float:
    """Characters a value takes in a cell (CJK counts double)."""
    if value is None:
        return 0.0
    if isinstance(value, float):
        text = f"{value:.1%}" if number_format and "%" in number_format else f"{value:,.2f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, datetime | date):
        text = value.isoformat()[:16]
    else:
        text = str(value)
    return float(sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text))


CJK = r"[\u2e80-\uffff]"  # characters that take two columns' width


def frame_text_widths(frame: pd.DataFrame) -> dict[int, float]:
    """Positional column (0-based) -> the widest text in it, in characters (CJK double),
    vectorised: a 10,000-row table costs milliseconds."""
    out: dict[int, float] = {}
    for j, col in enumerate(frame.columns):
        values = frame[col]
        texts = values[values.map(lambda v: isinstance(v, str))].astype(str)
        if not texts.empty:
            out[j] = float((texts.str.len() + texts.str.count(CJK)).max())
    return out


def widen_to_content(ws: Worksheet, frame: pd.DataFrame, first_col: int = 1) -> None:
    """Widen (never narrow) the visible columns of a data sheet to their widest text, up to
    ``MAX_WIDTH``: company names are not cut."""
    for j, chars in frame_text_widths(frame).items():
        dim = ws.column_dimensions[get_column_letter(first_col + j)]
        want = min(chars + 2, MAX_WIDTH)
        if not dim.hidden and want > (dim.width or 8.43):
            dim.width = want


def fit_columns(ws: Worksheet, first_row: int, last_row: int,
                least: dict[int, float] | None = None) -> float:
    """Size each column to its widest cell in rows ``first_row..last_row`` (merged cells
    left out), within ``MIN_WIDTH..MAX_WIDTH``; returns the sum of widths."""
    merged = {(r, c) for rng in ws.merged_cells.ranges
              for r in range(rng.min_row, rng.max_row + 1)
              for c in range(rng.min_col, rng.max_col + 1)}
    widths: dict[int, float] = dict(least or {})
    for row in ws.iter_rows(min_row=first_row, max_row=max(first_row, last_row)):
        for cell in row:
            if cell.value is None or (cell.row, cell.column) in merged:
                continue
            w = text_width(cell.value, cell.number_format) + 2
            if cell.font is not None and cell.font.b and cell.fill.fill_type is None:
                continue  # a table's title spills over empty cells
            widths[cell.column] = max(widths.get(cell.column, 0.0), w)
    total = 0.0
    for col, w in widths.items():
        width = min(max(w, MIN_WIDTH), MAX_WIDTH)
        ws.column_dimensions[get_column_letter(col)].width = width
        total += width
    return total


def apply_page_setup(ws: Worksheet, title_rows: str, freeze: str) -> None:
    """A4 landscape, one page wide, ``title_rows`` (``"1:2"``) repeated, footer, frozen."""
    ws.page_setup.paperSize = PAGE.paper
    ws.page_setup.orientation = "landscape" if PAGE.landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = PAGE.fit_wide, PAGE.fit_tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.oddFooter.left.text = PAGE.footer_left
    ws.oddFooter.right.text = PAGE.footer_right
    for side in ("left", "right", "top", "bottom"):
        setattr(ws.page_margins, side, PAGE.margin_in)
    ws.print_options.horizontalCentered = True
    ws.freeze_panes = freeze
