"""The report sheets (销售漏斗/Funnel, RFM, 经营指标/KPIs) built from the bridge's report JSON.

A pure function over an openpyxl ``Workbook``: each sheet is deleted and recreated in place
(same position). A sheet reads top to bottom: the header block (``header``), KPI cards
(``cards``), charts (``charts``), the tables (``tables``), the definitions; its page set-up
comes from ``printing``. ``snapshot`` keeps the previous sheets as dated copies;
``report_grid`` is the same content as plain rows for ports that write a range at once.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from addin.reportbook import cards, charts, header, printing, snapshot, tables
from addin.reportbook.labels import pick
from schema.errors import Lang

SHEET_NAMES: dict[str, dict[str, str]] = {
    "funnel": {"zh": "销售漏斗", "en": "Funnel"},
    "rfm": {"zh": "RFM", "en": "RFM"},
    "kpis": {"zh": "经营指标", "en": "KPIs"},
}
TABLE_ORDER = {
    "funnel": ("by_stage", "conversion", "cohorts", "won_by_close_month",
               "won_by_product_line", "won_by_industry", "won_by_owner", "won_by_team",
               "won_by_region", "cycle", "by_month", "by_owner", "by_team", "by_region",
               "lost_reasons"),
    "rfm": ("segments", "scores", "rule_segments", "customers"),
    "kpis": ("orders_by_month", "new_customers", "leaderboard", "customers_by_region",
             "overdue_by_owner", "overdue"),
}
TAB_COLOR = "1F4E78"
CARD_WIDTH = 11.0  # least width of the columns the cards stand on


def ordered_tables(kind: str, rep: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The report's tables in sheet order: the known ones first, any new one after them,
    record lists (with a filter row) last."""
    got: dict[str, dict[str, Any]] = rep.get("tables") or {}
    known = [k for k in TABLE_ORDER[kind] if k in got]
    keys = known + [k for k in got if k not in known]
    return sorted(((k, got[k]) for k in keys), key=lambda kt: tables.is_list(kt[1]))


def _fresh_sheet(wb: Workbook, kind: str, lang: Lang) -> Worksheet:
    names = set(SHEET_NAMES[kind].values())
    index = None
    for ws in list(wb.worksheets):
        if ws.title in names:
            index = wb.worksheets.index(ws) if index is None else index
            wb.remove(ws)
    ws = wb.create_sheet(SHEET_NAMES[kind][lang], index)
    ws.sheet_properties.tabColor = TAB_COLOR
    ws.sheet_view.showGridLines = False
    return ws


def build_sheet(wb: Workbook, kind: str, rep: dict[str, Any], lang: Lang = "zh") -> Worksheet:
    """(Re)build one report sheet: header, cards, charts, tables, definitions, page set-up."""
    ws = _fresh_sheet(wb, kind, lang)
    row = header.write_header(ws, kind, rep, lang)
    row = cards.write_cards(ws, row, kind, rep, lang)
    present = ordered_tables(kind, rep)
    n_charts = len([s for s in charts.SPECS[kind]
                    if any(k == s.table and t["rows"] for k, t in present)])
    above_cm = (row - 1) * charts.ROW_CM + 0.6 * -(-len(cards.cards_of(kind, rep)) // 4)
    size = charts.ChartSize.for_sheet(tables.sheet_chars(present, lang, CARD_WIDTH), above_cm,
                                      -(-n_charts // 2))
    chart_top, row = row, row + charts.band_rows(n_charts, size)
    first_table = row
    if n_charts:  # printed: the header, cards and charts on page 1, the tables after them
        ws.row_breaks.append(Break(id=first_table - 1))
    placed: dict[str, tables.Placed] = {}
    lists: list[tables.Placed] = []
    for key, t in present:
        row, placed[key] = tables.write_table(ws, row, key, t, lang)
        if tables.is_list(t) and not placed[key].empty:
            lists.append(placed[key])
    width = printing.fit_columns(ws, first_table, row, dict.fromkeys(
        range(1, 1 + cards.PER_LINE * cards.SPAN), CARD_WIDTH))
    if lists:  # one filter row per sheet: on the record list (the last table)
        last = lists[-1]
        ws.auto_filter.ref = (f"A{last.header}:"
                              f"{get_column_letter(max(last.cols.values()))}{last.last}")
    header.write_definitions(ws, row, rep, lang, max(ws.max_column, 1), width)
    charts.place_charts(ws, charts.usable(kind, placed), placed, chart_top, lang, size)
    # printed: a record list's header row repeats on the pages it runs over (from where it
    # starts); a sheet without one repeats its header block
    titles = f"{lists[-1].header}:{lists[-1].header}" if lists else f"1:{header.HEADER_ROWS}"
    printing.apply_page_setup(ws, titles, f"A{header.HEADER_ROWS + 1}")
    return ws


def build_report_sheets(wb: Workbook, funnel: dict[str, Any] | None = None,
                        rfm: dict[str, Any] | None = None, kpis: dict[str, Any] | None = None,
                        lang: Lang = "zh", *, keep_as: str | None = None) -> list[Worksheet]:
    """(Re)build the sheets for the reports given; returns them in order. With ``keep_as``
    (a date) the sheets shown so far are kept as copies named with it, each new sheet
    placed just before its copy."""
    given = {"funnel": funnel, "rfm": rfm, "kpis": kpis}
    out = []
    for kind, rep in given.items():
        if rep is None:
            continue
        kept = snapshot.keep_copies(wb, list(SHEET_NAMES[kind].values()), keep_as) \
            if keep_as else {}
        ws = build_sheet(wb, kind, rep, lang)
        for old in kept:
            snapshot.place_before(wb, ws, snapshot.copy_name(old, str(keep_as)))
            break
        out.append(ws)
    return out


def grid_with_places(rep: dict[str, Any], lang: Lang, kind: str | None = None
                     ) -> tuple[list[list[Any]], dict[str, tuple[int, int]]]:
    """The report as one block of rows (header block, cards, each table: title, header,
    rows, blank line; definitions), for ports that write a whole range at once; with each
    table's header row (1-based) and row count."""
    kind = kind or str(rep.get("report") or "funnel")
    grid: list[list[Any]] = [[line] for line in header.header_lines(kind, rep, lang)]
    grid.append([])
    grid += cards.card_lines(kind, rep, lang)
    grid.append([])
    where: dict[str, tuple[int, int]] = {}
    for key, t in ordered_tables(kind, rep):
        keep = tables.shown_columns(t, lang)
        grid.append([pick(lang, t["title_zh"], t["title_en"])])
        grid.append([pick(lang, t["columns"][i]["zh"], t["columns"][i]["en"]) for i in keep])
        rows = tables.ordered_rows(key, t)
        where[key] = (len(grid), len(rows))
        grid += [[tables.cell_value(t["columns"][i]["key"], r[i], lang) for i in keep]
                 for r in rows]
        note = tables.list_note(t, len(t["rows"]), lang)
        grid += [[note]] if note else []
        grid.append([])
    lines = (rep.get("definitions") or {}).get(lang) or []
    grid += [[pick(lang, "口径说明", "Definitions")]] + [[line] for line in lines] if lines else []
    width = max((len(r) for r in grid), default=0)
    return [r + [None] * (width - len(r)) for r in grid], where


def report_grid(rep: dict[str, Any], lang: Lang, kind: str | None = None) -> list[list[Any]]:
    """The report as one block of rows (see :func:`grid_with_places`)."""
    return grid_with_places(rep, lang, kind)[0]
