"""Build the report sheets (销售漏斗/Funnel, RFM, 经营指标/KPIs) from the bridge's report JSON.

A pure function over an openpyxl ``Workbook``: each sheet is deleted and recreated in place
(same position), showing the as-of date, the filters and the definitions, the report tables
as formatted pivot-like blocks, and native Excel charts. The add-in wires it to the workbook
port and the "Refresh reports" button.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from schema import clock
from schema.errors import Lang

SHEET_NAMES: dict[str, dict[str, str]] = {
    "funnel": {"zh": "销售漏斗", "en": "Funnel"},
    "rfm": {"zh": "RFM", "en": "RFM"},
    "kpis": {"zh": "经营指标", "en": "KPIs"},
}
TITLES = {"funnel": ("销售漏斗", "Sales funnel"), "rfm": ("RFM 客户价值分析", "RFM analysis"),
          "kpis": ("经营指标", "Business KPIs")}
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
SUB_FONT = Font(bold=True, size=11, color="1F4E78")
NOTE_FONT = Font(size=9, color="595959")
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HIDE = {"id", "from", "to"}  # record ids and stage codes stay in the JSON only
CHART_COL = 13  # charts start at column M
MAX_SHEET_ROWS = 2000  # per table; the JSON says when a list was truncated


def _lang_label(col: dict[str, str], lang: Lang) -> str:
    return col["zh"] if lang == "zh" else col["en"]


def _filters_text(filters: dict[str, Any], lang: Lang) -> str:
    names = {"period_from": ("期间开始", "Period from"), "period_to": ("期间结束", "Period to"),
             "owner": ("负责人", "Owner"), "team": ("团队", "Team"), "region": ("区域", "Region"),
             "window_days": ("RFM 窗口天数", "RFM window days"),
             "score_method": ("评分方法", "Score method"), "time_zone": ("时区", "Time zone")}
    parts = []
    for k, (zh, en) in names.items():
        if k not in filters:  # a parameter this report does not use (no RFM window on KPIs)
            continue
        v = filters.get(k)
        parts.append(f"{zh if lang == 'zh' else en}: {'全部' if lang == 'zh' else 'all'}"
                     if v in (None, "") else f"{zh if lang == 'zh' else en}: {v}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _shown_columns(t: dict[str, Any], lang: Lang) -> list[int]:
    """Indexes of the columns a sheet shows: a code column with a label column beside it
    shows the label, in one language at a time."""
    keys = {c["key"] for c in t["columns"]}
    other = "_en" if lang == "zh" else "_zh"
    return [i for i, c in enumerate(t["columns"]) if c["key"] not in HIDE
            and f"{c['key']}_zh" not in keys and not c["key"].endswith(other)]


def report_grid(rep: dict[str, Any], lang: Lang) -> list[list[Any]]:
    """The report's tables as one block of rows (title, header, rows, blank line), for
    ports that write a whole range at once (live Excel)."""
    grid: list[list[Any]] = []
    for t in rep.get("tables", {}).values():
        keep = _shown_columns(t, lang)
        grid.append([t["title_zh"] if lang == "zh" else t["title_en"]])
        grid.append([_lang_label(t["columns"][i], lang) for i in keep])
        grid += [[r[i] for i in keep] for r in t["rows"][:MAX_SHEET_ROWS]]
        grid.append([])
    width = max((len(r) for r in grid), default=0)
    return [r + [None] * (width - len(r)) for r in grid]


def _write_table(ws: Worksheet, row: int, t: dict[str, Any], lang: Lang) -> tuple[int, dict]:
    """Write one table at ``row``; return the next free row and where its columns landed."""
    ws.cell(row=row, column=1, value=t["title_zh"] if lang == "zh" else t["title_en"]
            ).font = SUB_FONT
    row += 1
    keep = _shown_columns(t, lang)
    where: dict[str, Any] = {"header": row, "cols": {}}
    for j, i in enumerate(keep, start=1):
        c = t["columns"][i]
        cell = ws.cell(row=row, column=j, value=_lang_label(c, lang))
        cell.fill, cell.font, cell.border = HEAD_FILL, HEAD_FONT, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        where["cols"][c["key"]] = j
    rows = t["rows"][:MAX_SHEET_ROWS]
    for r in rows:
        row += 1
        for j, i in enumerate(keep, start=1):
            key, v = t["columns"][i]["key"], r[i]
            if v is None and key in ("owner", "team", "region", "region_zh", "month",
                                     "rule_segment"):
                v = "（空）" if lang == "zh" else "(blank)"
            cell = ws.cell(row=row, column=j, value=v)
            cell.border = BOX
            if isinstance(v, float):
                cell.number_format = "0.0%" if key in ("share", "rate", "win_rate") else \
                    "#,##0.00"
            elif key in ("share", "rate", "win_rate") and v is not None:
                cell.number_format = "0.0%"
    where["first"], where["last"] = where["header"] + 1, row
    if t.get("truncated"):
        row += 1
        ws.cell(row=row, column=1, value=(f"仅显示前 {len(rows)} 行，共 {t.get('total')} 行"
                                          if lang == "zh" else
                                          f"First {len(rows)} of {t.get('total')} rows")
                ).font = NOTE_FONT
    return row + 2, where


def _generated(at: Any, lang: Lang) -> str:
    """The bridge's UTC ``generated_at`` as the team reads it (Beijing time)."""
    try:
        shown = clock.display(str(at))
    except ValueError:
        return str(at or "")
    return shown + ("（北京时间）" if lang == "zh" else " (Beijing time)")


