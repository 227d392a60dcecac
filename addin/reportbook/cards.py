"""KPI cards: a few big numbers, each with its change against the previous period (▲/▼).

The bridge sends ``cards`` (``key, zh, en, value, previous, change, format``); a report
without them gets cards from its ``summary`` (no previous period)."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from addin.reportbook.labels import pick
from schema.errors import Lang

PER_LINE = 4  # cards side by side
SPAN = 2  # columns per card
CARD_FILL = PatternFill("solid", fgColor="EAF1FB")
EDGE = Side(style="thin", color="9DB7DA")
LABEL_FONT = Font(size=9, color="404040")
VALUE_FONT = Font(bold=True, size=18, color="1F4E78")
CHANGE_FONT = Font(size=9, color="404040")
FORMATS = {"int": "#,##0", "money": "#,##0", "rate": "0.0%", "days": "#,##0.0"}
# summary keys shown as cards when the bridge sends none: key, zh, en, format
FALLBACK: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "funnel": (("opportunities", "商机数", "Opportunities", "int"),
               ("won", "赢单数", "Won", "int"), ("win_rate", "赢单率", "Win rate", "rate"),
               ("amount", "商机金额", "Opportunity amount", "money")),
    "rfm": (("customers", "客户数", "Customers", "int"),
            ("buyers", "有购买客户", "Buyers", "int"),
            ("monetary", "窗口净金额", "Net amount in window", "money"),
            ("mean_recency_days", "平均最近购买天数", "Mean days since last order", "days")),
    "kpis": (("orders", "订单数", "Orders", "int"), ("amount", "订单金额", "Order amount", "money"),
             ("avg_order_value", "客单价", "Average order value", "money"),
             ("repurchase_rate", "复购率", "Repurchase rate", "rate"),
             ("churn_rate", "流失率", "Churn rate", "rate"),
             ("new_customers", "新客户", "New customers", "int"),
             ("overdue_followups", "逾期跟进", "Overdue follow-ups", "int")),
}


def cards_of(kind: str, rep: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's cards, or ones made from its summary."""
    cards = rep.get("cards")
    if isinstance(cards, list) and cards:
        return [c for c in cards if isinstance(c, dict) and "value" in c]
    summary = rep.get("summary") or {}
    return [{"key": k, "zh": zh, "en": en, "value": summary[k], "previous": None,
             "format": fmt} for k, zh, en, fmt in FALLBACK.get(kind, ()) if k in summary]


def _shown(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    if fmt == "rate":
        return f"{float(value):.1%}"
    if fmt == "days":
        return f"{float(value):,.1f}"
    return f"{float(value):,.0f}"


def change_text(card: dict[str, Any], lang: Lang) -> str:
    """``▲ 12.5%（上期 1,234）``; rates change in percentage points; no previous: said so."""
    value, previous, fmt = card.get("value"), card.get("previous"), card.get("format", "int")
    if previous is None or value is None:
        return pick(lang, "无上期数据", "no previous period")
    delta = float(value) - float(previous)
    arrow = "▲" if delta > 0 else "▼" if delta < 0 else "＝"
    if fmt == "rate":
        step = pick(lang, f"{abs(delta) * 100:.1f} 个百分点", f"{abs(delta) * 100:.1f} pts")
    elif float(previous) != 0:
        step = f"{abs(delta) / abs(float(previous)):.1%}"
    else:
        step = _shown(abs(delta), fmt)
    before = _shown(previous, fmt)
    return pick(lang, f"{arrow} {step}（上期 {before}）", f"{arrow} {step} (previous {before})")


def period_note(rep: dict[str, Any], lang: Lang) -> str | None:
    """What the cards compare: the period and the one of the same length before it."""
    p = rep.get("cards_period") or {}
    if not p.get("from") or not rep.get("cards"):
        return None
    return pick(lang, f"卡片对比：{p['from']} ~ {p['to']}（{p.get('days')} 天）"
                "与其前同样长度的期间",
                f"Cards compare {p['from']} ~ {p['to']} ({p.get('days')} days) with the "
                "period of the same length just before")


def card_lines(kind: str, rep: dict[str, Any], lang: Lang) -> list[list[Any]]:
    """The cards as plain rows (label, value, change) for ports that write a grid."""
    rows: list[list[Any]] = []
    cards = cards_of(kind, rep)
    for start in range(0, len(cards), PER_LINE):
        line = cards[start:start + PER_LINE]
        rows.append([pick(lang, c.get("zh", c["key"]), c.get("en", c["key"])) for c in line])
        rows.append([c.get("value") for c in line])
        rows.append([change_text(c, lang) for c in line])
    note = period_note(rep, lang)
    return rows + ([[note]] if note else [])


def _box(ws: Worksheet, row: int, col: int) -> None:
    for r in range(row, row + 3):
        for c in range(col, col + SPAN):
            cell = ws.cell(row=r, column=c)
            cell.fill = CARD_FILL
            cell.border = Border(left=EDGE if c == col else None,
                                 right=EDGE if c == col + SPAN - 1 else None,
                                 top=EDGE if r == row else None,
                                 bottom=EDGE if r == row + 2 else None)


def write_cards(ws: Worksheet, row: int, kind: str, rep: dict[str, Any], lang: Lang) -> int:
    """Write the cards from ``row`` (three rows per line of cards); returns the next row."""
    cards = cards_of(kind, rep)
    for n, card in enumerate(cards):
        top = row + 4 * (n // PER_LINE)
        col = 1 + SPAN * (n % PER_LINE)
        _box(ws, top, col)
        fmt = str(card.get("format", "int"))
        texts = (pick(lang, str(card.get("zh", card["key"])), str(card.get("en", card["key"]))),
                 card.get("value"), change_text(card, lang))
        for i, (value, font) in enumerate(zip(texts, (LABEL_FONT, VALUE_FONT, CHANGE_FONT),
                                              strict=True)):
            ws.merge_cells(start_row=top + i, start_column=col, end_row=top + i,
                           end_column=col + SPAN - 1)
            cell = ws.cell(row=top + i, column=col, value=value)
            cell.font = font
            cell.alignment = Alignment(horizontal="center", vertical="center")
            if i == 1:
                cell.number_format = FORMATS.get(fmt, "#,##0")
        ws.row_dimensions[top + 1].height = 28
    lines = -(-len(cards) // PER_LINE)
    row += 4 * lines
    note = period_note(rep, lang)
    if note and lines:
        ws.cell(row=row - 1, column=1, value=note).font = CHANGE_FONT
        row += 1
    return row + (1 if lines else 0)
