"""RFM: recency, frequency and monetary per customer over a window, quintile scores, the
eight classic segments and admin rule labels, computed in SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.types import NullType

from bridge.auth import User
from bridge.db import Database
from bridge.reports import cards as C
from bridge.reports import rules as R
from bridge.reports._sql import Sql, dims, materialize, num, ratio, table, tune, visible
from bridge.reports.labels import Labels, header
from bridge.reports.params import ReportParams
from bridge.reports.rfm_customers import customer_table
from schema.dictionary import Dictionary
from schema.sql import table_name

ORDER_STATUSES = ("signed", "fulfilled")
# code, zh, en, (R above mean, F above mean, M above mean)
SEGMENTS: list[tuple[str, str, str, tuple[bool, bool, bool] | None]] = [
    ("important_value", "重要价值客户", "Important value", (True, True, True)),
    ("important_develop", "重要发展客户", "Important to develop", (True, False, True)),
    ("important_keep", "重要保持客户", "Important to keep", (False, True, True)),
    ("important_retain", "重要挽留客户", "Important to win back", (False, False, True)),
    ("general_value", "一般价值客户", "General value", (True, True, False)),
    ("general_develop", "一般发展客户", "General to develop", (True, False, False)),
    ("general_keep", "一般保持客户", "General to keep", (False, True, False)),
    ("general_retain", "一般挽留客户", "General to win back", (False, False, False)),
    ("no_purchase", "无购买", "No purchase", None),
]
SEGMENT_LABEL = {c: (z, e) for c, z, e, _ in SEGMENTS}

DEFINITIONS_ZH = [
    "窗口：截至报表日（含）的 N 天（北京时间日历日），即 [报表日−N+1, 报表日]。",
    "订单：状态为“已签约”或“已履约”、签约日期在窗口内、未删除的合同订单（每张订单计一次）；"
    "草拟和已取消的不算。",
    "R（最近购买天数）= 报表日 − 窗口内最后一张订单的签约日期（天）；天数越少越好。",
    "F（频次）= 窗口内不同订单的张数。",
    "M（金额）= 窗口内订单金额合计 − 窗口内退款（回款类型=退款，按到账日期）− 窗口内红字发票"
    "（按开票日期）；退款和红字发票只减少金额，不算订单，净额可能为负。"
    "退款和红字发票计入其所填客户（未填客户时为其合同的客户）。",
    "评分（1-5，默认 rank 法）：在有购买的客户中按“好坏”升序排名（R 按天数降序，F、M 按数值升序），"
    "分数 = 1 + ⌊5×(名次−1)/人数⌋，名次取 RANK()：数值相同的客户名次相同、分数相同（取较低分）。"
    "ntile 法：NTILE(5)，数值相同时按客户编号升序拆分。",
    "八类客户：把每位有购买客户的 R、F、M 与有购买客户的平均值比较；R“高”指天数严格小于平均值，"
    "F、M“高”指严格大于平均值（等于平均值算“低”）。"
    "R高F高M高=重要价值，R高F低M高=重要发展，R低F高M高=重要保持，R低F低M高=重要挽留，"
    "R高F高M低=一般价值，R高F低M低=一般发展，R低F高M低=一般保持，R低F低M低=一般挽留。",
    "窗口内没有订单的客户列为“无购买”，不评分，不参与平均值和排名。"
    "窗口内的退款和红字发票即使对应窗口前签约的订单也计入该客户，因此“无购买”客户的净金额可能为负；"
    "分群表分列订单金额、退款及红字、净金额（= 订单金额 − 退款及红字）。",
    "规则分群：管理员在“标签规则”中定义的条件（指标 比较符 数值，多个条件须同时满足），"
    "按优先级从高到低匹配，第一条命中的规则给出标签；没有命中的客户显示“未匹配”。"
    "没有任何分群规则时，客户明细不含规则分群列。",
]
DEFINITIONS_EN = [
    "Window: the N local (Beijing-time) days ending on the as-of date, [as-of − N + 1, as-of].",
    "Order: a contract (crm_order) with status Signed or Fulfilled, signed within the window, "
    "not deleted; each order counts once. Drafts and cancelled orders do not count.",
    "R (recency) = as-of date − signing date of the customer's last order in the window, in "
    "days; fewer days is better.",
    "F (frequency) = number of distinct orders in the window.",
    "M (monetary) = order amounts in the window − refunds (payments of kind Refund, by paid "
    "date) − credit notes (invoices of kind Credit note, by issue date) in the window. Refunds "
    "and credit notes reduce M but are not orders; M can be negative. A refund or credit "
    "note counts for the customer it names (else its order's customer).",
    "Scores (1-5, default method rank): among customers who bought, rank by goodness ascending "
    "(R by days descending, F and M by value ascending); score = 1 + floor(5 × (rank − 1) / "
    "buyers) with RANK(), so equal values share a rank and a score (the lower one). Method "
    "ntile: NTILE(5), equal values split by customer id ascending.",
    "Eight segments: each buyer's R, F, M is compared with the mean over buyers. R is high "
    "when its days are strictly below the mean; F and M are high when strictly above the mean "
    "(equal to the mean counts as low). RFM high/high/high = important value, H/L/H = "
    "important to develop, L/H/H = important to keep, L/L/H = important to win back, H/H/L = "
    "general value, H/L/L = general to develop, L/H/L = general to keep, L/L/L = general to "
    "win back.",
    "Customers without an order in the window are listed as No purchase, with no scores, and "
    "take no part in the means and ranks. Refunds and credit notes in the window count even "
    "when their order was signed before the window, so a No purchase customer's net amount "
    "can be negative; the segments table shows the order amount, the refunds and credit "
    "notes, and the net amount (= order amount − refunds and credit notes) side by side.",
    "Rule segments: the admin's tag rules (metric operator number; all clauses must hold), "
    "tried by priority (highest first); the first matching rule gives the label, and a "
    "customer no rule matches reads \"no rule matched\". Without any segment rule the "
    "customer list has no rule segment column.",
]


def rfm_relation(db: Database, dictionary: Dictionary, user: User, p: ReportParams,
                 extra: tuple[str, ...] = (), active_only: bool = False) -> Any:
    """Per visible customer: recency_days, frequency, monetary, r/f/m_score, segment (plus
    ``cur_<field>`` for each customer field in ``extra``), as a subquery; ``active_only``:
    only the customers with an order or a refund in the window (the buyers' figures)."""
    sql = Sql(db.dialect)
    c, c_ok = visible(user, db, dictionary, "customer", "c")
    cb, cb_ok = visible(user, db, dictionary, "customer", "cb")
    o, o_ok = visible(user, db, dictionary, "order", "o")
    lo, hi = p.window_start, p.as_of
    adj = _adjustments(db, dictionary, user, p)
    # One pass over the orders: per customer, the window's orders (F, last date, gross),
    # with the refunds/credits tied to the customer (directly or through a live order).
    counted = and_(o_ok, o.c.status.in_(ORDER_STATUSES), o.c.signed_on >= lo,
                   o.c.signed_on <= hi)
    cust_id = sql.unindexed(o.c.customer)
    activity = union_all(
        select(cust_id.label("cid"), literal(1, Integer).label("n"),
               o.c.signed_on.label("signed_on"), o.c.amount.label("gross"),
               literal(0, Integer).label("adj")).where(o.c.deleted.is_(False), counted),
        select(adj.c.cid, literal(0, Integer), null(), literal(0, Integer),
               adj.c.amt)).subquery("activity")
    a = activity.c
    gross = func.coalesce(func.sum(a.gross), 0)
    refunds = func.coalesce(func.sum(a.adj), 0)
    per_cust = (select(a.cid, func.sum(a.n).label("freq"), func.max(a.signed_on).label("last_on"),
                       gross.label("gross"), refunds.label("refunds"),
                       (gross - refunds).label("monetary"))
                .group_by(a.cid).cte("per_cust"))
    # Metrics, scores and means over the visible customers with any order activity only
    # (narrow rows, usually far fewer than the customers), then joined once to every
    # visible customer.
    freq = cast(per_cust.c.freq, Integer)
    metrics = (select(per_cust.c.cid, freq.label("frequency"),
                      case((freq > 0, sql.days_before(hi, per_cust.c.last_on)), else_=None)
                      .label("recency_days"), per_cust.c.gross, per_cust.c.refunds,
                      per_cust.c.monetary,
                      case((freq > 0, 1), else_=0).label("buyer"))
               .select_from(per_cust.join(cb, cb.c.id == per_cust.c.cid))
               .where(cb_ok, dims(cb, p)).cte("metrics"))
    m = metrics.c

    def score(*order_by: Any) -> Any:
        s: Any
        if p.score_method == "ntile":
            s = func.ntile(5).over(partition_by=m.buyer, order_by=(*order_by, m.cid))
        else:
            rank = func.rank().over(partition_by=m.buyer, order_by=order_by)
            s = 1 + (5 * (rank - 1)) // func.count().over(partition_by=m.buyer)
        return case((m.buyer == 1, s), else_=None)

    scored_m = select(*m, score(m.recency_days.desc()).label("r_score"),
                      score(m.frequency.asc()).label("f_score"),
                      score(m.monetary.asc()).label("m_score")).cte("scored_m")
    means = (select(func.avg(cast(m.recency_days, Float)).label("mean_r"),
                    func.avg(cast(m.frequency, Float)).label("mean_f"),
                    func.avg(cast(m.monetary, Float)).label("mean_m"))
             .where(m.buyer == 1).subquery("means"))
    sm = scored_m.c
    cust = [c.c.id, c.c.name, c.c.owner, c.c.team, c.c.region, c.c.version,
            *[c.c[f].label(f"cur_{f}") for f in extra]]
    # customers with activity (found by primary key), then all other visible customers (no
    # join: SQLite would scan the scored rows once per customer)
    active = (select(*cust, sm.frequency, sm.recency_days, sm.gross, sm.refunds, sm.monetary,
                     sm.buyer,
                     sm.r_score, sm.f_score, sm.m_score)
              .select_from(scored_m.join(c, c.c.id == sm.cid)).where(c_ok, dims(c, p)))
    none_i = literal(None, Integer)
    zero = literal(0, Integer)
    idle = (select(*cust, zero.label("frequency"), none_i.label("recency_days"),
                   zero.label("gross"), zero.label("refunds"), zero.label("monetary"),
                   zero.label("buyer"),
                   none_i.label("r_score"), none_i.label("f_score"), none_i.label("m_score"))
            .where(c_ok, dims(c, p), c.c.id.notin_(select(m.cid).where(m.cid.isnot(None)))))
    every = (active if active_only else union_all(active, idle)).subquery("every")
    scored = (select(*every.c, means.c.mean_r, means.c.mean_f, means.c.mean_m)
              .select_from(every.outerjoin(means, true())).subquery("scored"))
    s = scored.c
    rh, fh, mh = s.recency_days < s.mean_r, s.frequency > s.mean_f, s.monetary > s.mean_m
    whens: list[Any] = [(s.buyer == 0, literal("no_purchase"))]
    for code, _, _, hml in SEGMENTS:
        if hml is not None:
            whens.append((and_(*[x if high else ~x for x, high in zip((rh, fh, mh), hml,
                                                                       strict=True)]),
                          literal(code)))
    return select(*s, case(*whens, else_=literal("general_retain")).label("segment")
                  ).subquery("rfm")


def _adjustments(db: Database, dictionary: Dictionary, user: User, p: ReportParams) -> Any:
    """Refunds (by paid date) and credit notes (by issue date) in the window, as (customer,
    amount) rows: a row's own customer, else its order's (a row written around the push
    engine may lack it); one tied to an order counts while that order is live."""
    pay, pay_ok = visible(user, db, dictionary, "payment", "pay")
    inv, inv_ok = visible(user, db, dictionary, "invoice", "inv")
    lo, hi = p.window_start, p.as_of
    parts = []
    for t, ok, kind, day in ((pay, pay_ok, "refund", "paid_on"),
                             (inv, inv_ok, "credit_note", "issued_on")):
        o = db.table(table_name("order")).alias(f"{t.name}_o")
        parts.append(select(func.coalesce(t.c.customer, o.c.customer).label("cid"),
                            t.c.amount.label("amt"))
                     .select_from(t.outerjoin(o, o.c.id == t.c.order))
                     .where(ok, t.c.kind == kind, t.c[day] >= lo, t.c[day] <= hi,
                            or_(t.c.order.is_(None), o.c.deleted.is_(False))))
    return union_all(*parts).subquery("adj")


def _materialized(conn: Connection, rel: Any) -> Any:
    """The RFM relation computed once into a temporary table (all summaries read it)."""
    cols = []
    for c in rel.c:
        typ = c.type
        if c.name in ("recency_days", "frequency", "buyer", "r_score", "f_score", "m_score",
                        "version"):
            typ = Integer()
        elif c.name in ("monetary", "gross", "refunds"):
            typ = Numeric(18, 2, asdecimal=False)
        elif c.name.startswith("mean_"):
            typ = Float()
        elif isinstance(typ, NullType):
            typ = String(100)
        cols.append(Column(c.name, typ))
    return materialize(conn, "tmp_rfm", select(*rel.c), cols)


def rfm(db: Database, dictionary: Dictionary, user: User, p: ReportParams) -> dict[str, Any]:
    with db.read() as conn:
        tune(conn)
        return _rfm(conn, db, dictionary, user, p)


def _rfm(conn: Connection, db: Database, dictionary: Dictionary, user: User,
         p: ReportParams) -> dict[str, Any]:
    rules = R.by_target(R.list_rules(db, conn, active_only=True))
    field_targets = [t for t in rules if t != R.SEGMENT_TARGET]
    rel = _materialized(conn, rfm_relation(db, dictionary, user, p, extra=tuple(
        dict.fromkeys(("value_tier", *field_targets)))))
    seg_rule = R.rule_case(rules.get(R.SEGMENT_TARGET, []), rel.c)
    seg_col = (seg_rule if seg_rule is not None else literal(None)).label("rule_segment")
    tot = _totals(conn, rel)
    seg_rows = _segment_rows(conn, rel, int(tot.n))
    dist_rows = _score_rows(conn, rel)
    rule_rows = [] if seg_rule is None else _rule_segment_rows(
        conn, seg_col, rel, rules[R.SEGMENT_TARGET])
    labels = Labels.load(conn, db, dictionary)
    customers = customer_table(conn, rel, seg_col if seg_rule is not None else None, rules,
                               labels, p.limit, int(tot.n))
    rep = _answer(p, user, tot, seg_rows, dist_rows, rule_rows, customers)
    return {**rep, **header("rfm", p, labels),
            "cards": C.rfm_cards(conn, db, dictionary, user, p, rel)}


def _totals(conn: Connection, rel: Any) -> Any:
    """Customers, buyers, net amount and the mean R, F and M of the relation."""
    return conn.execute(select(
        func.count().label("n"), func.coalesce(func.sum(rel.c.buyer), 0).label("buyers"),
        func.coalesce(func.sum(rel.c.monetary), 0).label("m_sum"),
        func.max(rel.c.mean_r).label("mean_r"), func.max(rel.c.mean_f).label("mean_f"),
        func.max(rel.c.mean_m).label("mean_m"))).one()


def _segment_rows(conn: Connection, rel: Any, customers: int) -> list[list[Any]]:
    """One row per classic segment (9 at most), in the order of ``SEGMENTS``."""
    seg = {r.segment: r for r in conn.execute(
        select(rel.c.segment, func.count().label("n"),
               func.coalesce(func.sum(rel.c.monetary), 0).label("m_sum"),
               func.coalesce(func.sum(rel.c.gross), 0).label("gross"),
               func.coalesce(func.sum(rel.c.refunds), 0).label("refunds"),
               func.avg(cast(rel.c.recency_days, Float)).label("r_avg"),
               func.avg(cast(rel.c.frequency, Float)).label("f_avg"),
               func.avg(cast(rel.c.monetary, Float)).label("m_avg"))
        .group_by(rel.c.segment))}
    rows = []
    for code, zh, en, _ in SEGMENTS:
        sr = seg.get(code)
        n = int(sr.n) if sr else 0
        rows.append([code, zh, en, n, ratio(n, customers), num(sr.gross) if sr else 0.0,
                     num(sr.refunds) if sr else 0.0, num(sr.m_sum) if sr else 0.0,
                     num(sr.r_avg) if sr else None, num(sr.f_avg) if sr else None,
                     num(sr.m_avg) if sr else None])
    return rows


def _score_rows(conn: Connection, rel: Any) -> list[list[int]]:
    """How many customers have each R, F and M score (15 counts in one pass)."""
    dist = conn.execute(select(*[
        func.coalesce(func.sum(case((rel.c[f"{k}_score"] == v, 1), else_=0)), 0)
        for k in ("r", "f", "m") for v in range(1, 6)])).one()
    return [[v, int(dist[v - 1]), int(dist[4 + v]), int(dist[9 + v])] for v in range(1, 6)]


def _rule_segment_rows(conn: Connection, seg_col: Any, rel: Any,
                       segment_rules: list[dict[str, Any]]) -> list[list[Any]]:
    """Customers and net amount per admin rule segment, the largest first."""
    sub = select(seg_col, rel.c.monetary).subquery("rs")
    labels = {r["value"]: r for r in segment_rules}
    rows = []
    for r in conn.execute(select(sub.c.rule_segment, func.count().label("n"),
                                 func.coalesce(func.sum(sub.c.monetary), 0).label("m"))
                          .group_by(sub.c.rule_segment)
                          .order_by(func.count().desc(), sub.c.rule_segment)):
        lab = labels.get(r.rule_segment)
        rows.append([r.rule_segment, lab["label_zh"] if lab else "（未匹配）",
                     lab["label_en"] if lab else "(no rule matched)", int(r.n), num(r.m)])
    return rows




def _answer(p: ReportParams, user: User, tot: Any, seg_rows: list[list[Any]],
            dist_rows: list[list[int]], rule_rows: list[list[Any]],
            customers: dict[str, Any]) -> dict[str, Any]:
    """The report's JSON: its tables, summary and definitions."""
    buyers = int(tot.buyers)
    tables = {
        "segments": table("segments", "RFM 八类客户", "RFM segments", [
            ("segment", "分群代码", "Segment code"), ("segment_zh", "客户分群", "Segment"),
            ("segment_en", "客户分群(英)", "Segment (en)"), ("customers", "客户数", "Customers"),
            ("share", "占比", "Share"), ("gross", "订单金额合计", "Order amount"),
            ("refunds", "退款及红字合计", "Refunds and credit notes"),
            ("monetary", "净金额合计", "Net amount"),
            ("avg_recency", "平均R(天)", "Avg R (days)"), ("avg_frequency", "平均F", "Avg F"),
            ("avg_monetary", "平均M", "Avg M")], seg_rows),
        "scores": table("scores", "R/F/M 分数分布", "Score distribution", [
            ("score", "分数", "Score"), ("r", "R 客户数", "R customers"),
            ("f", "F 客户数", "F customers"), ("m", "M 客户数", "M customers")], dist_rows),
        "customers": customers,
    }
    if rule_rows:
        tables["rule_segments"] = table("rule_segments", "规则分群", "Rule segments", [
            ("value", "标签代码", "Label code"), ("value_zh", "标签", "Label"),
            ("value_en", "标签(英)", "Label (en)"),
            ("customers", "客户数", "Customers"), ("monetary", "净金额合计", "Net amount")],
            rule_rows)
    return {
        "report": "rfm", "as_of": p.as_of.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user.username,
        "window": {"from": p.window_start.isoformat(), "to": p.as_of.isoformat(),
                   "days": p.window_days},
        "summary": {"customers": int(tot.n), "buyers": buyers,
                    "no_purchase": int(tot.n) - buyers, "monetary": num(tot.m_sum),
                    "mean_recency_days": num(tot.mean_r, 4), "mean_frequency": num(tot.mean_f, 4),
                    "mean_monetary": num(tot.mean_m, 4)},
        "definitions": {"zh": [*DEFINITIONS_ZH, *C.RFM_DEFINITIONS_ZH],
                        "en": [*DEFINITIONS_EN, *C.RFM_DEFINITIONS_EN]},
        "tables": tables,
    }
