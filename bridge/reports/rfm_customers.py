"""The RFM customer list: one row per customer (buyers first, by net amount), every code
with its labels beside it (owner's display name, region, segment, rule segment, value tier);
complete up to the ``limit`` (the table says ``total`` and ``truncated``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from bridge.reports import rules as R
from bridge.reports._sql import num, table
from bridge.reports.labels import Labels

NO_RULE = ("（未匹配）", "(no rule matched)")
TIERS = "value_tier"


def _labelled(key: str, zh: str, en: str) -> list[tuple[str, str, str]]:
    """A code column and its two label columns."""
    return [(key, f"{zh}代码", f"{en} code"), (f"{key}_zh", zh, en),
            (f"{key}_en", f"{zh}(英)", f"{en} (en)")]


def _columns(with_rules: bool) -> list[tuple[str, str, str]]:
    rule = _labelled("rule_segment", "规则分群", "Rule segment") if with_rules else []
    return [("id", "客户编号", "Customer id"), ("name", "客户", "Customer"),
            *_labelled("owner", "负责人", "Owner"), *_labelled("region", "区域", "Region"),
            ("recency_days", "R(天)", "R (days)"), ("frequency", "F(单)", "F (orders)"),
            ("gross", "订单金额(元)", "Order amount (CNY)"),
            ("refunds", "退款及红字(元)", "Refunds and credit notes (CNY)"),
            ("monetary", "M(元)", "M (CNY)"), ("r_score", "R分", "R score"),
            ("f_score", "F分", "F score"), ("m_score", "M分", "M score"),
            *_labelled("segment", "客户分群", "Segment"), *rule,
            *_labelled("value_tier", "价值分层(当前)", "Value tier (now)"),
            *_labelled("value_tier_rules", "价值分层(按规则)", "Value tier (rules)")]


def customer_table(conn: Connection, rel: Any, seg_col: Any | None,
                   rules: dict[str, list[dict[str, Any]]], labels: Labels, limit: int,
                   total: int) -> dict[str, Any]:
    """``customers``: the rule segment columns only when a segment rule exists
    (``seg_col``); a customer no rule matches says so."""
    from bridge.reports.rfm import SEGMENT_LABEL

    tier_rule = R.rule_case(rules.get(TIERS, []), rel.c)
    tier_col = (tier_rule if tier_rule is not None else rel.c.cur_value_tier).label("tier_new")
    seg_names = {r["value"]: (r["label_zh"] or r["value"], r["label_en"] or r["value"])
                 for r in rules.get(R.SEGMENT_TARGET, [])}
    cols = [rel.c.id, rel.c.name, rel.c.owner, rel.c.region, rel.c.recency_days,
            rel.c.frequency, rel.c.gross, rel.c.refunds, rel.c.monetary, rel.c.r_score,
            rel.c.f_score, rel.c.m_score, rel.c.segment, rel.c.cur_value_tier, tier_col]
    if seg_col is not None:
        cols.append(seg_col)
    rows = []
    for r in conn.execute(select(*cols).order_by(rel.c.buyer.desc(), rel.c.monetary.desc(),
                                                 rel.c.id).limit(limit)):
        rule: list[Any] = []
        if seg_col is not None:
            rule = [r.rule_segment, *(seg_names.get(r.rule_segment, (r.rule_segment,) * 2)
                                      if r.rule_segment is not None else NO_RULE)]
        rows.append([r.id, r.name, r.owner, *labels.pair("owner", r.owner), r.region,
                     *labels.pair("region", r.region), r.recency_days, int(r.frequency),
                     num(r.gross), num(r.refunds), num(r.monetary), r.r_score, r.f_score,
                     r.m_score, r.segment, *SEGMENT_LABEL[r.segment], *rule,
                     r.cur_value_tier, *labels.pair(TIERS, r.cur_value_tier),
                     r.tier_new, *labels.pair(TIERS, r.tier_new)])
    return table("customers", "客户明细", "Customers", _columns(seg_col is not None), rows,
                 total=total, truncated=total > len(rows))
