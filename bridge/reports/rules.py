"""Tag rules: admin-defined conditions over RFM metrics that set a customer tag.

A rule is ``{"name", "label_zh", "label_en", "condition": [{"metric", "op", "value"}, ...],
"target", "value", "priority", "active"}``. All clauses of a condition must hold (AND).
For each target, active rules are tried by priority (highest first, then lowest id) and the
first match gives the value. Target ``segment`` only labels customers in the RFM report; any
other target is a customer enum field (``value_tier`` ...) that :func:`apply_rules` writes
back through the push engine, so each change is audited and reaches the sheets on the next
pull. Evaluation is one SQL ``CASE`` over the RFM relation.
"""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    and_,
    case,
    delete,
    insert,
    literal,
    or_,
    select,
    update,
)

from bridge.auth import User
from bridge.db import Database
from bridge.errors import ApiError, item
from bridge.reports.params import ReportParams
from schema.dictionary import Dictionary, build_dictionary
from schema.errors import ErrorCode
from schema.limits import number_text, type_limit, unstorable_char
from schema.sql import column_type
from schema.types import FieldType
from schema.wire import ErrorItem, PushRequest, RowChange

METRICS: dict[str, tuple[str, str]] = {
    "recency_days": ("最近购买距今天数", "Days since last order"),
    "frequency": ("窗口内订单数", "Orders in window"),
    "monetary": ("窗口内净金额", "Net amount in window"),
    "r_score": ("R 分(1-5)", "R score (1-5)"),
    "f_score": ("F 分(1-5)", "F score (1-5)"),
    "m_score": ("M 分(1-5)", "M score (1-5)"),
}
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
SEGMENT_TARGET = "segment"
MAX_CLAUSES = 20
SYSTEM_USER = User("system", "System (tag rules)", "admin", None, None)


def targets(dictionary: Dictionary) -> dict[str, list[str] | None]:
    """Allowed targets: ``segment`` (free label) and the customer's enum fields except region
    (value must be one of the enum's codes)."""
    out: dict[str, list[str] | None] = {SEGMENT_TARGET: None}
    for f in dictionary.entity("customer").fields:
        if f.type is FieldType.ENUM and f.enum is not None and f.code != "region":
            out[f.code] = f.enum.codes()
    return out


def metric_ranges(dictionary: Dictionary) -> dict[str, tuple[Decimal, Decimal]]:
    """What a clause may compare each metric with: what the metric's SQL type holds, so a
    rule never makes the database overflow (days and scores are INTEGER, order counts
    BIGINT, net amounts the amount column's NUMERIC). A new metric declares its type here."""
    money = type_limit(column_type(dictionary.entity("order").field("amount")))
    ints, counts = type_limit(Integer()), type_limit(BigInteger())
    kinds = {"recency_days": ints, "frequency": counts, "monetary": money, "r_score": ints,
             "f_score": ints, "m_score": ints}
    return {m: (lim.min_value, lim.max_value) for m, lim in kinds.items()
            if lim.min_value is not None and lim.max_value is not None}


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return None
    try:
        d = Decimal(v.strip().replace(",", "")) if isinstance(v, str) else Decimal(str(v))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


_ANY_NUMBER = (Decimal("-Infinity"), Decimal("Infinity"))  # an unknown metric's (reported)


def _clause_value(v: Any, bounds: tuple[Decimal, Decimal]) -> int | float | ErrorCode:
    """A clause's number as stored (int or float), or the code of why it cannot be one."""
    d = _number(v)
    if d is None:
        return ErrorCode.REPORT_RULE_BAD_NUMBER
    if not bounds[0] <= d <= bounds[1]:
        return ErrorCode.REPORT_RULE_NUMBER_OUT_OF_RANGE
    return int(d) if d == d.to_integral_value() else float(d)


def _condition(cond: Any, ranges: dict[str, tuple[Decimal, Decimal]],
               errs: list[ErrorItem]) -> list[dict[str, Any]]:
    """The clauses of a condition (JSON text or a list), each problem added to ``errs``."""
    if isinstance(cond, str):
        try:
            cond = json.loads(cond)
        except ValueError as exc:
            errs.append(item(ErrorCode.REPORT_RULE_BAD_CONDITION, field="condition",
                             detail=f"not JSON ({exc})"))
            return []
    if not isinstance(cond, list) or not cond:
        errs.append(item(ErrorCode.REPORT_RULE_BAD_CONDITION, field="condition",
                         detail="expected a non-empty list of clauses "
                                '[{"metric": ..., "op": ..., "value": ...}]'))
        return []
    if len(cond) > MAX_CLAUSES:
        errs.append(item(ErrorCode.REPORT_RULE_BAD_CONDITION, field="condition",
                         detail=f"at most {MAX_CLAUSES} clauses"))
        return []
    clauses = [_clause(i, cl, ranges, errs) for i, cl in enumerate(cond, start=1)]
    return [c for c in clauses if c is not None]