def _header(ws: Worksheet, kind: str, rep: dict[str, Any], lang: Lang) -> int:
    zh, en = TITLES[kind]
    ws.cell(row=1, column=1, value=zh if lang == "zh" else en).font = TITLE_FONT
    asof = ("报表日（截至当日 24:00 北京时间）: " if lang == "zh" else
            "As of (end of day, Beijing time): ") + str(rep.get("as_of"))
    ws.cell(row=2, column=1, value=asof)
    ws.cell(row=3, column=1, value=("生成时间: " if lang == "zh" else "Generated: ")
            + _generated(rep.get("generated_at"), lang)
            + ("  用户: " if lang == "zh" else "  user: ")
            + str(rep.get("user", "")))
    ws.cell(row=4, column=1, value=("筛选: " if lang == "zh" else "Filters: ")
            + _filters_text(rep.get("filters", {}), lang))
    row = 5
    extra = rep.get("window") or rep.get("period")
    if extra:
        ws.cell(row=row, column=1, value=(("窗口/期间: " if lang == "zh" else "Window/period: ")
                                          + f"{extra['from']} ~ {extra['to']}"))
        row += 1
    summary = rep.get("summary") or {}
    if summary:
        ws.cell(row=row, column=1, value="; ".join(f"{k}={v}" for k, v in summary.items())
                ).font = NOTE_FONT
        row += 1
    ws.cell(row=row, column=1, value="口径说明" if lang == "zh" else "Definitions").font = SUB_FONT
    for line in rep.get("definitions", {}).get(lang, []):
        row += 1
        c = ws.cell(row=row, column=1, value=line)
        c.font, c.alignment = NOTE_FONT, Alignment(wrap_text=False)
    return row + 2


def _bar(title: str, ws: Worksheet, where: dict, cat_key: str, val_keys: list[str],
         anchor: str, horizontal: bool = False, y_title: str | None = None) -> BarChart:
    ch = BarChart()
    ch.type = "bar" if horizontal else "col"
    ch.title, ch.height, ch.width = title, 7.5, 16
    if y_title:
        ch.y_axis.title = y_title
    for k in val_keys:
        col = where["cols"][k]
        ch.add_data(Reference(ws, min_col=col, min_row=where["header"], max_row=where["last"]),
                    titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=where["cols"][cat_key], min_row=where["first"],
                                max_row=where["last"]))
    if horizontal:
        ch.x_axis.scaling.orientation = "maxMin"  # first stage on top, like a funnel
    ws.add_chart(ch, anchor)
    return ch


def _fresh_sheet(wb: Workbook, kind: str, lang: Lang) -> Worksheet:
    names = set(SHEET_NAMES[kind].values())
    index = None
    for ws in list(wb.worksheets):
        if ws.title in names:
            index = wb.worksheets.index(ws) if index is None else index
            wb.remove(ws)
    ws = wb.create_sheet(SHEET_NAMES[kind][lang], index)
    ws.sheet_properties.tabColor = "1F4E78"
    ws.column_dimensions["A"].width = 18
    for c in range(2, CHART_COL):
        ws.column_dimensions[get_column_letter(c)].width = 13
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return ws


def build_funnel(wb: Workbook, rep: dict[str, Any], lang: Lang = "zh") -> Worksheet:
    ws = _fresh_sheet(wb, "funnel", lang)
    row = _header(ws, "funnel", rep, lang)
    top = row
    placed = {}
    for key in ("by_stage", "conversion", "lost_reasons", "by_owner", "by_team", "by_region",
                "by_month"):
        if key in rep["tables"]:
            row, placed[key] = _write_table(ws, row, rep["tables"][key], lang)
    anchor = f"{get_column_letter(CHART_COL)}{top}"
    zh = lang == "zh"
    if placed["by_stage"]["last"] >= placed["by_stage"]["first"]:
        _bar("各阶段商机数" if zh else "Opportunities per stage", ws, placed["by_stage"],
             f"stage_{lang}", ["count", "reached"], anchor, horizontal=True)
    w = placed["by_month"]
    if w["last"] >= w["first"]:
        _bar("按月商机与赢单" if zh else "Opportunities and wins by month", ws, w, "month",
             ["count", "won"], f"{get_column_letter(CHART_COL)}{top + 17}")
    return ws


