"""The funnel's breakdowns of closed deals over the per-opportunity facts: won count and
amount (and lost, win rate) by close month, product line, industry, owner, team and region;
the sales cycle (days from created to won and to lost: count, average, median) by product
line; the cohort funnel (opportunities created in a month and where they are now)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Float, and_, case, cast, func, select

from bridge.reports._sql import num, ratio, table
from bridge.reports.facts import Span
from bridge.reports.labels import Labels
from schema.dictionary import Dictionary

DEFINITIONS_ZH = [
    "已结束 = 赢单 + 输单（阶段快照）；转化表中“全部商机→已结束”= 已结束 ÷ 商机数，"
    "“已结束→赢单”= 赢单 ÷ 已结束（即赢单率）。",
    "成交日期：商机在阶段历史中进入其最终阶段（赢单或输单）的北京时间日期；报表日阶段为赢单的商机计为赢单。"
    "无阶段历史的商机没有成交日期（计入“无成交日期”，不计周期）。",
    "赢单分析（按成交月份、产品线、行业（客户的行业）、负责人、团队、区域）：统计成交日期在期间内的"
    "赢单与输单（未给期间时为截至报表日的全部）；平均赢单金额 = 赢单金额 ÷ 赢单数；"
    "赢单率 = 赢单 ÷（赢单 + 输单）。",
    "销售周期：从商机开始（创建时间；阶段历史更早时取第一条历史，如导入的历史）到进入赢单（或输单）的天数"
    "（按时间戳精确到小数），"
    "统计成交日期在期间内的商机：个数、平均数、中位数（个数为偶数时取中间两个的平均）。",
    "商机队列：按开始月份（同上，北京时间，期间内）统计创建的商机数，以及它们在报表日所处的各阶段个数、"
    "已结束数、赢单金额和赢单率。",
]
DEFINITIONS_EN = [
    "Closed = won + lost (stage snapshot); in the conversion table \"All → Closed\" = closed ÷ "
    "opportunities and \"Closed → Won\" = won ÷ closed (the win rate).",
    "Close date: the Beijing-time day an opportunity entered its final stage (Won or Lost) in "
    "the stage history; those in Won at the as-of date count as won. An opportunity without "
    "stage history has no close date (listed as \"no close date\", left out of cycle times).",
    "Won deals by close month, product line, industry (the customer's), owner, team and "
    "region: the deals won and lost with a close date in the period (without a period: all up "
    "to the as-of date); average won deal = won amount ÷ deals won; win rate = won ÷ (won + "
    "lost).",
    "Sales cycle: days (fractional, from timestamps) from an opportunity's start (its "
    "creation, or its first stage-history entry when that is earlier, as with imported "
    "history) to its entry into Won (or Lost), over the deals with a close date in the "
    "period: count, mean and median (the mean of the middle two for an even count).",
    "Cohort funnel: per Beijing-time month of start (as above; within the period), the "
    "opportunities "
    "created and how many are in each stage at the as-of date, closed, the won amount and the "
    "win rate.",
]

# dimension key -> (facts column, zh, en); the label vocabulary is Labels.of(key)
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "close_month": ("close_month", "成交月份", "Close month"),
    "product_line": ("product_line", "产品线", "Product line"),
    "industry": ("industry", "行业", "Industry"),
    "owner": ("owner", "负责人", "Owner"),
    "team": ("team", "团队", "Team"),
    "region": ("region", "区域", "Region"),
}
WON_COLUMNS = [("won", "赢单数", "Won"), ("won_amount", "赢单金额(元)", "Won amount (CNY)"),
               ("avg_won", "平均赢单金额", "Average won deal"), ("lost", "输单数", "Lost"),
               ("win_rate", "赢单率", "Win rate")]


def won_tables(conn: Connection, f: Any, span: Span, labels: Labels) -> dict[str, Any]:
    """``won_by_<dim>`` for every dimension: deals closed (won or lost) in ``span``."""
    return {f"won_by_{key}": _won_table(conn, f, span, labels, key) for key in DIMENSIONS}


def _won_table(conn: Connection, f: Any, span: Span, labels: Labels,
               key: str) -> dict[str, Any]:
    col, zh, en = DIMENSIONS[key]
    dim = f.c[col]
    won, lost = f.c.stage == "won", f.c.stage == "lost"
    res = conn.execute(
        select(dim.label("k"), func.count().filter(won).label("won"),
               func.coalesce(func.sum(f.c.amount).filter(won), 0).label("amt"),
               func.count().filter(lost).label("lost"))
        .where(f.c.stage.in_(("won", "lost")), span.holds(f.c.close_at))
        .group_by(dim)).all()
    res = list(res)
    month = key == "close_month"
    res.sort(key=lambda r: (r.k is None, str(r.k)) if month else
             (-float(r.amt), -int(r.won), r.k is None, str(r.k)))
    rows = [[r.k, *labels.pair(key, r.k), int(r.won), num(r.amt), ratio(r.amt, r.won, 2),
             int(r.lost), ratio(r.won, int(r.won) + int(r.lost))] for r in res]
    return table(f"won_by_{key}", f"赢单（按{zh}）", f"Won deals by {en.lower()}",
                 [(key, zh, en), (f"{key}_zh", zh, en), (f"{key}_en", f"{zh}(英)", f"{en} (en)"),
                  *WON_COLUMNS], rows)


def _cycle_stats(conn: Connection, f: Any, span: Span, by_line: bool) -> dict[Any, dict]:
    """{(product line or None, outcome): {n, avg, median}} of ``cycle_days`` of deals
    closed in ``span`` (the median is the mean of the middle one or two, by row number)."""
    part = [f.c.product_line, f.c.stage] if by_line else [f.c.stage]
    ranked = (select(*part, f.c.cycle_days,
                     func.row_number().over(partition_by=part, order_by=f.c.cycle_days)
                     .label("rn"),
                     func.count().over(partition_by=part).label("n"))
              .where(f.c.stage.in_(("won", "lost")), f.c.cycle_days.isnot(None),
                     span.holds(f.c.close_at)).subquery("ranked"))
    r = ranked.c
    middle = and_(r.rn >= (r.n + 1) // 2, r.rn <= (r.n + 2) // 2)
    keys = [r.product_line, r.stage] if by_line else [r.stage]
    out: dict[Any, dict] = {}
    for row in conn.execute(
            select(*keys, func.max(r.n).label("n"), func.avg(r.cycle_days).label("avg"),
                   func.avg(case((middle, cast(r.cycle_days, Float)), else_=None))
                   .label("median")).group_by(*keys)):
        line = row.product_line if by_line else "total"
        out[(line, row.stage)] = {"n": int(row.n), "avg": num(row.avg),
                                  "median": num(row.median)}
    return out


def cycle_table(conn: Connection, f: Any, span: Span, labels: Labels
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``cycle`` by product line with a total row, and the totals (for the summary)."""
    stats = {**_cycle_stats(conn, f, span, True), **_cycle_stats(conn, f, span, False)}
    lines = sorted({k[0] for k in stats if k[0] != "total"},
                   key=lambda x: (x is None, labels.order("product_line", x)))
    rows = []
    for line in [*lines, "total"]:
        zh, en = ("合计", "Total") if line == "total" else labels.pair("product_line", line)
        cells: list[Any] = [line, zh, en]
        for outcome in ("won", "lost"):
            s = stats.get((line, outcome), {"n": 0, "avg": None, "median": None})
            cells += [s["n"], s["avg"], s["median"]]
        rows.append(cells)
    tab = table("cycle", "销售周期（天，按产品线）", "Sales cycle (days) by product line", [
        ("product_line", "产品线", "Product line"), ("product_line_zh", "产品线", "Product line"),
        ("product_line_en", "产品线(英)", "Product line (en)"),
        ("won", "赢单数", "Won"), ("won_avg_days", "赢单平均天数", "Days to won (avg)"),
        ("won_median_days", "赢单中位天数", "Days to won (median)"),
        ("lost", "输单数", "Lost"), ("lost_avg_days", "输单平均天数", "Days to lost (avg)"),
        ("lost_median_days", "输单中位天数", "Days to lost (median)")], rows)
    none = {"n": 0, "avg": None, "median": None}
    return tab, {o: stats.get(("total", o), none) for o in ("won", "lost")}