def _clause(i: int, cl: Any, ranges: dict[str, tuple[Decimal, Decimal]],
            errs: list[ErrorItem]) -> dict[str, Any] | None:
    """Clause ``i`` normalised, or None with its problems added to ``errs``."""
    where = f"condition[{i}]"
    if not isinstance(cl, dict) or set(cl) != {"metric", "op", "value"}:
        errs.append(item(ErrorCode.REPORT_RULE_BAD_CONDITION, field=where,
                         detail=f"clause {i} must have exactly metric, op, value"))
        return None
    m, op = cl["metric"], cl["op"]
    bounds = ranges.get(m, _ANY_NUMBER)
    v = _clause_value(cl["value"], bounds)
    if m not in METRICS:
        errs.append(item(ErrorCode.REPORT_RULE_UNKNOWN_METRIC, field=f"{where}.metric",
                         clause=i, value=m, allowed=", ".join(METRICS)))
    if op not in OPS:
        errs.append(item(ErrorCode.REPORT_RULE_BAD_OPERATOR, field=f"{where}.op",
                         clause=i, value=op, allowed=" ".join(OPS)))
    if isinstance(v, ErrorCode):
        errs.append(item(v, field=f"{where}.value", clause=i, value=cl["value"],
                         min=number_text(bounds[0]), max=number_text(bounds[1])))
        return None
    return {"metric": m, "op": op, "value": v}


def _target_value(dictionary: Dictionary, target: Any, value: Any,
                  errs: list[ErrorItem]) -> Any:
    """The value a rule sets (an enum target's code), each problem added to ``errs``."""
    allowed = targets(dictionary)
    if target not in allowed:
        errs.append(item(ErrorCode.REPORT_RULE_BAD_TARGET, field="target", value=target,
                         allowed=", ".join(allowed)))
    elif allowed[target] is not None:
        f = dictionary.entity("customer").field(target)
        assert f.enum is not None
        code = f.enum.lookup().get(str(value or "").strip().casefold())
        if code is None:
            errs.append(item(ErrorCode.REPORT_RULE_BAD_VALUE, field="value", target=target,
                             value=value, allowed=", ".join(f.enum.codes())))
        return code
    elif (not isinstance(value, str) or not value.strip() or len(value) > 100
          or unstorable_char(value) is not None):
        errs.append(item(ErrorCode.REPORT_RULE_BAD_VALUE, field="value", target=target, value=value,
                         allowed="1-100 characters (no control characters)"))
    return value


def validate(dictionary: Dictionary, body: dict[str, Any]) -> dict[str, Any]:
    """The normalised rule, or ``REPORT_RULE_INVALID`` listing every problem (zh and en)."""
    errs: list[ErrorItem] = []
    clauses = _condition(body.get("condition"), metric_ranges(dictionary), errs)
    target = body.get("target")
    value = _target_value(dictionary, target, body.get("value"), errs)
    name = str(body.get("name") or "").strip()
    if errs:
        first = errs[0]
        raise ApiError(ErrorCode.REPORT_RULE_INVALID, field=first.field, errors=errs, name=name,
                       count=len(errs))
    return {"name": name, "label_zh": (body.get("label_zh") or name).strip(),
            "label_en": (body.get("label_en") or name).strip(), "condition": clauses,
            "target": target, "value": str(value).strip(),
            "priority": int(body.get("priority") or 0), "active": bool(body.get("active", True))}


# -- storage -------------------------------------------------------------------------------

def _out(r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "label_zh": r.label_zh, "label_en": r.label_en,
            "condition": json.loads(r.condition), "target": r.target, "value": r.value,
            "priority": r.priority, "active": bool(r.active), "updated_by": r.updated_by,
            "updated_at": r.updated_at.isoformat() if r.updated_at else None}


def list_rules(db: Database, conn: Connection, active_only: bool = False) -> list[dict[str, Any]]:
    t = db.table("sys_tag_rule")
    q = select(t).order_by(t.c.target, t.c.priority.desc(), t.c.id)
    if active_only:
        q = q.where(t.c.active.is_(True))
    return [_out(r) for r in conn.execute(q)]


def _check_name(db: Database, conn: Connection, name: str, rule_id: int | None) -> None:
    t = db.table("sys_tag_rule")
    q = select(t.c.id).where(t.c.name == name)
    if rule_id is not None:
        q = q.where(t.c.id != rule_id)
    if conn.execute(q).first():
        raise ApiError(ErrorCode.REPORT_RULE_DUPLICATE, field="name", name=name)


def create_rule(db: Database, dictionary: Dictionary, user: User,
                body: dict[str, Any]) -> dict[str, Any]:
    rule = validate(dictionary, body)
    t = db.table("sys_tag_rule")
    with db.write() as conn:
        _check_name(db, conn, rule["name"], None)
        at = datetime.now(UTC)
        res = conn.execute(insert(t).values(
            **{**rule, "condition": json.dumps(rule["condition"], ensure_ascii=False)},
            created_at=at, updated_at=at, updated_by=user.username))
        rid = res.inserted_primary_key[0]  # type: ignore[index]
        return _out(conn.execute(select(t).where(t.c.id == rid)).one())


