"""Per-opportunity facts for the won breakdowns, cycle times, cohorts and cards: snapshot
stage at the as-of date, the close instant (when it entered its final stage), the cycle
length and the labels' codes (product line, the customer's industry, owner, team, region),
computed once per report into a temporary table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Float,
    Numeric,
    String,
    and_,
    case,
    func,
    select,
    true,
)

from bridge.auth import User
from bridge.db import Database
from bridge.reports._sql import Sql, dims, materialize, narrowed, visible
from bridge.reports.params import ReportParams, day_start_utc
from schema.dictionary import Dictionary
from schema.enums import CLOSED_STAGES


def last_entries(db: Database, dictionary: Dictionary, user: User, p: ReportParams) -> Any:
    """Per opportunity in the history up to the as-of date: the ``last`` stage entered,
    when (``last_at``) and the ``first_at`` entry (one window pass)."""
    sql = Sql(db.dialect)
    o, ok = visible(user, db, dictionary, "opportunity", "o")
    hist = db.table("sys_stage_history")
    h_cond: list[ColumnElement[bool]] = [hist.c.entered_at < p.as_of_end]
    if narrowed(user, dictionary.entity("opportunity"), p):
        h_cond.append(hist.c.opportunity_id.in_(
            select(o.c.id).where(ok, dims(o, p), o.c.created_at < p.as_of_end)))
    oid = sql.binary(hist.c.opportunity_id)
    ranked = (select(oid.label("oid"), hist.c.stage, hist.c.entered_at,
                     func.row_number().over(partition_by=oid, order_by=(
                         hist.c.entered_at.desc(), hist.c.id.desc())).label("rn"),
                     func.min(hist.c.entered_at).over(partition_by=oid).label("first_at"))
              .where(*h_cond).subquery("ranked"))
    return (select(ranked.c.oid, ranked.c.stage.label("last"),
                   ranked.c.entered_at.label("last_at"), ranked.c.first_at)
            .where(ranked.c.rn == 1).subquery("last"))


def facts_select(db: Database, dictionary: Dictionary, user: User, p: ReportParams,
                 last: Any = None) -> Any:
    """One row per visible opportunity created up to the end of the as-of day (filters
    applied, the period not): ``stage`` at as-of, ``started_at`` (the row's creation, or its
    first stage-history entry when that is earlier: imported history), ``close_at`` (the
    entry into its final stage, won or lost, from the stage history; None without history or
    while open), ``cycle_days`` (fractional days from ``started_at`` to ``close_at``),
    ``created_month`` (of ``started_at``) and ``close_month`` (Beijing time). ``last``:
    a relation of (oid, last, last_at, first_at), by default :func:`last_entries`."""
    sql = Sql(db.dialect)
    o, ok = visible(user, db, dictionary, "opportunity", "o")
    cu = db.table("crm_customer").alias("cu")
    cond = [ok, dims(o, p), o.c.created_at < p.as_of_end]
    if last is None:
        last = last_entries(db, dictionary, user, p)
    stage = func.coalesce(last.c.last, o.c.stage)
    close_at = case((last.c.last.in_(CLOSED_STAGES), last.c.last_at), else_=None)
    # imported or backdated history may begin before the row reached the database
    started = case((last.c.first_at < o.c.created_at, last.c.first_at), else_=o.c.created_at)
    return (select(o.c.id, o.c.amount, o.c.owner, o.c.team, o.c.region, o.c.product_line,
                   cu.c.industry, stage.label("stage"), started.label("started_at"),
                   close_at.label("close_at"),
                   (sql.epoch_days(close_at) - sql.epoch_days(started)).label("cycle_days"),
                   sql.local_month(started).label("created_month"),
                   sql.local_month(close_at).label("close_month"))
            .select_from(o.outerjoin(last, last.c.oid == o.c.id)
                         .outerjoin(cu, cu.c.id == o.c.customer))
            .where(*cond))


FACT_COLUMNS = (("id", String(64)), ("amount", Numeric(18, 2, asdecimal=False)),
                ("owner", String(64)), ("team", String(64)), ("region", String(64)),
                ("product_line", String(64)), ("industry", String(64)),
                ("stage", String(64)), ("started_at", DateTime(timezone=True)),
                ("close_at", DateTime(timezone=True)), ("cycle_days", Float()),
                ("created_month", String(7)), ("close_month", String(7)))


def materialized_facts(conn: Any, db: Database, dictionary: Dictionary, user: User,
                       p: ReportParams, last: Any = None) -> Any:
    """:func:`facts_select` computed once into a temporary table."""
    return materialize(conn, "tmp_opp", facts_select(db, dictionary, user, p, last),
                       [Column(n, t) for n, t in FACT_COLUMNS])


@dataclass(frozen=True, slots=True)
class Span:
    """Local days [start, end] (both included; None: open), as UTC instant bounds."""

    start: date | None
    end: date | None

    def holds(self, ts: Any) -> ColumnElement[bool]:
        conds: list[ColumnElement[bool]] = []
        if self.start is not None:
            conds.append(ts >= day_start_utc(self.start))
        if self.end is not None:
            conds.append(ts < day_start_utc(self.end + timedelta(days=1)))
        return and_(true(), *conds)

    def previous(self) -> Span | None:
        """The span of the same length just before (None for an open span)."""
        if self.start is None or self.end is None:
            return None
        length = (self.end - self.start).days + 1
        return Span(self.start - timedelta(days=length), self.start - timedelta(days=1))

    def echo(self) -> dict[str, Any]:
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "days": (self.end - self.start).days + 1 if self.start and self.end
                else None}
