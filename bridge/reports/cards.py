"""KPI cards: a few headline figures per report, each beside the same figure over the period
of the same length just before (the contract with the report sheets):
``{"key", "zh", "en", "value", "previous", "change", "format"}``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, func, select

from bridge.auth import User
from bridge.db import Database
from bridge.reports._sql import dims, num, ratio, visible
from bridge.reports.facts import Span
from bridge.reports.params import ReportParams
from schema.dictionary import Dictionary

Format = Literal["int", "money", "rate", "days"]
CardSpec = tuple[str, str, str, Format]

OPPORTUNITY_CARDS: list[CardSpec] = [
    ("new_opportunities", "新增商机", "New opportunities", "int"),
    ("won", "赢单数", "Deals won", "int"),
    ("won_amount", "赢单金额", "Won amount", "money"),
    ("win_rate", "赢单率", "Win rate", "rate"),
    ("avg_won", "平均赢单金额", "Average won deal", "money"),
    ("cycle_days", "平均成交周期(天)", "Average days to win", "days"),
]
KPI_CARDS: list[CardSpec] = [
    ("new_customers", "新客户", "New customers", "int"),
    ("orders", "订单数", "Orders", "int"),
    ("order_amount", "订单金额", "Order amount", "money"),
    ("repurchase_rate", "复购率", "Repurchase rate", "rate"),
]
RFM_CARDS: list[CardSpec] = [
    ("customers", "客户数", "Customers", "int"),
    ("champions", "重要价值客户", "Champions (important value)", "int"),
    ("at_risk_share", "流失风险占比", "At-risk share", "rate"),
]
AT_RISK = ("important_keep", "important_retain")

DEFINITIONS_ZH = [
    "指标卡：每个数字旁为上一期（紧挨本期之前、天数相同）的同一数字，变化 = 本期 − 上一期。"
    "漏斗与经营指标的本期为给出的期间，未给出时为截至报表日的最近 12 个自然月。",
    "新增商机 = 期间内开始（创建，或更早的第一条阶段历史）的商机；"
    "赢单数/赢单金额 = 报表日阶段为赢单、且进入赢单的日期（阶段历史）在期间内的商机；"
    "赢单率 = 期间内赢单 ÷（期间内赢单 + 期间内输单）；"
    "平均赢单金额 = 赢单金额 ÷ 赢单数；"
    "平均成交周期 = 这些赢单从开始到进入赢单的平均天数。",
]
DEFINITIONS_EN = [
    "Cards: each figure stands beside the same figure over the period of the same length just "
    "before; change = this period − previous. For the funnel and KPIs the period is the one "
    "given, by default the 12 calendar months up to the as-of date.",
    "New opportunities = started (created, or an earlier first stage-history entry) in the "
    "period; deals won / won amount = opportunities in Won "
    "at the as-of date that entered Won (stage history) in the period; win rate = won in the "
    "period ÷ (won + lost in the period); average won deal = won amount ÷ deals won; average "
    "days to win = the mean days from the start to entering Won of those deals.",
]
RFM_DEFINITIONS_ZH = [
    "指标卡：客户数 = 报表日结束前创建的客户；重要价值客户 = 分群为重要价值的客户数；流失风险占比 ="
    "（重要保持 + 重要挽留）÷ 有购买客户数。上一期 = 报表日提前一个窗口长度（窗口天数相同）。",
]
RFM_DEFINITIONS_EN = [
    "Cards: customers = created before the end of the as-of day; champions = customers in the "
    "Important value segment; at-risk share = (Important to keep + Important to win back) ÷ "
    "buyers. Previous = the as-of date one window length earlier (same window days).",
]


def cards(specs: list[CardSpec], now: dict[str, Any],
          before: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The cards of ``specs``: value from ``now``, previous from ``before``."""
    out = []
    for key, zh, en, fmt in specs:
        value = now.get(key)
        prev = None if before is None else before.get(key)
        change = None if value is None or prev is None else round(value - prev, 4)
        out.append({"key": key, "zh": zh, "en": en, "value": value, "previous": prev,
                    "change": change, "format": fmt})
    return out


def card_span(p: ReportParams) -> Span:
    """The cards' period: the one given, else the KPI default (12 months up to as-of)."""
    start, end = p.kpi_period()
    return Span(start, end)


def _opportunity_columns(f: Any, span: Span, tag: str) -> list[Any]:
    closed = span.holds(f.c.close_at)
    won, lost = and_(f.c.stage == "won", closed), and_(f.c.stage == "lost", closed)
    return [func.count().filter(span.holds(f.c.started_at)).label(f"new_{tag}"),
            func.count().filter(won).label(f"won_{tag}"),
            func.coalesce(func.sum(f.c.amount).filter(won), 0).label(f"amt_{tag}"),
            func.count().filter(lost).label(f"lost_{tag}"),
            func.avg(f.c.cycle_days).filter(won).label(f"cycle_{tag}")]