def update_rule(db: Database, dictionary: Dictionary, user: User, rule_id: int,
                body: dict[str, Any]) -> dict[str, Any]:
    rule = validate(dictionary, body)
    t = db.table("sys_tag_rule")
    with db.write() as conn:
        if not conn.execute(select(t.c.id).where(t.c.id == rule_id)).first():
            raise ApiError(ErrorCode.REPORT_RULE_NOT_FOUND, rule_id=rule_id)
        _check_name(db, conn, rule["name"], rule_id)
        conn.execute(update(t).where(t.c.id == rule_id).values(
            **{**rule, "condition": json.dumps(rule["condition"], ensure_ascii=False)},
            updated_at=datetime.now(UTC), updated_by=user.username))
        return _out(conn.execute(select(t).where(t.c.id == rule_id)).one())


def delete_rule(db: Database, rule_id: int) -> None:
    t = db.table("sys_tag_rule")
    with db.write() as conn:
        if not conn.execute(delete(t).where(t.c.id == rule_id)).rowcount:
            raise ApiError(ErrorCode.REPORT_RULE_NOT_FOUND, rule_id=rule_id)


# -- evaluation ----------------------------------------------------------------------------

def rule_case(rules: list[dict[str, Any]], cols: Any) -> ColumnElement[Any] | None:
    """SQL ``CASE``: the value of the first matching rule (``rules`` in priority order)."""
    whens = []
    for r in rules:
        conds = [OPS[c["op"]](cols[c["metric"]], literal(c["value"])) for c in r["condition"]]
        whens.append((and_(*conds), literal(r["value"])))
    return case(*whens, else_=None) if whens else None


@functools.cache
def _core_ranges() -> dict[str, tuple[Decimal, Decimal]]:
    return metric_ranges(build_dictionary())  # the metrics read core fields only


def by_target(rules: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Active rules per target, in priority order, leaving out any rule saved before its
    numbers were limited (one the database cannot compare)."""
    ranges = _core_ranges()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rules, key=lambda r: (-int(r["priority"]), int(r["id"]))):
        if r["active"] and _comparable(r, ranges):
            out.setdefault(r["target"], []).append(r)
    return out


def _comparable(rule: dict[str, Any], ranges: dict[str, tuple[Decimal, Decimal]]) -> bool:
    return all(c.get("metric") in ranges
               and not isinstance(_clause_value(c.get("value"), ranges[c["metric"]]), str)
               for c in rule["condition"])


def apply_rules(db: Database, dictionary: Dictionary, user: User, p: ReportParams,
                batch: int = 1000) -> dict[str, Any]:
    """Evaluate the active field-target rules on every customer ``user`` may see and write
    the changed values through the push engine (audited, with base values)."""
    from bridge.reports.rfm import rfm_relation
    from bridge.sync.push import push

    with db.read() as conn:
        rules = by_target(list_rules(db, conn, active_only=True))
        fields = {t: rs for t, rs in rules.items() if t != SEGMENT_TARGET}
        changes: dict[str, dict[str, tuple[Any, Any]]] = {}
        versions: dict[str, int] = {}
        for target, rs in fields.items():
            rel = rfm_relation(db, dictionary, user, p, extra=(target,))
            computed = rule_case(rs, rel.c)
            assert computed is not None
            cur = rel.c[f"cur_{target}"]
            q = (select(rel.c.id, rel.c.version, cur, computed.label("new"))
                 .where(computed.is_not(None), or_(cur.is_(None), cur != computed)))
            for rid, version, old, new in conn.execute(q):
                changes.setdefault(rid, {})[target] = (old, new)
                versions[rid] = int(version)
    tally: Counter[str] = Counter()
    per_value: dict[str, Counter[str]] = {t: Counter() for t in fields}
    rows = [RowChange(op="update", entity="customer", id=rid, base_version=versions[rid],
                      values={t: v[1] for t, v in ch.items()},
                      base={t: v[0] for t, v in ch.items()}) for rid, ch in changes.items()]
    for ch in changes.values():
        for t, (_, new) in ch.items():
            per_value[t][str(new)] += 1
    run = uuid.uuid4().hex[:12]
    for i in range(0, len(rows), batch):
        resp = push(db, dictionary, user, PushRequest(
            idempotency_key=f"tag-rules-{run}-{i // batch}", template_version=dictionary.version,
            rows=rows[i:i + batch]), max_rows=batch)
        tally.update(resp.counts)
    return {"as_of": p.as_of.isoformat(), "rules": sum(len(v) for v in fields.values()),
            "customers_changed": len(rows), "push": dict(tally),
            "by_target": {t: dict(c) for t, c in per_value.items()}}


def apply_rules_job(db: Database, dictionary: Dictionary, as_of: Any = None,
                    window_days: int = 365) -> dict[str, Any]:
    """For a scheduler: apply the rules as the system user over all customers."""
    from bridge.reports.params import make_params

    return apply_rules(db, dictionary, SYSTEM_USER, make_params(as_of=as_of,
                                                                window_days=window_days))