def build_rfm(wb: Workbook, rep: dict[str, Any], lang: Lang = "zh") -> Worksheet:
    ws = _fresh_sheet(wb, "rfm", lang)
    row = _header(ws, "rfm", rep, lang)
    top = row
    placed = {}
    for key in ("segments", "scores", "rule_segments", "customers"):
        if key in rep["tables"]:
            row, placed[key] = _write_table(ws, row, rep["tables"][key], lang)
    zh = lang == "zh"
    w = placed["segments"]
    _bar("各分群客户数" if zh else "Customers per segment", ws, w, f"segment_{lang}",
         ["customers"], f"{get_column_letter(CHART_COL)}{top}", horizontal=True)
    _bar("各分群净金额" if zh else "Net amount per segment", ws, w, f"segment_{lang}",
         ["monetary"], f"{get_column_letter(CHART_COL)}{top + 17}", horizontal=True)
    pie = PieChart()
    pie.title, pie.height, pie.width = ("客户分群占比" if zh else "Segment share"), 7.5, 12
    pie.add_data(Reference(ws, min_col=w["cols"]["customers"], min_row=w["header"],
                           max_row=w["last"] - 1), titles_from_data=True)  # without no purchase
    pie.set_categories(Reference(ws, min_col=w["cols"][f"segment_{lang}"], min_row=w["first"],
                                 max_row=w["last"] - 1))
    ws.add_chart(pie, f"{get_column_letter(CHART_COL + 10)}{top}")
    return ws


def build_kpis(wb: Workbook, rep: dict[str, Any], lang: Lang = "zh") -> Worksheet:
    ws = _fresh_sheet(wb, "kpis", lang)
    row = _header(ws, "kpis", rep, lang)
    top = row
    placed = {}
    for key in ("orders_by_month", "new_customers", "leaderboard", "customers_by_region",
                "overdue_by_owner", "overdue"):
        if key in rep["tables"]:
            row, placed[key] = _write_table(ws, row, rep["tables"][key], lang)
    zh = lang == "zh"
    w = placed["orders_by_month"]
    if w["last"] >= w["first"]:
        line = LineChart()
        line.title, line.height, line.width = ("月度订单金额" if zh else "Order amount by month"), \
            7.5, 16
        line.add_data(Reference(ws, min_col=w["cols"]["amount"], min_row=w["header"],
                                max_row=w["last"]), titles_from_data=True)
        line.set_categories(Reference(ws, min_col=w["cols"]["month"], min_row=w["first"],
                                      max_row=w["last"]))
        ws.add_chart(line, f"{get_column_letter(CHART_COL)}{top}")
    w = placed["new_customers"]
    if w["last"] >= w["first"]:
        ch = BarChart()
        ch.type, ch.grouping, ch.overlap = "col", "stacked", 100
        ch.title = "新客户（按渠道）" if zh else "New customers by channel"
        ch.height, ch.width = 7.5, 16
        cols = [v for k, v in w["cols"].items() if k not in ("month", "total")]
        ch.add_data(Reference(ws, min_col=min(cols), max_col=max(cols), min_row=w["header"],
                              max_row=w["last"]), titles_from_data=True)
        ch.set_categories(Reference(ws, min_col=w["cols"]["month"], min_row=w["first"],
                                    max_row=w["last"]))
        ws.add_chart(ch, f"{get_column_letter(CHART_COL)}{top + 17}")
    w = placed["leaderboard"]
    if w["last"] >= w["first"]:
        who = f"owner_{lang}" if f"owner_{lang}" in w["cols"] else "owner"  # display names
        _bar("销售排行（金额）" if zh else "Leaderboard (amount)", ws, w, who, ["amount"],
             f"{get_column_letter(CHART_COL)}{top + 34}", horizontal=True)
    return ws


def build_report_sheets(wb: Workbook, funnel: dict[str, Any] | None = None,
                        rfm: dict[str, Any] | None = None, kpis: dict[str, Any] | None = None,
                        lang: Lang = "zh") -> list[Worksheet]:
    """(Re)build the sheets for the reports given; returns them in order."""
    out = []
    if funnel is not None:
        out.append(build_funnel(wb, funnel, lang))
    if rfm is not None:
        out.append(build_rfm(wb, rfm, lang))
    if kpis is not None:
        out.append(build_kpis(wb, kpis, lang))
    return out
