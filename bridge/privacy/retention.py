"""Retention: per-entity rules, and the runs that remove what they have kept too long.

A rule (``sys_retention_rule``) names an entity, a date field of it (or ``created_at`` /
``updated_at``), a number of days and, optionally, values some fields must hold
(``{"status": ["closed"]}``): closed tickets whose close day is more than three years back.
A run (``crm-bridge retention run [--dry-run] [--as-of DAY]``) takes the live records each
rule matches on the day given (the clock is a parameter, so tests inject it) and tombstones
them under one change number, so pulls remove them from workbooks; on an entity with
personal fields it also clears those and destroys the record's audit subject key, as an
erasure does. Records under a legal hold, and records other live records still reference,
are left alone and listed. Every removal is audited (``retention``, naming the rule).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from bridge import audit
from bridge.auth import User, now
from bridge.db import Database
from bridge.errors import ApiError
from bridge.privacy import hold
from bridge.privacy.records import append_audit
from bridge.sync.tail import lock_audit_tail
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.sql import table_name
from schema.types import FieldType
from schema.values import DEFAULT_TZ

TABLE = "sys_retention_rule"
SYSTEM_DATES = ("created_at", "updated_at")
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Rule:
    name: str
    entity: str
    date_field: str
    days: int
    match: dict[str, list[str]] = field(default_factory=dict)


def _invalid(rule: Rule, detail: str) -> ApiError:
    return ApiError(ErrorCode.RETENTION_RULE_INVALID, name=rule.name, detail=detail)


def check_rule(dictionary: Dictionary, rule: Rule) -> None:
    """``RETENTION_RULE_INVALID`` saying what is wrong with ``rule``."""
    if not rule.name.strip() or len(rule.name) > 100:
        raise _invalid(rule, "a name of 1 to 100 characters is needed")
    if rule.entity not in dictionary.entities:
        raise _invalid(rule, f"unknown entity {rule.entity!r}; one of "
                       f"{', '.join(dictionary.entities)}")
    entity = dictionary.entity(rule.entity)
    dated = [f.code for f in entity.fields if f.type in (FieldType.DATE, FieldType.DATETIME)]
    if rule.date_field not in (*dated, *SYSTEM_DATES):
        raise _invalid(rule, f"{rule.date_field!r} is not a date of {rule.entity}; one of "
                       f"{', '.join((*dated, *SYSTEM_DATES))}")
    if not 1 <= rule.days <= MAX_DAYS:
        raise _invalid(rule, f"days must be between 1 and {MAX_DAYS}")
    for code, values in rule.match.items():
        if not entity.has_field(code):
            raise _invalid(rule, f"{rule.entity} has no field {code!r}")
        f = entity.field(code)
        allowed = [m.code for m in f.enum.values] if f.enum is not None else None
        bad = [v for v in values if allowed is not None and v not in allowed]
        if not values or bad:
            raise _invalid(rule, f"{code}: {bad or 'no value'} not among "
                           f"{', '.join(allowed or ['any text'])}")


def set_rule(db: Database, dictionary: Dictionary, conn: Connection, user: User,
             rule: Rule) -> None:
    """Create or replace a rule (inside ``db.write()``), audited."""
    check_rule(dictionary, rule)
    t = db.table(TABLE)
    conn.execute(delete(t).where(t.c.name == rule.name))
    conn.execute(insert(t).values(name=rule.name, entity=rule.entity,
                                  date_field=rule.date_field, days=rule.days,
                                  match=json.dumps(rule.match, ensure_ascii=False),
                                  updated_by=user.username, updated_at=now()))
    append_audit(db, conn, [audit.Entry(user.username, "retention_rule", rule.entity,
                                        changes={"set": asdict(rule)})])


def remove_rule(db: Database, conn: Connection, user: User, name: str) -> None:
    t = db.table(TABLE)
    row = conn.execute(select(t.c.entity).where(t.c.name == name)).first()
    if row is None:
        raise ApiError(ErrorCode.RETENTION_RULE_NOT_FOUND, name=name)
    conn.execute(delete(t).where(t.c.name == name))
    append_audit(db, conn, [audit.Entry(user.username, "retention_rule", row.entity,
                                        changes={"removed": name})])


def rules(db: Database, conn: Connection) -> list[Rule]:
    t = db.table(TABLE)
    return [Rule(r.name, r.entity, r.date_field, r.days, json.loads(r.match))
            for r in conn.execute(select(t).order_by(t.c.name))]


def _cutoff(dictionary: Dictionary, rule: Rule, today: date) -> date | datetime:
    day = today - timedelta(days=rule.days)
    entity = dictionary.entity(rule.entity)
    if rule.date_field in SYSTEM_DATES or entity.field(rule.date_field).type is \
            FieldType.DATETIME:
        return datetime.combine(day, time(), DEFAULT_TZ)
    return day


def _matches(db: Database, dictionary: Dictionary, conn: Connection, rule: Rule,
             today: date) -> list[str]:
    t = db.table(table_name(rule.entity))
    q = select(t.c.id).where(t.c.deleted.is_(False),
                             t.c[rule.date_field] < _cutoff(dictionary, rule, today))
    for code, values in rule.match.items():
        q = q.where(t.c[code].in_(values))
    return list(conn.execute(q.order_by(t.c.id)).scalars())


def run(db: Database, dictionary: Dictionary, user: User, today: date,
        dry_run: bool = False) -> dict[str, Any]:
    """Apply every rule on ``today`` (or with ``dry_run`` say what would go)."""
    if dry_run:
        with db.read() as conn:
            return _run(db, dictionary, conn, user, today, None)
    with db.write() as conn:
        return _run(db, dictionary, conn, user, today, db.next_seq(conn))


def _run(db: Database, dictionary: Dictionary, conn: Connection, user: User, today: date,
         seq: int | None) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    entries: list[audit.Entry] = []
    for rule in rules(db, conn):
        ids = _matches(db, dictionary, conn, rule, today)
        held = {h["record_id"] for h in hold.active_holds(db, conn,
                                                          [(rule.entity, i) for i in ids])}
        kept = _referenced(db, dictionary, conn, rule.entity, ids) if ids else set()
        gone = [i for i in ids if i not in held and i not in kept]
        out.append({"rule": rule.name, "entity": rule.entity,
                    "cutoff": _cutoff(dictionary, rule, today).isoformat(),
                    "removed": gone, "held": sorted(held), "referenced": sorted(kept)})
        if seq is not None and gone:
            entries += _remove(db, dictionary, conn, user, rule, gone, seq)
    if entries:
        append_audit(db, conn, entries)
    return {"as_of": today.isoformat(), "dry_run": seq is None, "rules": out}


def _referenced(db: Database, dictionary: Dictionary, conn: Connection, entity: str,
                ids: list[str]) -> set[str]:
    """Which of ``ids`` a live record of another entity still points at."""
    found: set[str] = set()
    for e in dictionary:
        for f in e.fields:
            if f.type is FieldType.REFERENCE and f.ref == entity and e.code != entity:
                t = db.table(table_name(e.code))
                found |= set(conn.execute(select(t.c[f.code]).where(
                    db.one_of(t.c[f.code], ids), t.c.deleted.is_(False))).scalars())
    return found


def _remove(db: Database, dictionary: Dictionary, conn: Connection, user: User, rule: Rule,
            ids: list[str], seq: int) -> list[audit.Entry]:
    entity = dictionary.entity(rule.entity)
    personal = tuple(f.code for f in entity.fields if f.personal)
    t = db.table(table_name(rule.entity))
    conn.execute(t.update().where(db.one_of(t.c.id, ids)).values(
        **{c: None for c in personal}, deleted=True, version=t.c.version + 1,
        updated_by=user.username, updated_at=now(), change_seq=seq))
    lock_audit_tail(db, conn)
    for rid in ids if personal else []:
        audit.seal.forget_subject(db, conn, rule.entity, rid, user.username,
                                  details={"rule": rule.name, "fields": list(personal)},
                                  change_seq=seq)
    return [audit.Entry(user.username, "retention", rule.entity, rid,
                        {"rule": rule.name, "date_field": rule.date_field, "days": rule.days},
                        change_seq=seq) for rid in ids]