def _opportunity_figures(r: Any, tag: str) -> dict[str, Any]:
    m = r._mapping
    n_won, amt = int(m[f"won_{tag}"]), m[f"amt_{tag}"]
    return {"new_opportunities": int(m[f"new_{tag}"]), "won": n_won, "won_amount": num(amt),
            "win_rate": ratio(n_won, n_won + int(m[f"lost_{tag}"])),
            "avg_won": ratio(amt, n_won, 2), "cycle_days": num(m[f"cycle_{tag}"])}


def opportunity_cards(conn: Connection, f: Any, span: Span) -> list[dict[str, Any]]:
    """New opportunities, won, won amount, win rate, average won deal and average days to
    win over the facts ``f`` (table or subquery of :mod:`bridge.reports.facts`), for
    ``span`` and the span before it, in one pass."""
    prev = span.previous()
    cols = _opportunity_columns(f, span, "now")
    if prev is not None:
        cols += _opportunity_columns(f, prev, "before")
    r = conn.execute(select(*cols)).one()
    return cards(OPPORTUNITY_CARDS, _opportunity_figures(r, "now"),
                 None if prev is None else _opportunity_figures(r, "before"))


def kpi_figures(conn: Connection, db: Database, dictionary: Dictionary, user: User,
                p: ReportParams, span: Span) -> dict[str, Any]:
    """New customers, orders, order amount and repurchase rate over ``span`` (as the KPI
    report defines them)."""
    from bridge.reports.rfm import ORDER_STATUSES

    assert span.start is not None and span.end is not None
    c, c_ok = visible(user, db, dictionary, "customer", "c")
    o, o_ok = visible(user, db, dictionary, "order", "o")
    new = conn.execute(select(func.count()).where(
        c_ok, dims(c, p), span.holds(c.c.created_at))).scalar_one()
    per = (select(o.c.customer, func.count().label("n"),
                  func.coalesce(func.sum(o.c.amount), 0).label("amt"))
           .where(o_ok, dims(o, p), o.c.status.in_(ORDER_STATUSES),
                  o.c.signed_on >= span.start, o.c.signed_on <= span.end)
           .group_by(o.c.customer).subquery("per"))
    r = conn.execute(select(func.coalesce(func.sum(per.c.n), 0).label("orders"),
                            func.coalesce(func.sum(per.c.amt), 0).label("amt"),
                            func.count().label("buyers"),
                            func.count().filter(per.c.n >= 2).label("repeat"))).one()
    return {"new_customers": int(new), "orders": int(r.orders), "order_amount": num(r.amt),
            "repurchase_rate": ratio(r.repeat, r.buyers)}


def kpi_cards(conn: Connection, db: Database, dictionary: Dictionary, user: User,
              p: ReportParams, span: Span) -> list[dict[str, Any]]:
    prev = span.previous()
    assert prev is not None
    return cards(KPI_CARDS, kpi_figures(conn, db, dictionary, user, p, span),
                 kpi_figures(conn, db, dictionary, user, p, prev))


def rfm_figures(conn: Connection, db: Database, dictionary: Dictionary, user: User,
                p: ReportParams, rel: Any) -> dict[str, Any]:
    """Customers (visible, created by the end of the as-of day), and champions and at-risk
    share over the RFM relation ``rel`` (its buyers are enough)."""
    c, c_ok = visible(user, db, dictionary, "customer", "c")
    n = conn.execute(select(func.count()).where(
        c_ok, dims(c, p), c.c.created_at < p.as_of_end)).scalar_one()
    r = conn.execute(select(
        func.count().filter(rel.c.segment == "important_value").label("champions"),
        func.count().filter(rel.c.segment.in_(AT_RISK)).label("at_risk"),
        func.coalesce(func.sum(rel.c.buyer), 0).label("buyers"))).one()
    return {"customers": int(n), "champions": int(r.champions),
            "at_risk_share": ratio(r.at_risk, r.buyers)}


def rfm_cards(conn: Connection, db: Database, dictionary: Dictionary, user: User,
              p: ReportParams, rel: Any) -> list[dict[str, Any]]:
    """The RFM cards: ``rel`` now, and the buyers of the relation one window earlier."""
    from bridge.reports.rfm import rfm_relation

    earlier = replace(p, as_of=p.as_of - timedelta(days=p.window_days))
    before = rfm_relation(db, dictionary, user, earlier, active_only=True)
    return cards(RFM_CARDS, rfm_figures(conn, db, dictionary, user, p, rel),
                 rfm_figures(conn, db, dictionary, user, earlier, before))

