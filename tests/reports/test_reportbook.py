"""The report sheets a manager forwards (issue 13): header block with the zone stated, cards,
labels for codes, honest charts, full lists with a filter row, page set-up, snapshots; over
real reports computed by the bridge on SQLite, and on a live-Excel stand-in."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, LineChart

from addin.port_xlwings import XlwingsPort
from addin.reportbook import SHEET_NAMES, build_report_sheets, report_grid
from addin.reportbook.cards import change_text
from addin.reportbook.printing import text_width
from addin.reportbook.tables import fill_months
from bridge.auth import User
from tests.addin import xlwings_standin as standin
from tests.reports.conftest import Reports

ADMIN = User("admin", "admin", "admin", None, None)
DEBUG_LINE = re.compile(r"\b\w+=[^;]*;")


def _book(reports: Reports, lang: str = "zh", **kw: Any) -> Workbook:
    wb = Workbook()
    wb.active.title = "客户"
    build_report_sheets(wb, *reports, lang=lang, **kw)  # type: ignore[arg-type]
    return wb


def _texts(ws: Any) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_header_block_states_the_zone_and_no_debug_line(reports: Reports, lang: str) -> None:
    wb = _book(reports, lang)
    for kind, names in SHEET_NAMES.items():
        ws = wb[names[lang]]
        head = [ws.cell(row=r, column=1).value for r in range(1, 5)]
        assert "2026-03-31" in head[1] and "UTC+8" in head[1]
        zone = "（北京时间 UTC+8）" if lang == "zh" else "(Beijing time, UTC+8)"
        assert zone in head[2] and "+00:00" not in head[2] and "admin" in head[2], head
        assert head[3].startswith("筛选" if lang == "zh" else "Filters")
        texts = _texts(ws)
        assert not [t for t in texts if DEBUG_LINE.search(t)], kind
        defs = next(c.row for c in ws["A"] if c.value in ("口径说明", "Definitions"))
        heads = [c.row for row in ws.iter_rows() for c in row
                 if c.fill.fgColor.rgb == "001F4E78"]
        assert heads and defs > max(heads), "the definitions come after the tables"


def test_rfm_window_is_the_one_used(reports: Reports) -> None:
    ws = _book(reports)["RFM"]
    assert "RFM 窗口: 90 天（2026-01-01 ~ 2026-03-31）" in ws["A4"].value
    assert "365" not in ws["A4"].value
    assert "RFM" not in _book(reports)["销售漏斗"]["A4"].value  # the funnel has no window
    kpi = _book(reports)["经营指标"]["A4"].value  # the period covered, default or not
    assert "期间: 2026-01-01 ~ 2026-03-31" in kpi and "期间开始" not in kpi


def test_labels_instead_of_codes(reports: Reports) -> None:
    ws = _book(reports)["RFM"]
    texts = _texts(ws)
    assert "华东" in texts and "east" not in texts and "north" not in texts
    heads = [c.value for row in ws.iter_rows() for c in row if c.fill.fgColor.rgb == "001F4E78"]
    assert "规则分群" not in heads  # no tag rules: the empty column is left out
    t = reports[1]["tables"]["customers"]
    keys = [c["key"] for c in t["columns"]]
    blanks = sum(r[keys.index(k)] is None for r in t["rows"] for k in ("owner", "region"))
    head = int(re.sub(r"[A-Z]", "", ws.auto_filter.ref.split(":")[0]))  # the list's header
    cols = [c.column for c in ws[head] if c.value in ("负责人", "区域")]
    markers = sum(ws.cell(row=r, column=c).value in ("（空）", "（未填）")
                  for r in range(head + 1, ws.max_row + 1) for c in cols)
    assert len(cols) == 2 and blanks and markers == blanks  # only where a value is blank


def _charts(wb: Workbook) -> list[Any]:
    return [ch for ws in wb.worksheets for ch in ws._charts]


def test_charts_start_from_zero_and_rankings_are_sorted(reports: Reports) -> None:
    wb = _book(reports)
    charts = _charts(wb)
    assert len(wb["销售漏斗"]._charts) == 4 and len(wb["RFM"]._charts) == 3 and len(
        wb["经营指标"]._charts) == 3
    for ch in charts:
        if isinstance(ch, BarChart | LineChart):
            negative = ch.y_axis.scaling.min is None  # only where a bar is below zero
            assert (ch.y_axis.scaling.min == 0 or negative) and ch.title is not None
            assert ch.y_axis.delete is False and ch.x_axis.delete is False
    assert sum(isinstance(ch, BarChart) and ch.y_axis.scaling.min is None
               for ch in charts) <= 1  # the net amount per segment, when refunds go below 0
    ws = wb["经营指标"]
    col_a = [c.value for c in ws["B"]]
    start = col_a.index("负责人") + 1  # leaderboard: rank, owner, orders, amount
    amounts = []
    for r in range(start + 1, ws.max_row + 1):
        if ws.cell(row=r, column=1).value in (None, "") or not isinstance(
                ws.cell(row=r, column=4).value, int | float):
            break
        amounts.append(ws.cell(row=r, column=4).value)
    assert amounts and amounts == sorted(amounts, reverse=True)


def test_month_tables_get_one_row_per_month() -> None:
    t = {"columns": [{"key": "month"}, {"key": "count"}, {"key": "win_rate"}],
         "rows": [["2026-01", 2, 0.5], ["2026-04", 1, 1.0]]}
    assert fill_months(t) == [["2026-01", 2, 0.5], ["2026-02", 0, None],
                              ["2026-03", 0, None], ["2026-04", 1, 1.0]]


def test_full_lists_have_a_filter_row_and_say_they_are_complete(reports: Reports) -> None:
    wb = _book(reports)
    for name, table in (("RFM", "customers"), ("经营指标", "overdue")):
        ws = wb[name]
        rep = reports[1] if name == "RFM" else reports[2]
        total = rep["tables"][table]["total"]
        ref = ws.auto_filter.ref
        assert ref, name
        first, last = (int(re.sub(r"[A-Z]", "", p)) for p in ref.split(":"))
        assert last - first == total
        assert f"共 {total} 行，已全部列出；可用标题行的筛选按钮排序和筛选" in _texts(ws)
    capped = copy.deepcopy(reports[1])
    capped["tables"]["customers"].update(total=99, truncated=True)
    ws = _book((reports[0], capped, reports[2]))["RFM"]
    n = len(capped["tables"]["customers"]["rows"])
    assert any(t.startswith(f"仅显示前 {n} 行，共 99 行") and "列表上限" in t for t in _texts(ws))


def test_page_set_up_and_frozen_panes(reports: Reports, tmp_path: Path) -> None:
    _book(reports, "en").save(tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    for name in ("Funnel", "RFM", "KPIs"):
        ws = wb[name]
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        head = ws.auto_filter.ref.split(":")[0][1:] if ws.auto_filter.ref else None
        titles = f"${head}:${head}" if head else "$1:$4"  # a list's header, else the block
        assert ws.print_title_rows == titles and ws.freeze_panes == "A5", name
        assert ws.oddFooter.left.text == "&A" and ws.oddFooter.right.text == "&P / &N"
    rfm_rows = reports[1]["tables"]["customers"]["rows"]
    widest = max(text_width(r[1]) for r in rfm_rows)  # the customer name, first shown
    assert wb["RFM"].column_dimensions["A"].width >= min(widest, 46)  # names not cut


def test_cards_show_the_change_against_the_previous_period(reports: Reports) -> None:
    zh = {"value": 120, "previous": 100, "format": "int"}
    assert change_text(zh, "zh") == "▲ 20.0%（上期 100）"
    assert change_text({"value": 0.4, "previous": 0.5, "format": "rate"}, "en") == \
        "▼ 10.0 pts (previous 50.0%)"
    assert change_text({"value": 3, "previous": None}, "zh") == "无上期数据"
    rep = copy.deepcopy(reports[2])
    rep["cards"] = [{"key": "orders", "zh": "订单数", "en": "Orders", "value": 7,
                     "previous": 8, "change": -1, "format": "int"}]
    ws = _book((reports[0], reports[1], rep))["经营指标"]
    assert ws["A6"].value == "订单数" and ws["A7"].value == 7
    assert ws["A8"].value == "▼ 12.5%（上期 8）"
    bare = copy.deepcopy(reports[0])
    bare.pop("cards")
    fallback = _book((bare, reports[1], reports[2]))["销售漏斗"]  # from the summary
    assert fallback["A6"].value == "商机数" and fallback["A8"].value == "无上期数据"


def test_snapshots_keep_the_previous_sheets_with_their_charts(reports: Reports,
                                                              tmp_path: Path) -> None:
    wb = _book(reports)
    wb.create_sheet("报表参数")
    build_report_sheets(wb, *reports, keep_as="2026-03-30")
    assert wb.sheetnames == ["客户", "销售漏斗", "销售漏斗 2026-03-30", "RFM", "RFM 2026-03-30",
                             "经营指标", "经营指标 2026-03-30", "报表参数"]
    build_report_sheets(wb, *reports, keep_as="2026-03-30")  # same day: replaced
    assert wb.sheetnames.count("RFM 2026-03-30") == 1 and len(wb.sheetnames) == 8
    wb.save(tmp_path / "s.xlsx")
    again = load_workbook(tmp_path / "s.xlsx")
    kept = again["RFM 2026-03-30"]
    refs = [s.val.numRef.f for ch in kept._charts for s in ch.series]
    assert refs and all(r.startswith("'RFM 2026-03-30'!") for r in refs), refs
    live = [s.val.numRef.f for ch in again["RFM"]._charts for s in ch.series]
    assert live and all(r.startswith("RFM!") or r.startswith("'RFM'!") for r in live), live


def test_the_live_excel_grid_carries_the_header_block_and_cards(reports: Reports) -> None:
    grid = report_grid(reports[2], "en", "kpis")
    assert grid[0][0] == "Business KPIs" and "(Beijing time, UTC+8)" in grid[2][0]
    assert "Orders" in grid[5] and "▲ 600.0% (previous 1)" in grid[7]
    book = standin.Book()
    book.sheets.add("Customers")
    port = XlwingsPort(book)  # type: ignore[arg-type]
    port.write_reports({"funnel": reports[0], "kpis": reports[2]}, "en")
    port.write_reports({"funnel": reports[0], "kpis": reports[2]}, "en", keep_as="2026-03-30")
    assert [s.name for s in book.sheets] == ["Customers", "Funnel", "Funnel 2026-03-30",
                                             "KPIs", "KPIs 2026-03-30"]
    values = standin.values(book, "KPIs")
    assert values[(1, 1)] == "Business KPIs" and book.sheets["KPIs"].charts.count == 1
    assert "UTC+8" in values[(3, 1)]
    assert not [v for v in values.values() if isinstance(v, str) and DEBUG_LINE.search(v)]


def test_live_excel_page_setup_maps_the_declaration() -> None:
    """On Windows the xlwings port sets Excel's PageSetup from the same declaration."""
    from types import SimpleNamespace

    from addin.port_xlwings import _page_setup

    ps = SimpleNamespace()
    _page_setup(ps, "$1:$4")
    assert vars(ps) == {"PaperSize": 9, "Orientation": 2, "Zoom": False,
                        "FitToPagesWide": 1, "FitToPagesTall": False,
                        "PrintTitleRows": "$1:$4", "LeftFooter": "&A",
                        "RightFooter": "&P / &N"}
