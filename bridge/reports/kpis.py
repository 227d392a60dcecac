"""Business KPIs: new customers by month and source channel, orders and average order
value, repurchase and churn, the sales leaderboard, customers by region and overdue
follow-ups, aggregated in SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, func, select

from bridge.auth import User
from bridge.db import Database
from bridge.reports import cards as C
from bridge.reports._sql import Sql, dims, num, ratio, table, visible
from bridge.reports.facts import Span, facts_select
from bridge.reports.labels import Labels, header
from bridge.reports.params import ReportParams, day_start_utc
from bridge.reports.rfm import ORDER_STATUSES
from schema.dictionary import Dictionary

OWNER = [("owner", "负责人代码", "Owner code"), ("owner_zh", "负责人", "Owner"),
         ("owner_en", "负责人(英)", "Owner (en)")]
DEFINITIONS_ZH = [
    "期间：[开始日期, 结束日期]（北京时间日历日，含两端）；"
    "未指定时为截至报表日的最近 12 个自然月。",
    "订单：状态为“已签约”或“已履约”、签约日期在期间内的合同订单；金额为合同金额。",
    "新客户：创建时间（北京时间）在期间内的客户，按创建月份和来源渠道统计。",
    "客单价 = 期间订单金额合计 ÷ 期间订单数。",
    "复购率 = 期间内有 2 张及以上订单的客户数 ÷ 期间内有订单的客户数。",
    "流失率 = 上一期（紧挨本期之前、天数相同）有订单、本期没有订单的客户数 ÷ "
    "上一期有订单的客户数。",
    "销售排行：按订单负责人统计期间订单数、金额、成交客户数，按金额降序。",
    "区域客户：按客户区域统计客户数，以及期间新客户数、期间有订单的客户数。",
    "逾期跟进：下次跟进日期早于报表日、且阶段不是赢单或输单的商机；"
    "逾期天数 = 报表日 − 下次跟进日期。"
    "明细默认完整列出（上限由 limit 参数给出，最多 1,000,000 行）。",
    "产品线筛选作用于订单和商机（订单金额、排行、复购、流失、逾期跟进）；客户没有单一产品线，"
    "新客户与区域客户不按产品线筛选。",
]
DEFINITIONS_EN = [
    "Period: [from, to] in local (Beijing-time) days, both included; by default the 12 "
    "calendar months up to the as-of date.",
    "Orders: contracts with status Signed or Fulfilled signed within the period; amount is the "
    "contract amount.",
    "New customers: customers created (Beijing time) within the period, by month of creation "
    "and source channel.",
    "Average order value = order amount in the period ÷ orders in the period.",
    "Repurchase rate = customers with 2 or more orders in the period ÷ customers with an order "
    "in the period.",
    "Churn rate = customers with an order in the previous window (the same number of days just "
    "before the period) and none in the period ÷ customers with an order in the previous "
    "window.",
    "Leaderboard: per order owner, orders, amount and customers in the period, by amount "
    "descending.",
    "Customers by region: customers per customer region, with new customers and customers "
    "with an order in the period.",
    "Overdue follow-ups: opportunities whose next follow-up date is before the as-of date and "
    "whose stage is neither Won nor Lost; days overdue = as-of − next follow-up date. The list "
    "is complete by default (the limit parameter caps it, at most 1,000,000 rows).",
    "The product line filter applies to orders and opportunities (order figures, leaderboard, "
    "repurchase, churn, overdue follow-ups); customers have no single product line, so new "
    "customers and customers by region are not filtered by it.",
]


def kpis(db: Database, dictionary: Dictionary, user: User, p: ReportParams) -> dict[str, Any]:
    with db.read() as conn:
        return _kpis(conn, db, dictionary, user, p)


def _kpis(conn: Connection, db: Database, dictionary: Dictionary, user: User,
          p: ReportParams) -> dict[str, Any]:
    sql = Sql(db.dialect)
    pf, pt = p.kpi_period()
    length = (pt - pf).days + 1
    prev_from, prev_to = pf - timedelta(days=length), pf - timedelta(days=1)
    t0, t1 = day_start_utc(pf), day_start_utc(pt + timedelta(days=1))
    c, c_ok = visible(user, db, dictionary, "customer", "c")
    o, o_ok = visible(user, db, dictionary, "order", "o")
    opp, opp_ok = visible(user, db, dictionary, "opportunity", "opp")
    enums = dictionary.enums

    # new customers by month x channel
    month = sql.local_month(c.c.created_at)
    newc = conn.execute(
        select(month.label("month"), c.c.source_channel, func.count().label("n"))
        .where(c_ok, dims(c, p), c.c.created_at >= t0, c.c.created_at < t1)
        .group_by(month, c.c.source_channel)).all()
    channels = enums["source_channel"].values
    ch_index = {v.code: i for i, v in enumerate(channels)}
    new_by_month: dict[str, list[int]] = defaultdict(lambda: [0] * (len(channels) + 1))
    for r in newc:
        i = ch_index.get(r.source_channel, len(channels))
        new_by_month[r.month][i] += int(r.n)
    new_rows = [[m, *v, sum(v)] for m, v in sorted(new_by_month.items())]

    # orders by month: count, amount, AOV
    in_period = (o.c.signed_on >= pf, o.c.signed_on <= pt)
    ords = [o_ok, dims(o, p), o.c.status.in_(ORDER_STATUSES)]
    om = sql.date_month(o.c.signed_on)
    month_rows = [[r.month, int(r.n), num(r.amt), ratio(r.amt, r.n, 2)] for r in conn.execute(
        select(om.label("month"), func.count().label("n"),
               func.coalesce(func.sum(o.c.amount), 0).label("amt"))
        .where(*ords, *in_period).group_by(om).order_by(om))]
    n_orders = sum(r[1] for r in month_rows)
    amount = round(sum(r[2] for r in month_rows), 2)

    # repurchase and churn: one pass over orders of the previous window and the period
    cur = case((o.c.signed_on >= pf, 1), else_=0)
    prev = case((o.c.signed_on <= prev_to, 1), else_=0)
    per_c = (select(o.c.customer, func.sum(cur).label("cur"), func.sum(prev).label("prev"))
             .where(*ords, o.c.signed_on >= prev_from, o.c.signed_on <= pt)
             .group_by(o.c.customer).subquery("pc"))
    rc = conn.execute(select(
        func.coalesce(func.sum(case((per_c.c.cur > 0, 1), else_=0)), 0).label("buyers"),
        func.coalesce(func.sum(case((per_c.c.cur >= 2, 1), else_=0)), 0).label("repeat"),
        func.coalesce(func.sum(case((per_c.c.prev > 0, 1), else_=0)), 0).label("prev"),
        func.coalesce(func.sum(case(((per_c.c.prev > 0) & (per_c.c.cur == 0), 1), else_=0)),
                      0).label("churned"))).one()

    # leaderboard by order owner
    lead = conn.execute(
        select(o.c.owner, func.count().label("n"),
               func.coalesce(func.sum(o.c.amount), 0).label("amt"),
               func.count(func.distinct(o.c.customer)).label("cust"))
        .where(*ords, *in_period).group_by(o.c.owner)
        .order_by(func.sum(o.c.amount).desc(), o.c.owner).limit(p.limit)).all()
    labels = Labels.load(conn, db, dictionary)
    lead_rows = [[i + 1, r.owner, *labels.pair("owner", r.owner), int(r.n), num(r.amt),
                  int(r.cust), ratio(r.amt, r.n, 2)] for i, r in enumerate(lead)]

    # customers by region
    buyers_q = select(o.c.customer).where(*ords, *in_period)
    reg = conn.execute(
        select(c.c.region, func.count().label("n"),
               func.sum(case(((c.c.created_at >= t0) & (c.c.created_at < t1), 1),
                             else_=0)).label("new"),
               func.sum(case((c.c.id.in_(buyers_q), 1), else_=0)).label("buyers"))
        .where(c_ok, dims(c, p)).group_by(c.c.region)
        .order_by(func.count().desc(), c.c.region)).all()
    rlab = {v.code: (v.zh, v.en) for v in enums["region"].values}
    reg_rows = [[r.region, *(rlab.get(r.region) or ("（未填）", "(blank)")), int(r.n),
                 int(r.new or 0), int(r.buyers or 0)] for r in reg]

    # overdue follow-ups
    od = [opp_ok, dims(opp, p), opp.c.next_followup_date < p.as_of,
          opp.c.stage.notin_(("won", "lost"))]
    days_over = sql.days_before(p.as_of, opp.c.next_followup_date)
    od_owner = conn.execute(
        select(opp.c.owner, func.count().label("n"),
               func.coalesce(func.sum(opp.c.amount), 0).label("amt"),
               func.max(days_over).label("max_days"))
        .where(*od).group_by(opp.c.owner).order_by(func.count().desc(), opp.c.owner)).all()
    cu = db.table("crm_customer").alias("cu")
    od_list = conn.execute(
        select(opp.c.id, opp.c.name, cu.c.name.label("customer"), opp.c.owner, opp.c.stage,
               opp.c.amount, opp.c.next_followup_date, days_over.label("days"),
               opp.c.next_followup_plan)
        .select_from(opp.outerjoin(cu, cu.c.id == opp.c.customer)).where(*od)
        .order_by(opp.c.next_followup_date, opp.c.id).limit(p.limit)).all()
    od_rows = [[r.id, r.name, r.customer, r.owner, *labels.pair("owner", r.owner), r.stage,
                *labels.pair("stage", r.stage), num(r.amount),
                r.next_followup_date.isoformat() if hasattr(r.next_followup_date, "isoformat")
                else r.next_followup_date, int(r.days), r.next_followup_plan] for r in od_list]
    n_overdue = sum(int(r.n) for r in od_owner)

    tables = {
        "new_customers": table("new_customers", "新客户（按月、来源渠道）",
                               "New customers by month and source channel", [
            ("month", "月份", "Month"), *[(v.code, v.zh, v.en) for v in channels],
            ("blank", "未填", "(blank)"), ("total", "合计", "Total")], new_rows),
        "orders_by_month": table("orders_by_month", "订单（按月）", "Orders by month", [
            ("month", "月份", "Month"), ("orders", "订单数", "Orders"),
            ("amount", "金额(元)", "Amount (CNY)"), ("aov", "客单价", "Avg order value")],
            month_rows),
        "leaderboard": table("leaderboard", "销售排行", "Sales leaderboard", [
            ("rank", "名次", "Rank"), *OWNER, ("orders", "订单数", "Orders"),
            ("amount", "金额(元)", "Amount (CNY)"), ("customers", "成交客户", "Customers"),
            ("aov", "客单价", "Avg order value")], lead_rows),
        "customers_by_region": table("customers_by_region", "区域客户", "Customers by region", [
            ("region", "区域代码", "Region code"), ("region_zh", "区域", "Region"),
            ("region_en", "区域(英)", "Region (en)"), ("customers", "客户数", "Customers"),
            ("new", "期间新客户", "New in period"), ("buyers", "期间有订单", "Bought in period")],
            reg_rows),
        "overdue_by_owner": table("overdue_by_owner", "逾期跟进（按负责人）",
                                  "Overdue follow-ups by owner", [
            *OWNER, ("count", "逾期商机", "Overdue"),
            ("amount", "金额(元)", "Amount (CNY)"), ("max_days", "最长逾期天数", "Max days over")],
            [[r.owner, *labels.pair("owner", r.owner), int(r.n), num(r.amt), int(r.max_days)]
             for r in od_owner]),
        "overdue": table("overdue", "逾期跟进明细", "Overdue follow-ups", [
            ("id", "商机编号", "Opportunity id"), ("name", "商机", "Opportunity"),
            ("customer", "客户", "Customer"), *OWNER, ("stage", "阶段代码", "Stage code"),
            ("stage_zh", "阶段", "Stage"), ("stage_en", "阶段(英)", "Stage (en)"),
            ("amount", "金额(元)", "Amount (CNY)"),
            ("next_followup_date", "下次跟进日期", "Next follow-up"),
            ("days_overdue", "逾期天数", "Days overdue"), ("plan", "跟进计划", "Plan")], od_rows,
            total=n_overdue, truncated=n_overdue > len(od_rows)),
    }
    span = Span(pf, pt)
    return {
        "report": "kpis", "as_of": p.as_of.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **header("kpis", p, labels), "user": user.username,
        "cards_period": span.echo(),
        "cards": [*C.kpi_cards(conn, db, dictionary, user, p, span),
                  *C.opportunity_cards(conn, facts_select(db, dictionary, user, p)
                                       .subquery("facts"), span)],
        "period": {"from": pf.isoformat(), "to": pt.isoformat(), "days": length,
                   "previous_from": prev_from.isoformat(), "previous_to": prev_to.isoformat()},
        "summary": {
            "new_customers": sum(r[-1] for r in new_rows), "orders": n_orders,
            "amount": amount, "avg_order_value": ratio(amount, n_orders, 2),
            "buyers": int(rc.buyers), "repeat_buyers": int(rc.repeat),
            "repurchase_rate": ratio(rc.repeat, rc.buyers),
            "previous_buyers": int(rc.prev), "churned": int(rc.churned),
            "churn_rate": ratio(rc.churned, rc.prev), "overdue_followups": n_overdue},
        "definitions": {"zh": [*DEFINITIONS_ZH, *C.DEFINITIONS_ZH],
                        "en": [*DEFINITIONS_EN, *C.DEFINITIONS_EN]},
        "tables": tables,
    }
