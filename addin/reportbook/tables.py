"""The report tables on a sheet: labels instead of codes, number formats by column, month
tables with one row per month, rankings sorted, full lists with their cap stated and a
filter row."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from addin.reportbook.labels import BLANK, enum_of, label_of, pick
from addin.reportbook.printing import MAX_WIDTH, MIN_WIDTH, text_width
from schema.errors import Lang

HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
SUB_FONT = Font(bold=True, size=11, color="1F4E78")
NOTE_FONT = Font(size=9, color="595959")
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HIDE = {"id", "from", "to"}  # record ids and stage codes stay in the JSON only
# optional columns left out when no row has a value (no tag rules: no rule segment; no
# tiers given yet: no tier column of blanks)
DROP_WHEN_EMPTY = {"rule_segment", "value_tier", "value_tier_rules"}
# columns naming a group: a missing value is a real blank there and says so
GROUP_KEYS = {"owner", "team", "region", "month", "segment", "reason", "customer",
              "industry", "product_line", "close_month", "cohort", "name"}
RATE = re.compile(r"(^|_)(share|rate|win_rate|conversion)$|_rate$|^rate")
MONEY = re.compile(r"amount|monetary|aov|value$|revenue|gross|refund|avg_won")
DAYS = re.compile(r"days|recency|cycle")
# rankings: rows sorted by this column, largest first (sequences keep their order)
SORT_BY = {"by_owner": "amount", "by_team": "amount", "by_region": "amount",
           "lost_reasons": "count", "leaderboard": "amount", "overdue_by_owner": "count",
           "segments": "customers", "by_product_line": "won_amount", "cycle": "won",
           "by_industry": "won_amount", "won_by_product_line": "won_amount",
           "won_by_industry": "won_amount", "won_by_owner": "won_amount",
           "won_by_team": "won_amount", "won_by_region": "won_amount"}
KEEP_LAST = {"no_purchase"}  # the segment without buyers stays below the ranked ones
MONTH = re.compile(r"^\d{4}-\d{2}$")
MONTH_KEYS = ("month", "close_month")  # tables by month: one row for every month


@dataclass
class Placed:
    """Where a table landed: its header row, first and last data rows, key -> column."""

    header: int
    first: int = 0
    last: int = 0
    cols: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.last < self.first


def number_format(key: str) -> str | None:
    """The number format of a column, from its key."""
    if RATE.search(key):
        return "0.0%"
    if DAYS.search(key) and not key.startswith("max_"):
        return "#,##0.0"
    if MONEY.search(key):
        return "#,##0"
    return None


def shown_columns(t: dict[str, Any], lang: Lang) -> list[int]:
    """Indexes of the columns a sheet shows: a code column with a label column beside it
    shows the label, in one language at a time; optional columns without any value go."""
    keys = {c["key"] for c in t["columns"]}
    other = "_en" if lang == "zh" else "_zh"
    out = []
    for i, c in enumerate(t["columns"]):
        key = c["key"]
        if key in HIDE or f"{key}_zh" in keys or key.endswith(other):
            continue
        base = key.removesuffix("_zh").removesuffix("_en")
        if base in DROP_WHEN_EMPTY and base in keys and all(
                r[[c["key"] for c in t["columns"]].index(base)] in (None, "")
                for r in t["rows"]):
            continue
        out.append(i)
    return out


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def fill_months(t: dict[str, Any]) -> list[list[Any]]:
    """A month table's rows with the months between its first and last present (zeros):
    a month chart gets one bar per month, gaps included."""
    rows = list(t["rows"])
    first = t["columns"][0]["key"] if t["columns"] else ""
    if not rows or first not in MONTH_KEYS or not all(
            isinstance(r[0], str) and MONTH.match(r[0]) for r in rows):
        return rows
    by = {r[0]: r for r in rows}
    month_cols = [c["key"].startswith(first) for c in t["columns"]]
    zero = [None if number_format(c["key"]) == "0.0%" or c["key"].startswith("avg")
            else 0 for c in t["columns"]]
    return [by.get(m) or [m if is_month else z for is_month, z in zip(month_cols, zero,
                                                                       strict=True)]
            for m in _months(min(by), max(by))]


def ordered_rows(key: str, t: dict[str, Any]) -> list[list[Any]]:
    """Rows in the order the sheet shows them: rankings by value, months filled."""
    rows = fill_months(t)
    col = SORT_BY.get(key)
    keys = [c["key"] for c in t["columns"]]
    if col in keys:
        i = keys.index(col)
        last = [r for r in rows if r[0] in KEEP_LAST]
        rows = sorted((r for r in rows if r[0] not in KEEP_LAST),
                      key=lambda r: -(r[i] or 0)) + last
    return rows


def cell_value(key: str, value: Any, lang: Lang) -> Any:
    """What a cell shows: a label for a code, the blank marker for a missing group."""
    if value is None or value == "":
        return BLANK[lang] if key in GROUP_KEYS or enum_of(key) is not None else None
    return label_of(key, value, lang)


def _head(ws: Worksheet, row: int, col: int, text: str) -> None:
    cell = ws.cell(row=row, column=col, value=text)
    cell.fill, cell.font, cell.border = HEAD_FILL, HEAD_FONT, BOX
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def write_table(ws: Worksheet, row: int, key: str, t: dict[str, Any], lang: Lang
                ) -> tuple[int, Placed]:
    """Write one table at ``row``; return the next free row and where it landed."""
    ws.cell(row=row, column=1, value=pick(lang, t["title_zh"], t["title_en"])).font = SUB_FONT
    row += 1
    keep = shown_columns(t, lang)
    placed = Placed(row)
    for j, i in enumerate(keep, start=1):
        c = t["columns"][i]
        _head(ws, row, j, pick(lang, c["zh"], c["en"]))
        placed.cols[c["key"]] = j
    rows = ordered_rows(key, t)
    placed.first = row + 1
    for r in rows:
        row += 1
        for j, i in enumerate(keep, start=1):
            ckey = t["columns"][i]["key"]
            cell = ws.cell(row=row, column=j, value=cell_value(ckey, r[i], lang))
            cell.border = BOX
            fmt = number_format(ckey)
            if fmt and isinstance(r[i], int | float):
                cell.number_format = "#,##0" if fmt == "#,##0.0" and isinstance(
                    r[i], int) else fmt  # whole days stay whole
    placed.last = row
    for note in filter(None, (list_note(t, len(rows), lang), table_note(key, t, lang))):
        row += 1
        ws.cell(row=row, column=1, value=note).font = NOTE_FONT
    return row + 2, placed


def table_note(key: str, t: dict[str, Any], lang: Lang) -> str | None:
    """A line explaining a figure that would puzzle a reader: the no-purchase segment's
    negative net amount (refunds and credit notes without orders in the window)."""
    if key != "segments":
        return None
    keys = [c["key"] for c in t["columns"]]
    if "monetary" not in keys:
        return None
    row = next((r for r in t["rows"] if r[0] in KEEP_LAST), None)
    if row is None or not row[keys.index("monetary")]:
        return None
    return pick(lang, "“无购买”客户窗口内没有订单；其净金额是窗口内的退款和红字发票（故为负数）",
                "No purchase: no orders in the window; its net amount is the refunds and "
                "credit notes in the window (hence negative)")


def sheet_chars(present: list[tuple[str, dict[str, Any]]], lang: Lang,
                least: float, sample: int = 2000) -> float:
    """How wide (characters) the tables will make the sheet, estimated from the JSON the
    way ``printing.fit_columns`` sizes the written cells (the first ``sample`` rows)."""
    widths: dict[int, float] = {}
    for _key, t in present:
        keep = shown_columns(t, lang)
        for j, i in enumerate(keep):
            texts = [pick(lang, t["columns"][i]["zh"], t["columns"][i]["en"])] + [
                cell_value(t["columns"][i]["key"], r[i], lang) for r in t["rows"][:sample]]
            fmt = number_format(t["columns"][i]["key"])
            w = max(text_width(v, fmt) for v in texts) + 2
            widths[j] = max(widths.get(j, least), min(max(w, MIN_WIDTH), MAX_WIDTH))
    return sum(widths.values())


def is_list(t: dict[str, Any]) -> bool:
    """A record list (RFM customers, overdue follow-ups): the bridge says its total."""
    return "total" in t


def list_note(t: dict[str, Any], shown: int, lang: Lang) -> str | None:
    """The line under a list: complete, or capped by the list cap setting (stated)."""
    if not is_list(t):
        return None
    total = t.get("total", shown)
    if t.get("truncated"):
        return pick(lang, f"仅显示前 {shown} 行，共 {total} 行（上限见“报表参数”的“列表上限”）",
                    f"First {shown} of {total} rows (the cap is the List cap on Report "
                    "settings)")
    return pick(lang, f"共 {total} 行，已全部列出；可用标题行的筛选按钮排序和筛选",
                f"All {total} rows; sort and filter with the buttons in the header row")
