"""Snapshots: before a refresh, the report sheets shown so far become dated copies
("销售漏斗 2026-12-01" / "Funnel 2026-12-01"), charts included, so a manager can compare
this week with last week. A copy of the same name (a second snapshot that day) is replaced.
"""

from __future__ import annotations

import re

from openpyxl.chart._chart import ChartBase
from openpyxl.utils import quote_sheetname
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

COPY_TAB_COLOR = "A6A6A6"
MAX_TITLE = 31  # Excel's longest sheet name


def copy_name(sheet: str, day: str) -> str:
    """The dated copy's name: ``销售漏斗 2026-12-01``."""
    return f"{sheet} {day}"[:MAX_TITLE]


def _refs(chart: ChartBase) -> list[object]:
    """Every formula reference object of a chart's series."""
    out: list[object] = []
    for s in chart.series:
        for part in (s.val, s.cat, s.tx, getattr(s, "xVal", None), getattr(s, "yVal", None)):
            if part is None:
                continue
            for ref in (getattr(part, "numRef", None), getattr(part, "strRef", None)):
                if ref is not None and getattr(ref, "f", None):
                    out.append(ref)
    return out


def retarget(ws: Worksheet, old: str) -> None:
    """Point the charts of ``ws`` (renamed from ``old``) at ``ws`` again."""
    pattern = re.compile(r"(?<![\w'])(" + re.escape(quote_sheetname(old)) + "|"
                         + re.escape(f"'{old}'") + "|" + re.escape(old) + ")!")
    new = quote_sheetname(ws.title) + "!"
    for chart in ws._charts:
        for ref in _refs(chart):
            ref.f = pattern.sub(lambda _m: new, ref.f)  # type: ignore[attr-defined]


def keep_copies(wb: Workbook, names: list[str], day: str) -> dict[str, int]:
    """Rename each sheet of ``names`` present to its dated copy (replacing an older copy of
    that name); returns each renamed sheet's old name -> its position."""
    kept: dict[str, int] = {}
    for name in names:
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        target = copy_name(name, day)
        if target in wb.sheetnames:
            wb.remove(wb[target])
        kept[name] = wb.worksheets.index(ws)
        ws.title = target
        retarget(ws, name)
        ws.sheet_properties.tabColor = COPY_TAB_COLOR
    return kept


def place_before(wb: Workbook, ws: Worksheet, copy: str) -> None:
    """Move ``ws`` to just before the sheet ``copy`` (the copy it replaces)."""
    sheets = wb._sheets  # openpyxl keeps the order here; move_sheet takes offsets only
    sheets.remove(ws)
    sheets.insert(sheets.index(wb[copy]), ws)
