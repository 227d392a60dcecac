"""Reports: funnel, RFM and KPIs (scoped to the caller) and the admin's tag rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from sqlalchemy import MetaData

from bridge.reports import rules as R
from bridge.reports.funnel import funnel as do_funnel
from bridge.reports.kpis import kpis as do_kpis
from bridge.reports.labels import resolve_people
from bridge.reports.params import MAX_LIMIT, make_params
from bridge.reports.rfm import rfm as do_rfm
from bridge.routes.body import JsonRoute
from bridge.routes.deps import DB, STORABLE, AdminUser, CurrentUser, Dict, column_max
from bridge.routes.responses import ADMIN, AUTH, BODY, INPUT, errors
from bridge.tables import system_tables
from schema.errors import ErrorCode
from schema.wire import RequestModel

router = APIRouter(prefix="/reports", tags=["reports"], route_class=JsonRoute)

_SYS = MetaData()
system_tables(_SYS)
AsOf = Annotated[str | None, Query(max_length=10, description="as-of date, e.g. 2026-03-31"),
                 STORABLE]
Day = Annotated[str | None, Query(max_length=10), STORABLE]
Name = Annotated[str | None, Query(max_length=64), STORABLE]
# numbers and choices are checked by make_params (REPORT_PARAM_INVALID naming them)
Window = Annotated[str | None, Query(max_length=12, description="RFM window in days, 1..3660"),
                   STORABLE]
Method = Annotated[str | None, Query(max_length=12, description="rank (default) or ntile"),
                   STORABLE]
Limit = Annotated[str | None, Query(max_length=12,
                                    description=f"longest list (customers, overdue "
                                                f"follow-ups), 1..{MAX_LIMIT}; complete by "
                                                f"default"), STORABLE]
Line = Annotated[str | None, Query(max_length=64, description="product line code or label"),
                 STORABLE]
# beyond the id column's range: no such rule (and PostgreSQL must not see it)
RuleId = Annotated[int, Path(ge=1, le=column_max(_SYS.tables["sys_tag_rule"].c.id))]
REPORT = errors(*AUTH, *INPUT, ErrorCode.REPORT_PARAM_INVALID)
RULE_CODES = (*ADMIN, *BODY, ErrorCode.REPORT_RULE_INVALID, ErrorCode.REPORT_RULE_DUPLICATE)
RULE = errors(*RULE_CODES)


@router.get("/funnel", responses=REPORT)
def funnel(user: CurrentUser, db: DB, dictionary: Dict, as_of: AsOf = None,
           period_from: Day = None, period_to: Day = None, owner: Name = None,
           team: Name = None, region: Name = None, product_line: Line = None) -> dict[str, Any]:
    """Stage counts and amounts, stages reached, conversion (with the closed step), win
    rate, days in stage, lost reasons, breakdowns, won deals by close month, product line,
    industry, owner, team and region, sales cycle, cohorts and cards, over the opportunities
    the caller may see."""
    p = make_params(as_of, period_from, period_to, owner, team, region,
                    product_line=product_line)
    p = resolve_people(db, p)
    return do_funnel(db, dictionary, user, p)


@router.get("/rfm", responses=REPORT)
def rfm(user: CurrentUser, db: DB, dictionary: Dict, as_of: AsOf = None, owner: Name = None,
        team: Name = None, region: Name = None, window_days: Window = None,
        score_method: Method = None, limit: Limit = None) -> dict[str, Any]:
    """Recency, frequency, monetary, scores, segments and rule labels per customer."""
    p = make_params(as_of, None, None, owner, team, region, window_days, score_method, limit)
    p = resolve_people(db, p)
    return do_rfm(db, dictionary, user, p)


@router.get("/kpis", responses=REPORT)
def kpis(user: CurrentUser, db: DB, dictionary: Dict, as_of: AsOf = None,
         period_from: Day = None, period_to: Day = None, owner: Name = None, team: Name = None,
         region: Name = None, product_line: Line = None,
         limit: Limit = None) -> dict[str, Any]:
    """New customers, orders and average order value, repurchase, churn, leaderboard,
    customers by region, overdue follow-ups and cards."""
    p = make_params(as_of, period_from, period_to, owner, team, region, limit=limit,
                    product_line=product_line)
    p = resolve_people(db, p)
    return do_kpis(db, dictionary, user, p)



class RuleIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    label_zh: str | None = Field(default=None, max_length=100)
    label_en: str | None = Field(default=None, max_length=100)
    condition: Any = Field(description='e.g. [{"metric": "monetary", "op": ">", "value": 50000}]')
    target: str = Field(min_length=1, max_length=64)
    value: Any = None
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    active: bool = True


class ApplyIn(RequestModel):
    as_of: str | None = Field(default=None, max_length=10)
    window_days: int = Field(default=365, ge=1, le=3660)
    score_method: str = Field(default="rank", pattern="^(rank|ntile)$")


@router.get("/rules", responses=errors(*AUTH))
def list_rules(_: CurrentUser, db: DB) -> list[dict[str, Any]]:
    with db.read() as conn:
        return R.list_rules(db, conn)


@router.post("/rules", status_code=201, responses=RULE)
def create_rule(body: RuleIn, user: AdminUser, db: DB, dictionary: Dict) -> dict[str, Any]:
    return R.create_rule(db, dictionary, user, body.model_dump())


@router.put("/rules/{rule_id}", responses=errors(*RULE_CODES, ErrorCode.REPORT_RULE_NOT_FOUND))
def update_rule(rule_id: RuleId, body: RuleIn, user: AdminUser, db: DB,
                dictionary: Dict) -> dict[str, Any]:
    return R.update_rule(db, dictionary, user, rule_id, body.model_dump())


@router.delete("/rules/{rule_id}",
                responses=errors(*ADMIN, *INPUT, ErrorCode.REPORT_RULE_NOT_FOUND))
def delete_rule(rule_id: RuleId, _: AdminUser, db: DB) -> dict[str, int]:
    R.delete_rule(db, rule_id)
    return {"deleted": rule_id}


@router.post("/rules/apply", responses=errors(*ADMIN, *BODY, ErrorCode.REPORT_PARAM_INVALID))
def apply_rules(request: Request, user: AdminUser, db: DB, dictionary: Dict,
                body: ApplyIn | None = None) -> dict[str, Any]:
    """Write the rules' values (value_tier ...) to customers through the push engine."""
    b = body or ApplyIn()
    p = make_params(b.as_of, window_days=b.window_days, score_method=b.score_method)
    batch = min(1000, request.app.state.settings.max_batch_rows)
    return R.apply_rules(db, dictionary, user, p, batch=batch)