def cohort_table(conn: Connection, f: Any, span: Span, dictionary: Dictionary
                 ) -> dict[str, Any]:
    """``cohorts``: per creation month (in ``span``), how many were created, how many are
    in each stage at as-of, the won amount and the win rate."""
    stage = dictionary.entity("opportunity").field("stage").enum
    assert stage is not None
    codes = stage.codes()
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    for r in conn.execute(
            select(f.c.created_month, f.c.stage, func.count().label("n"),
                   func.coalesce(func.sum(f.c.amount), 0).label("amt"))
            .where(span.holds(f.c.started_at)).group_by(f.c.created_month, f.c.stage)):
        acc[r.created_month][r.stage] = [int(r.n), float(r.amt)]
    rows = []
    for month in sorted(acc):
        per = acc[month]
        won, lost = int(per["won"][0]), int(per["lost"][0])
        rows.append([month, int(sum(v[0] for v in per.values())),
                     *[int(per[c][0]) for c in codes], won + lost, num(per["won"][1]),
                     ratio(won, won + lost)])
    return table("cohorts", "商机队列（按创建月份）", "Cohort funnel (by month created)", [
        ("month", "创建月份", "Month created"), ("created", "创建数", "Created"),
        *[(c, stage.value(c).zh, stage.value(c).en) for c in codes],
        ("closed", "已结束(赢+输)", "Closed (won + lost)"),
        ("won_amount", "赢单金额(元)", "Won amount (CNY)"), ("win_rate", "赢单率", "Win rate")],
        rows)
