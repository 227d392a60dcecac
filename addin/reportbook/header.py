"""The block a report sheet opens with (title, as-of date, the time it was generated in the
team's zone, the filters in words, who refreshed it) and the definitions it ends with."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from addin.reportbook.labels import filters_text, generated_text, pick, zone_text
from schema import clock
from schema.errors import Lang

TITLES = {"funnel": ("销售漏斗", "Sales funnel"), "rfm": ("RFM 客户价值分析", "RFM analysis"),
          "kpis": ("经营指标", "Business KPIs")}
TITLE_FONT = Font(bold=True, size=16, color="1F4E78")
LINE_FONT = Font(size=10, color="404040")
SUB_FONT = Font(bold=True, size=11, color="1F4E78")
NOTE_FONT = Font(size=9, color="595959")
HEADER_ROWS = 4  # title, as-of, generated, filters: frozen and printed on every page


def header_lines(kind: str, rep: dict[str, Any], lang: Lang) -> list[str]:
    """The header block's lines, title first."""
    zone = zone_text(clock.now(), lang)
    asof = pick(lang, f"报表日：{rep.get('as_of')}（截至当日 24:00，{zone}）",
                f"As of: {rep.get('as_of')} (end of day, {zone})")
    generated = generated_text(rep.get("generated_at"), lang)
    who = str(rep.get("refreshed_by") or rep.get("user") or "")  # the add-in adds the name
    made = pick(lang, f"生成时间：{generated}　刷新人：{who}",
                f"Generated: {generated}   Refreshed by: {who}")
    return [pick(lang, *TITLES[kind]), asof, made,
            pick(lang, "筛选：", "Filters: ") + filters_text(rep, lang)]


def write_header(ws: Worksheet, kind: str, rep: dict[str, Any], lang: Lang) -> int:
    """Write the header block from row 1; returns the next free row."""
    for row, text in enumerate(header_lines(kind, rep, lang), start=1):
        ws.cell(row=row, column=1, value=text).font = TITLE_FONT if row == 1 else LINE_FONT
    ws.row_dimensions[1].height = 24
    return HEADER_ROWS + 2


def _height(text: str, chars_per_line: float) -> float:
    width = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
    return 13.0 * max(1, -(-width // max(int(chars_per_line), 1))) + 2


def write_definitions(ws: Worksheet, row: int, rep: dict[str, Any], lang: Lang,
                      last_col: int, chars: float) -> int:
    """The definitions at the bottom, each line wrapped over the used columns (``chars``
    wide in all); returns the next free row."""
    lines = (rep.get("definitions") or {}).get(lang) or []
    if not lines:
        return row
    ws.cell(row=row, column=1, value=pick(lang, "口径说明", "Definitions")).font = SUB_FONT
    for line in lines:
        row += 1
        c = ws.cell(row=row, column=1, value=line)
        c.font = NOTE_FONT
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if last_col > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
        ws.row_dimensions[row].height = _height(line, chars * 1.1)
    return row + 2
