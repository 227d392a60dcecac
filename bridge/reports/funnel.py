"""The sales funnel: stage snapshot, stages reached, conversion, win rate, days in stage,
lost reasons and breakdowns by owner, team, region and month, all aggregated in SQL."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    case,
    cast,
    func,
    literal,
    select,
)

from bridge.auth import User
from bridge.db import Database
from bridge.reports._sql import Sql, dims, narrowed, num, ratio, table, tune, visible
from bridge.reports.params import ReportParams, day_start_utc
from schema.dictionary import Dictionary

TERMINAL = ("won", "lost")

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


def _funnel(conn: Connection, db: Database, dictionary: Dictionary, user: User,
            p: ReportParams) -> dict[str, Any]:
    sql = Sql(db.dialect)
    ent = dictionary.entity("opportunity")
    stage_enum = ent.field("stage").enum
    assert stage_enum is not None
    codes = stage_enum.codes()
    progress = [c for c in codes if c != "lost"]  # won stays last of the progression
    o, ok = visible(user, db, dictionary, "opportunity", "o")
    hist = db.table("sys_stage_history")
    end = p.as_of_end

    cond = [ok, dims(o, p), o.c.created_at < end]
    if p.period_from:
        cond.append(o.c.created_at >= day_start_utc(p.period_from))
    if p.period_to:
        cond.append(o.c.created_at < day_start_utc(p.period_to + timedelta(days=1)))
    cohort = select(o.c.id, o.c.stage, o.c.amount, o.c.owner, o.c.team, o.c.region,
                    o.c.lost_reason, sql.local_month(o.c.created_at).label("month")
                    ).where(*cond).subquery("cohort")

    # One window pass over the history (a single ordering per opportunity): the next
    # entry's time gives the stay, and the entry without a successor is the last one.
    idx = case({c: i for i, c in enumerate(progress)}, value=hist.c.stage, else_=None)
    t = sql.epoch_days(hist.c.entered_at)
    h_cond = [hist.c.entered_at < end]
    if narrowed(user, ent, p):  # else the join below drops the few rows outside the cohort
        h_cond.append(hist.c.opportunity_id.in_(select(o.c.id).where(*cond)))
    h = (select(hist.c.opportunity_id.label("oid"), hist.c.stage.label("stage"),
                idx.label("idx"), t.label("t"),
                func.lead(t).over(partition_by=sql.binary(hist.c.opportunity_id),
                                  order_by=(hist.c.entered_at, hist.c.id)).label("t_next"))
         .where(*h_cond).subquery("h"))
    # ... then one aggregation per opportunity: highest progression stage, the stage at
    # as-of, and its stays (count, days) per non-terminal stage as FILTER columns
    dur = func.coalesce(h.c.t_next, literal(sql.epoch_days_of(end), Float)) - h.c.t
    staying = [c for c in codes if c not in TERMINAL]
    oid = sql.binary(h.c.oid)
    per_opp = (select(oid.label("oid"), func.max(h.c.idx).label("max_idx"),
                      func.max(case((h.c.t_next.is_(None), h.c.stage), else_=None)).label("last"),
                      *[cast(func.count().filter(h.c.stage == c), Integer).label(f"v{k}")
                        for k, c in enumerate(staying)],
                      *[func.sum(dur).filter(h.c.stage == c).label(f"d{k}")
                        for k, c in enumerate(staying)])
               .group_by(oid).subquery("per_opp"))
    cur_idx = case({c: i for i, c in enumerate(progress)}, value=cohort.c.stage, else_=None)
    facts = (select(cohort.c.amount, cohort.c.owner, cohort.c.team, cohort.c.region,
                    cohort.c.month,
                    func.coalesce(per_opp.c.last, cohort.c.stage).label("stage"),
                    cohort.c.lost_reason,
                    case((per_opp.c.last.is_(None), cur_idx), else_=per_opp.c.max_idx)
                    .label("max_idx"),
                    *[per_opp.c[f"v{k}"] for k in range(len(staying))],
                    *[per_opp.c[f"d{k}"] for k in range(len(staying))])
             .select_from(cohort.outerjoin(per_opp, per_opp.c.oid == cohort.c.id))
             .subquery("facts"))
    f = facts.c
    keys = [sql.binary(f.stage).label("stage"), sql.binary(f.owner).label("owner"),
            sql.binary(f.team).label("team"), sql.binary(f.region).label("region"),
            sql.binary(f.month).label("month"),
            sql.binary(case((f.stage == "lost", f.lost_reason), else_=None)).label("lost_key")]
    # A single statement: the small snapshot cube (stage, owner, team, region, month, lost
    # reason of lost ones) with reached counts and stays summed per cell.
    cube = conn.execute(
        select(*keys,
               func.count().label("n"), func.coalesce(func.sum(f.amount), 0).label("amt"),
               *[func.count().filter(f.max_idx >= i).label(f"r{i}")
                 for i in range(len(progress))],
               *[func.sum(f[f"v{k}"]).label(f"v{k}") for k in range(len(staying))],
               *[func.sum(f[f"d{k}"]).label(f"d{k}") for k in range(len(staying))])
        .group_by(*keys)
    ).all()
    reached = {c: sum(int(r[f"r{i}"]) for r in (x._mapping for x in cube))
               for i, c in enumerate(progress)}
    days: dict[str, tuple[int, Any, Any]] = {}
    for k, c in enumerate(staying):
        visits = sum(int(r[f"v{k}"] or 0) for r in (x._mapping for x in cube))
        total_days = sum(float(r[f"d{k}"] or 0.0) for r in (x._mapping for x in cube))
        days[c] = (visits, num(total_days / visits) if visits else None, num(total_days))
    lost_acc: dict[Any, list[float]] = defaultdict(lambda: [0, 0.0])
    for r in cube:
        if r.stage == "lost":
            lost_acc[r.lost_key][0] += int(r.n)
            lost_acc[r.lost_key][1] += float(r.amt)
    lost = sorted(((k, int(v[0]), v[1]) for k, v in lost_acc.items()),
                  key=lambda x: (-x[1], x[0] is None, str(x[0])))

    by_stage: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for r in cube:
        by_stage[r.stage][0] += int(r.n)
        by_stage[r.stage][1] += float(r.amt)
    total = sum(v[0] for v in by_stage.values())
    won, lost_n = by_stage["won"][0] if "won" in by_stage else 0, \
        by_stage["lost"][0] if "lost" in by_stage else 0

    stage_rows = []
    for c in codes:
        v = stage_enum.value(c)
        n, amt = by_stage.get(c, [0, 0.0])
        visits, avg_days, _ = days.get(c, (0, None, None))
        stage_rows.append([c, v.zh, v.en, int(n), round(float(amt), 2), ratio(n, total),
                           reached.get(c) if c != "lost" else None,
                           avg_days if c not in TERMINAL else None, visits or None])
    conv_rows = []
    for a, b in itertools.pairwise(progress):
        va, vb = stage_enum.value(a), stage_enum.value(b)
        conv_rows.append([a, b, f"{va.zh}→{vb.zh}", f"{va.en} → {vb.en}", reached[a],
                          reached[b], ratio(reached[b], reached[a])])
    reasons = dictionary.entity("opportunity").field("lost_reason").enum
    assert reasons is not None
    lost_rows = []
    for code, n_lost, amt_lost in lost:
        lab = reasons.value(code) if code in reasons.codes() else None
        lost_rows.append([code, lab.zh if lab else "（未填）", lab.en if lab else "(blank)",
                          n_lost, num(amt_lost), ratio(n_lost, lost_n)])

    breakdowns = {dim: _breakdown(list(cube), dim) for dim in ("owner", "team", "region", "month")}
    region_enum = dictionary.enums.get("region")
    stage_cols = [("stage", "阶段代码", "Stage code"), ("stage_zh", "阶段", "Stage"),
                  ("stage_en", "阶段(英)", "Stage (en)"), ("count", "商机数", "Opportunities"),
                  ("amount", "金额(元)", "Amount (CNY)"), ("share", "占比", "Share"),
                  ("reached", "到达数", "Reached"),
                  ("avg_days", "平均停留天数", "Avg days in stage"),
                  ("visits", "停留次数", "Stays")]
    tables = {
        "by_stage": table("by_stage", "各阶段商机", "Opportunities by stage", stage_cols,
                          stage_rows),
        "conversion": table("conversion", "阶段转化率", "Stage-to-stage conversion", [
            ("from", "从", "From"), ("to", "到", "To"), ("step_zh", "环节", "Step"),
            ("step_en", "环节(英)", "Step (en)"), ("reached_from", "到达本阶段", "Reached from"),
            ("reached_to", "到达下一阶段", "Reached next"), ("rate", "转化率", "Conversion")],
            conv_rows),
        "lost_reasons": table("lost_reasons", "输单原因", "Lost reasons", [
            ("reason", "原因代码", "Reason code"), ("reason_zh", "原因", "Reason"),
            ("reason_en", "原因(英)", "Reason (en)"), ("count", "商机数", "Opportunities"),
            ("amount", "金额(元)", "Amount (CNY)"), ("share", "占比", "Share")], lost_rows),
    }
    for dim, (zh, en) in {"owner": ("负责人", "Owner"), "team": ("团队", "Team"),
                          "region": ("区域", "Region"), "month": ("月份", "Month")}.items():
        rows = breakdowns[dim]
        if dim == "region" and region_enum is not None:
            names = {v.code: v.zh for v in region_enum.values}
            rows = [[r[0] if r[0] is None else names.get(r[0], r[0]), *r[1:]] for r in rows]
        tables[f"by_{dim}"] = table(f"by_{dim}", f"按{zh}", f"By {en.lower()}", [
            (dim, zh, en), ("count", "商机数", "Opportunities"), ("amount", "金额(元)", "Amount"),
            ("open", "进行中", "Open"), ("won", "赢单", "Won"),
            ("won_amount", "赢单金额", "Won amount"),
            ("lost", "输单", "Lost"), ("win_rate", "赢单率", "Win rate")], rows)
    return {
        "report": "funnel", "as_of": p.as_of.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filters": p.echo(), "user": user.username,
        "summary": {"opportunities": total, "won": won, "lost": lost_n,
                    "open": total - won - lost_n, "win_rate": ratio(won, won + lost_n),
                    "amount": round(sum(v[1] for v in by_stage.values()), 2)},
        "definitions": {"zh": DEFINITIONS_ZH, "en": DEFINITIONS_EN},
        "tables": tables,
    }


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
