"""Native charts over the tables, honest by default: bar and line value axes from zero,
rankings sorted (the tables are), titles and axis labels in the workbook's language, two
charts side by side in a band between the cards and the tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from addin.reportbook.labels import pick
from addin.reportbook.tables import Placed
from schema.errors import Lang

WIDTH_CM, HEIGHT_CM = 12.5, 7.0  # the smallest chart; a wide sheet gets wider charts
MAX_WIDTH_CM = 22.0
ROW_CM = 0.53  # one row at the default height
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 27.0, 19.0  # A4 landscape inside the margins
CM_PER_CHAR = 0.2  # one character of column width, roughly, at the default font


@dataclass(frozen=True)
class ChartSize:
    """Two charts side by side fill the sheet's width (its widest table), in proportion."""

    width: float = WIDTH_CM
    height: float = HEIGHT_CM

    @classmethod
    def for_sheet(cls, chars: float, above_cm: float = 0.0, lines: int = 1) -> ChartSize:
        """The size for a sheet ``chars`` characters wide whose charts start ``above_cm``
        below the top, in ``lines`` lines: as wide as half the sheet, no taller than lets
        page 1 (scaled to one page wide) hold them all."""
        sheet_cm = chars * CM_PER_CHAR
        width = min(max(sheet_cm / 2 - 0.6, WIDTH_CM), MAX_WIDTH_CM)
        scale = min(1.0, PAGE_WIDTH_CM / max(sheet_cm, 2 * width + 1))
        room = (PAGE_HEIGHT_CM / scale - above_cm) / max(lines, 1) - 2 * ROW_CM
        return cls(width, max(min(width * 0.56, room), HEIGHT_CM))

    @property
    def band_rows(self) -> int:
        """Rows of one line of charts, with a gap."""
        return int(-(-self.height // ROW_CM)) + 2


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which table, the category column, the value columns and the words."""

    table: str
    kind: str  # "bar" (horizontal), "col", "stacked", "line", "pie"
    category: str  # column key; "{lang}" is replaced by zh/en
    values: tuple[str, ...]  # column keys; () with kind "stacked": every other column
    zh: str
    en: str
    axis_zh: str = ""
    axis_en: str = ""
    skip_last: bool = False  # the pie leaves out the last row (no purchase)


SPECS: dict[str, tuple[ChartSpec, ...]] = {
    "funnel": (
        ChartSpec("by_stage", "bar", "stage_{lang}", ("count", "reached"),
                  "各阶段商机数与到达数", "Opportunities and reached per stage", "商机数", "Count"),
        ChartSpec("cohorts", "col", "month", ("created", "won"), "按起始月份的商机与赢单",
                  "Opportunities and wins by starting month", "商机数", "Count"),
        ChartSpec("won_by_close_month", "col", "close_month_{lang}", ("won_amount",),
                  "按成交月份的赢单金额", "Won amount by close month", "金额（元）",
                  "Amount (CNY)"),
        ChartSpec("won_by_product_line", "bar", "product_line_{lang}", ("won_amount",),
                  "各产品线赢单金额", "Won amount by product line", "金额（元）", "Amount (CNY)"),
    ),
    "rfm": (
        ChartSpec("segments", "bar", "segment_{lang}", ("customers",), "各分群客户数",
                  "Customers per segment", "客户数", "Customers"),
        ChartSpec("segments", "bar", "segment_{lang}", ("monetary",), "各分群净金额",
                  "Net amount per segment", "金额（元）", "Amount (CNY)"),
        ChartSpec("segments", "pie", "segment_{lang}", ("customers",), "有购买客户的分群占比",
                  "Segment share of buyers", skip_last=True),
    ),
    "kpis": (
        ChartSpec("orders_by_month", "line", "month", ("amount",), "月度订单金额",
                  "Order amount by month", "金额（元）", "Amount (CNY)"),
        ChartSpec("new_customers", "stacked", "month", (), "新客户（按来源渠道）",
                  "New customers by source channel", "客户数", "Customers"),
        ChartSpec("leaderboard", "bar", "owner", ("amount",), "销售排行（订单金额）",
                  "Leaderboard (order amount)", "金额（元）", "Amount (CNY)"),
    ),
}


def usable(kind: str, tables: dict[str, Placed]) -> list[ChartSpec]:
    """The charts of ``kind`` whose table is on the sheet with rows."""
    return [s for s in SPECS[kind] if s.table in tables and not tables[s.table].empty]


def band_rows(count: int, size: ChartSize) -> int:
    """Rows the chart band takes for ``count`` charts (two per line)."""
    return size.band_rows * (-(-count // 2))


def _make(spec: ChartSpec, lang: Lang) -> ChartBase:
    if spec.kind == "pie":
        return PieChart()
    if spec.kind == "line":
        ch: BarChart | LineChart = LineChart()
    else:
        ch = BarChart()
        ch.type = "bar" if spec.kind == "bar" else "col"
        if spec.kind == "stacked":
            ch.grouping, ch.overlap = "stacked", 100
        if spec.kind == "bar":
            ch.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    ch.y_axis.scaling.min = 0  # honest: bars and lines start from zero
    ch.y_axis.title = pick(lang, spec.axis_zh, spec.axis_en) or None
    ch.y_axis.number_format = "#,##0"
    ch.y_axis.majorGridlines = None
    ch.x_axis.delete = False
    ch.y_axis.delete = False
    return ch


def make_chart(ws: Worksheet, spec: ChartSpec, where: Placed, lang: Lang,
               size: ChartSize = ChartSize()) -> ChartBase:
    """The chart of ``spec`` over the table placed at ``where``."""
    ch = _make(spec, lang)
    ch.title = pick(lang, spec.zh, spec.en)
    ch.width, ch.height = size.width, size.height
    last = where.last - (1 if spec.skip_last else 0)
    category = spec.category.replace("{lang}", lang)
    if category not in where.cols:  # a code column shown by its label (owner -> owner_zh)
        category = f"{category}_{lang}"
    cat_col = where.cols[category]
    values = spec.values or tuple(k for k in where.cols if k not in (category, "total"))
    for key in values:
        col = where.cols[key]
        ch.add_data(Reference(ws, min_col=col, min_row=where.header, max_row=last),
                    titles_from_data=True)
    ch.set_categories(Reference(ws, min_col=cat_col, min_row=where.first, max_row=last))
    for series in ch.series:
        series.smooth = False  # straight segments: a smoothed line invents values
    cells = [ws.cell(row=r, column=where.cols[k]).value for k in values
             for r in range(where.first, last + 1)]
    if spec.kind != "pie" and any(isinstance(v, int | float) and v < 0 for v in cells):
        ch.y_axis.scaling.min = None  # a negative bar (net refunds) must show below zero
    return ch


def right_column(ws: Worksheet, width_cm: float, from_col: int = 1) -> int:
    """The first column right of one chart's width, by the column widths set."""
    used, col = 0.0, from_col
    while used < width_cm + 0.3:
        width = ws.column_dimensions[get_column_letter(col)].width or 8.43
        used += width * CM_PER_CHAR
        col += 1
    return col


def place_charts(ws: Worksheet, specs: list[ChartSpec], tables: dict[str, Placed],
                 top: int, lang: Lang, size: ChartSize = ChartSize()) -> int:
    """Add the charts in a band from row ``top``, two per line; returns how many."""
    right = right_column(ws, size.width)
    for n, spec in enumerate(specs):
        row = top + size.band_rows * (n // 2)
        col = 1 if n % 2 == 0 else right
        ws.add_chart(make_chart(ws, spec, tables[spec.table], lang, size),
                     f"{get_column_letter(col)}{row}")
    return len(specs)


def chart_titles(kind: str, tables: dict[str, Any], lang: Lang) -> list[str]:
    """Titles of the charts a report with ``tables`` (its JSON tables) gets."""
    return [pick(lang, s.zh, s.en) for s in SPECS[kind]
            if s.table in tables and tables[s.table]["rows"]]
