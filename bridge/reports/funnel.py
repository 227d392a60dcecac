"""The sales funnel: stage snapshot, stages reached, conversion, win rate, days in stage,
lost reasons and breakdowns by owner, team, region and month, all aggregated in SQL."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    select,
)

from bridge.auth import User
from bridge.db import Database
from bridge.reports import breakdowns as B
from bridge.reports import cards as C
from bridge.reports._sql import (
    Sql,
    dims,
    materialize,
    narrowed,
    num,
    ratio,
    table,
    tune,
    visible,
)
from bridge.reports.facts import Span, materialized_facts
from bridge.reports.labels import Labels, header
from bridge.reports.params import ReportParams, day_start_utc
from schema.dictionary import Dictionary
from schema.enums import CLOSED_STAGES
from schema.types import EnumType

CLOSED = "closed"  # the step won + lost (not a stage: a row of by_stage and conversion)
CLOSED_LABEL = ("已结束(赢单+输单)", "Closed (won + lost)")

DEFINITIONS_ZH = [
    "统计对象：截至报表日（含当日，北京时间）已创建、未删除、在您权限范围内并符合筛选条件的商机；"
    "若给出期间，仅统计期间内创建的商机。",
    "阶段快照：每个商机在报表日结束时所处的阶段（取阶段历史中该时刻前最后一次进入的阶段；无历史时取当前阶段）。"
    "金额为商机金额。",
    "到达数：商机只要曾进入某阶段或其后的任一阶段（顺序：初步接洽→需求分析→方案/报价→商务谈判→赢单），"
    "即计为到达该阶段；输单单独统计，不计入“到达”。",
    "阶段转化率 = 到达下一阶段的商机数 ÷ 到达本阶段的商机数。",
    "赢单率 = 赢单数 ÷（赢单数 + 输单数），按阶段快照计算。",
    "平均停留天数：阶段历史中每次进入某阶段到下一次阶段变更的天数（按时间戳精确到小数）；"
    "仍处于该阶段的，计到报表日结束；赢单/输单为终态，不计停留。",
    "输单原因：阶段快照为输单的商机按“输单原因”计数。月份为商机创建时间所在的北京时间月份。",
]
DEFINITIONS_EN = [
    "Population: opportunities created up to the end of the as-of day (Beijing time), not "
    "deleted, within your permission scope and matching the filters; with a period, only "
    "those created in the period.",
    "Stage snapshot: the stage each opportunity was in at the end of the as-of day (the last "
    "stage entered before then in the stage history; the current stage when it has no "
    "history). Amount is the opportunity amount.",
    "Reached: an opportunity reached a stage if it ever entered that stage or any later one "
    "in the order Initial contact → Needs analysis → Proposal → Negotiation → Won. Lost is "
    "counted separately and never counts as reaching a stage.",
    "Stage conversion = opportunities that reached the next stage ÷ those that reached this "
    "stage.",
    "Win rate = won ÷ (won + lost), from the stage snapshot.",
    "Average days in stage: for every entry into a stage in the history, the days (fractional, "
    "from timestamps) until the next stage change; a stage still open counts up to the end of "
    "the as-of day. Won and lost are final and have no duration.",
    "Lost reasons: opportunities whose snapshot is Lost, counted by lost reason. Month is the "
    "Beijing-time month the opportunity was created in.",
]


def funnel(db: Database, dictionary: Dictionary, user: User, p: ReportParams) -> dict[str, Any]:
    with db.read() as conn:
        tune(conn)
        return _funnel(conn, db, dictionary, user, p)


@dataclass(frozen=True)
class _Stages:
    """The stage vocabulary the funnel counts with."""

    enum: EnumType
    codes: list[str]  # every stage, in dictionary order
    progress: list[str]  # the progression (lost left out; won stays last)
    staying: list[str]  # stages one stays in (not won or lost)

    @classmethod
    def of(cls, dictionary: Dictionary) -> _Stages:
        enum = dictionary.entity("opportunity").field("stage").enum
        assert enum is not None
        codes = enum.codes()
        return cls(enum, codes, [c for c in codes if c != "lost"],
                   [c for c in codes if c not in CLOSED_STAGES])


def _funnel(conn: Connection, db: Database, dictionary: Dictionary, user: User,
            p: ReportParams) -> dict[str, Any]:
    """Query the snapshot cube once, then derive every table from it."""
    stages = _Stages.of(dictionary)
    history = _history(conn, db, dictionary, user, p, stages)
    cube = _snapshot_cube(conn, db, dictionary, user, p, stages, history)
    by_stage = _by_stage(cube)
    total = int(sum(v[0] for v in by_stage.values()))
    won = int(by_stage["won"][0]) if "won" in by_stage else 0
    lost_n = int(by_stage["lost"][0]) if "lost" in by_stage else 0
    reached = _reached(cube, stages)
    labels = Labels.load(conn, db, dictionary)
    facts = materialized_facts(conn, db, dictionary, user, p, history)
    span = Span(p.period_from, p.period_to)
    cycle, cycle_totals = B.cycle_table(conn, facts, span, labels)
    won_amount = round(float(by_stage["won"][1]) if "won" in by_stage else 0.0, 2)
    tables = {
        "by_stage": _stage_table(stages, by_stage, total, reached, _days(cube, stages)),
        "conversion": _conversion_table(stages, reached, total, won, lost_n),
        "lost_reasons": _lost_table(dictionary, _lost(cube), lost_n),
        **_breakdown_tables(labels, cube),
        **B.won_tables(conn, facts, span, labels),
        "cycle": cycle,
        "cohorts": B.cohort_table(conn, facts, span, dictionary),
    }
    return {
        "report": "funnel", "as_of": p.as_of.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **header("funnel", p, labels), "user": user.username,
        "summary": {"opportunities": total, "won": won, "lost": lost_n,
                    "closed": won + lost_n, "open": total - won - lost_n,
                    "win_rate": ratio(won, won + lost_n),
                    "amount": round(sum(v[1] for v in by_stage.values()), 2),
                    "won_amount": won_amount, "avg_won": ratio(won_amount, won, 2),
                    "days_to_won": cycle_totals["won"], "days_to_lost": cycle_totals["lost"]},
        "cards_period": C.card_span(p).echo(),
        "cards": C.opportunity_cards(conn, facts, C.card_span(p)),
        "definitions": {"zh": [*DEFINITIONS_ZH, *B.DEFINITIONS_ZH, *C.DEFINITIONS_ZH],
                        "en": [*DEFINITIONS_EN, *B.DEFINITIONS_EN, *C.DEFINITIONS_EN]},
        "tables": tables,
    }


# -- the one query ---------------------------------------------------------------------------


def _history(conn: Connection, db: Database, dictionary: Dictionary, user: User,
             p: ReportParams, stages: _Stages) -> Any:
    """:func:`_per_opportunity` computed once into a temporary table, for the opportunities
    created up to the as-of date (the period left out: the closed-deal tables count closes
    in the period), read by the cube and by the per-opportunity facts."""
    sql = Sql(db.dialect)
    o, ok = visible(user, db, dictionary, "opportunity", "o")
    broad = replace(p, period_from=None, period_to=None)
    # else the joins drop the few history rows of other opportunities
    only = select(o.c.id).where(ok, dims(o, p), o.c.created_at < p.as_of_end) \
        if narrowed(user, dictionary.entity("opportunity"), broad) else None
    staying = range(len(stages.staying))
    cols: list[Column[Any]] = [
        Column("oid", String(64), primary_key=True), Column("max_idx", Integer),
        Column("last", String(64)),
        Column("last_at", DateTime(timezone=True)), Column("first_at", DateTime(timezone=True)),
        *[Column(f"v{k}", Integer) for k in staying], *[Column(f"d{k}", Float) for k in staying]]
    return materialize(conn, "tmp_hist", _per_opportunity(db, sql, p, stages, only), cols)


def _snapshot_cube(conn: Connection, db: Database, dictionary: Dictionary, user: User,
                   p: ReportParams, stages: _Stages, per_opp: Any) -> list[Any]:
    """A single statement: the small snapshot cube (stage, owner, team, region, month, lost
    reason of lost ones) with reached counts and stays summed per cell."""
    sql = Sql(db.dialect)
    o, ok = visible(user, db, dictionary, "opportunity", "o")
    cond = [ok, dims(o, p), o.c.created_at < p.as_of_end]
    if p.period_from:
        cond.append(o.c.created_at >= day_start_utc(p.period_from))
    if p.period_to:
        cond.append(o.c.created_at < day_start_utc(p.period_to + timedelta(days=1)))
    cohort = select(o.c.id, o.c.stage, o.c.amount, o.c.owner, o.c.team, o.c.region,
                    o.c.lost_reason, sql.local_month(o.c.created_at).label("month")
                    ).where(*cond).subquery("cohort")
    f = _facts(cohort, per_opp, stages).c
    keys = [sql.binary(f.stage).label("stage"), sql.binary(f.owner).label("owner"),
            sql.binary(f.team).label("team"), sql.binary(f.region).label("region"),
            sql.binary(f.month).label("month"),
            sql.binary(case((f.stage == "lost", f.lost_reason), else_=None)).label("lost_key")]
    staying = range(len(stages.staying))
    return list(conn.execute(
        select(*keys,
               func.count().label("n"), func.coalesce(func.sum(f.amount), 0).label("amt"),
               *[func.count().filter(f.max_idx >= i).label(f"r{i}")
                 for i in range(len(stages.progress))],
               *[func.sum(f[f"v{k}"]).label(f"v{k}") for k in staying],
               *[func.sum(f[f"d{k}"]).label(f"d{k}") for k in staying])
        .group_by(*keys)
    ).all())


def _per_opportunity(db: Database, sql: Sql, p: ReportParams, stages: _Stages,
                     only: Any) -> Any:
    """Per opportunity in the history: highest progression stage, the stage at as-of (and
    when it was entered), the first entry, and its stays (count ``v<k>``, days ``d<k>``) per
    non-terminal stage as FILTER columns."""
    hist = db.table("sys_stage_history")
    end = p.as_of_end
    # One window pass over the history (a single ordering per opportunity): the next
    # entry's time gives the stay, and the entry without a successor is the last one.
    idx = case({c: i for i, c in enumerate(stages.progress)}, value=hist.c.stage, else_=None)
    t = sql.epoch_days(hist.c.entered_at)
    h_cond = [hist.c.entered_at < end]
    if only is not None:
        h_cond.append(hist.c.opportunity_id.in_(only))
    h = (select(hist.c.opportunity_id.label("oid"), hist.c.stage.label("stage"),
                idx.label("idx"), t.label("t"), hist.c.entered_at.label("at"),
                func.lead(t).over(partition_by=sql.binary(hist.c.opportunity_id),
                                  order_by=(hist.c.entered_at, hist.c.id)).label("t_next"))
         .where(*h_cond).subquery("h"))
    dur = func.coalesce(h.c.t_next, literal(sql.epoch_days_of(end), Float)) - h.c.t
    oid = sql.binary(h.c.oid)
    return (select(oid.label("oid"), func.max(h.c.idx).label("max_idx"),
                   func.max(case((h.c.t_next.is_(None), h.c.stage), else_=None)).label("last"),
                   func.max(case((h.c.t_next.is_(None), h.c.at), else_=None)).label("last_at"),
                   func.min(h.c.at).label("first_at"),
                   *[cast(func.count().filter(h.c.stage == c), Integer).label(f"v{k}")
                     for k, c in enumerate(stages.staying)],
                   *[func.sum(dur).filter(h.c.stage == c).label(f"d{k}")
                     for k, c in enumerate(stages.staying)])
            .group_by(oid))


def _facts(cohort: Any, per_opp: Any, stages: _Stages) -> Any:
    """One row per cohort opportunity: its snapshot stage, furthest stage and stays."""
    cur_idx = case({c: i for i, c in enumerate(stages.progress)}, value=cohort.c.stage,
                   else_=None)
    staying = range(len(stages.staying))
    return (select(cohort.c.amount, cohort.c.owner, cohort.c.team, cohort.c.region,
                   cohort.c.month,
                   func.coalesce(per_opp.c.last, cohort.c.stage).label("stage"),
                   cohort.c.lost_reason,
                   case((per_opp.c.last.is_(None), cur_idx), else_=per_opp.c.max_idx)
                   .label("max_idx"),
                   *[per_opp.c[f"v{k}"] for k in staying],
                   *[per_opp.c[f"d{k}"] for k in staying])
            .select_from(cohort.outerjoin(per_opp, per_opp.c.oid == cohort.c.id))
            .subquery("facts"))


# -- rolling the cube up -------------------------------------------------------------------


def _reached(cube: list[Any], stages: _Stages) -> dict[str, int]:
    return {c: sum(int(r._mapping[f"r{i}"]) for r in cube)
            for i, c in enumerate(stages.progress)}


def _days(cube: list[Any], stages: _Stages) -> dict[str, tuple[int, Any, Any]]:
    """Per staying stage: (stays, average days, total days)."""
    days: dict[str, tuple[int, Any, Any]] = {}
    for k, c in enumerate(stages.staying):
        visits = sum(int(r._mapping[f"v{k}"] or 0) for r in cube)
        total_days = sum(float(r._mapping[f"d{k}"] or 0.0) for r in cube)
        days[c] = (visits, num(total_days / visits) if visits else None, num(total_days))
    return days


def _lost(cube: list[Any]) -> list[tuple[Any, int, float]]:
    """(lost reason, count, amount), most frequent first."""
    lost_acc: dict[Any, list[float]] = defaultdict(lambda: [0, 0.0])
    for r in cube:
        if r.stage == "lost":
            lost_acc[r.lost_key][0] += int(r.n)
            lost_acc[r.lost_key][1] += float(r.amt)
    return sorted(((k, int(v[0]), v[1]) for k, v in lost_acc.items()),
                  key=lambda x: (-x[1], x[0] is None, str(x[0])))


def _by_stage(cube: list[Any]) -> dict[str, list[float]]:
    """Per snapshot stage: [count, amount]."""
    by_stage: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for r in cube:
        by_stage[r.stage][0] += int(r.n)
        by_stage[r.stage][1] += float(r.amt)
    return by_stage


STAGE_COLUMNS = [("stage", "阶段代码", "Stage code"), ("stage_zh", "阶段", "Stage"),
                 ("stage_en", "阶段(英)", "Stage (en)"), ("count", "商机数", "Opportunities"),
                 ("amount", "金额(元)", "Amount (CNY)"), ("share", "占比", "Share"),
                 ("reached", "到达数", "Reached"),
                 ("avg_days", "平均停留天数", "Avg days in stage"),
                 ("visits", "停留次数", "Stays")]


def _stage_table(stages: _Stages, by_stage: dict[str, list[float]], total: float,
                 reached: dict[str, int], days: dict[str, tuple[int, Any, Any]]
                 ) -> dict[str, Any]:
    rows = []
    for c in stages.codes:
        v = stages.enum.value(c)
        n, amt = by_stage.get(c, [0, 0.0])
        visits, avg_days, _ = days.get(c, (0, None, None))
        rows.append([c, v.zh, v.en, int(n), round(float(amt), 2), ratio(n, total),
                     reached.get(c) if c != "lost" else None,
                     avg_days if c not in CLOSED_STAGES else None, visits or None])
    n_closed = sum(by_stage.get(c, [0, 0.0])[0] for c in CLOSED_STAGES)
    amt_closed = sum(by_stage.get(c, [0, 0.0])[1] for c in CLOSED_STAGES)
    rows.append([CLOSED, *CLOSED_LABEL, int(n_closed), round(float(amt_closed), 2),
                 ratio(n_closed, total), None, None, None])
    return table("by_stage", "各阶段商机", "Opportunities by stage", STAGE_COLUMNS, rows)


def _conversion_table(stages: _Stages, reached: dict[str, int], total: int, won: int,
                      lost: int) -> dict[str, Any]:
    """Stage to next stage, then the closed step: all → closed (won + lost), closed → won."""
    rows = []
    for a, b in itertools.pairwise(stages.progress):
        va, vb = stages.enum.value(a), stages.enum.value(b)
        rows.append([a, b, f"{va.zh}→{vb.zh}", f"{va.en} → {vb.en}", reached[a],
                     reached[b], ratio(reached[b], reached[a])])
    vw = stages.enum.value("won")
    rows.append(["all", CLOSED, f"全部商机→{CLOSED_LABEL[0]}", f"All → {CLOSED_LABEL[1]}",
                 total, won + lost, ratio(won + lost, total)])
    rows.append([CLOSED, "won", f"{CLOSED_LABEL[0]}→{vw.zh}", f"{CLOSED_LABEL[1]} → {vw.en}",
                 won + lost, won, ratio(won, won + lost)])
    return table("conversion", "阶段转化率", "Stage-to-stage conversion", [
        ("from", "从", "From"), ("to", "到", "To"), ("step_zh", "环节", "Step"),
        ("step_en", "环节(英)", "Step (en)"), ("reached_from", "到达本阶段", "Reached from"),
        ("reached_to", "到达下一阶段", "Reached next"), ("rate", "转化率", "Conversion")], rows)


def _lost_table(dictionary: Dictionary, lost: list[tuple[Any, int, float]],
                lost_n: float) -> dict[str, Any]:
    reasons = dictionary.entity("opportunity").field("lost_reason").enum
    assert reasons is not None
    rows = []
    for code, n_lost, amt_lost in lost:
        lab = reasons.value(code) if code in reasons.codes() else None
        rows.append([code, lab.zh if lab else "（未填）", lab.en if lab else "(blank)",
                     n_lost, num(amt_lost), ratio(n_lost, lost_n)])
    return table("lost_reasons", "输单原因", "Lost reasons", [
        ("reason", "原因代码", "Reason code"), ("reason_zh", "原因", "Reason"),
        ("reason_en", "原因(英)", "Reason (en)"), ("count", "商机数", "Opportunities"),
        ("amount", "金额(元)", "Amount (CNY)"), ("share", "占比", "Share")], rows)


def _breakdown_tables(labels: Labels, cube: list[Any]) -> dict[str, Any]:
    """``by_owner``, ``by_region`` (code, then the labels: display name, region name),
    ``by_team``, ``by_month``."""
    tables = {}
    for dim, (zh, en) in {"owner": ("负责人", "Owner"), "team": ("团队", "Team"),
                          "region": ("区域", "Region"), "month": ("月份", "Month")}.items():
        rows = _breakdown(cube, dim)
        named: list[tuple[str, str, str]] = []
        if dim in ("owner", "region"):
            rows = [[r[0], *labels.pair(dim, r[0]), *r[1:]] for r in rows]
            named = [(f"{dim}_zh", zh, en), (f"{dim}_en", f"{zh}(英)", f"{en} (en)")]
        tables[f"by_{dim}"] = table(f"by_{dim}", f"按{zh}", f"By {en.lower()}", [
            (dim, zh, en), *named, ("count", "商机数", "Opportunities"),
            ("amount", "金额(元)", "Amount"),
            ("open", "进行中", "Open"), ("won", "赢单", "Won"),
            ("won_amount", "赢单金额", "Won amount"),
            ("lost", "输单", "Lost"), ("win_rate", "赢单率", "Win rate")], rows)
    return tables


def _breakdown(cube: list[Any], dim: str) -> list[list[Any]]:
    """Roll the small snapshot cube up to one dimension (sorted by count, then key)."""
    acc: dict[Any, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0.0, 0])
    for r in cube:
        a = acc[getattr(r, dim)]
        a[0] += int(r.n)
        a[1] += float(r.amt)
        if r.stage == "won":
            a[3] += int(r.n)
            a[4] += float(r.amt)
        elif r.stage == "lost":
            a[5] += int(r.n)
        else:
            a[2] += int(r.n)
    keys = sorted(acc, key=lambda k: (k is None, str(k))) if dim == "month" else \
        sorted(acc, key=lambda k: (-acc[k][0], k is None, str(k)))
    return [[k, int(acc[k][0]), round(acc[k][1], 2), int(acc[k][2]), int(acc[k][3]),
             round(acc[k][4], 2), int(acc[k][5]), ratio(acc[k][3], acc[k][3] + acc[k][5])]
            for k in keys]
