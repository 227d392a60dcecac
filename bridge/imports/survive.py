"""Survivorship by recency: the newest verified value of a field wins, a blank never
overwrites, a tie or a side without a date goes to the review sheet.

- A source row may carry when its values were last verified (``ImportRow.verified_on``:
  the mapped ``<entity>.verified_on`` column, or one date for the whole file).
- A stored field's last change is the time of the newest audit entry whose changes name
  the field (``sys_audit``: inserts, updates, restores and undos; personal values are
  unsealed to see which fields they name, an erased entry counts for every personal field).
  The audit trail is the finest record the store keeps: a record's ``version`` and
  ``updated_at`` are per record. A field no audit entry names (a record written around the
  push engine, a value set by a migration) takes the record's ``updated_at``: an upper
  bound, so such a stored value is never taken for older than it may be.
- A verified date (a day) is compared with the day of the stored change in the team's zone
  (``schema.clock.TEAM_ZONE``); a verified date-time with the stored instant. Equal is a tie.

The dry run calls :func:`annotate` once its decisions are made (each ``FieldDifference``
gets its ``winner`` and ``why``); confirm calls :func:`group_values` with the field times as
they are at confirm, so a value changed since the dry run is compared by its new time (a
newer stored value stays; the push's conflict rules are unchanged).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, select

from bridge.audit import keys
from bridge.audit.seal import personal_fields, unseal
from bridge.auth import now
from bridge.db import Database
from bridge.errors import item
from bridge.imports.store import Staged
from schema.clock import TEAM_ZONE, as_utc
from schema.errors import ErrorCode
from schema.sql import table_name
from schema.values import is_blank
from schema.wire import WarningItem
from schema.wire_import import RowChoice, RowDecision, Winner

CHUNK = 5_000  # record ids per audit query
WRITES = ("insert", "update", "restore", "undo")
_DAY = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")
SLACK = timedelta(minutes=5)  # a verified moment this far past "now" is a clock's skew


@dataclass(frozen=True, slots=True, order=True)
class Moment:
    """When a side was verified or changed: its day in the team's zone and, when known,
    its instant (UTC)."""

    day: date
    at: datetime | None = None

    def iso(self) -> str:
        return self.at.isoformat() if self.at is not None else self.day.isoformat()


def compare(a: Moment, b: Moment) -> int:
    """>0 when ``a`` is newer than ``b``, <0 older, 0 a tie (days when either lacks a time)."""
    if a.at is not None and b.at is not None:
        return (a.at > b.at) - (a.at < b.at)
    return (a.day > b.day) - (a.day < b.day)


def stored_moment(at: datetime) -> Moment:
    """A stored change time as a ``Moment`` (its day in the team's zone)."""
    utc = as_utc(at)
    return Moment(utc.astimezone(ZoneInfo(TEAM_ZONE)).date(), utc)


def parse_verified(text: str | None, today: datetime | None = None) -> Moment | None:
    """``2024-05-01``, ``2024/5/1``, ``2024年5月1日``, ``2024-05-01 10:30``, ISO with an
    offset: the moment; None for a blank. Raises ``ValueError`` for anything else or a
    moment after now (a time without an offset is in the team's zone)."""
    raw = (text or "").strip()
    if not raw:
        return None
    zone = ZoneInfo(TEAM_ZONE)
    m = _DAY.match(raw)
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        day = date(int(y), int(mo), int(d))
        moment = Moment(day) if hh is None else stored_moment(
            datetime.combine(day, time(int(hh), int(mm), int(ss or 0)), zone))
    else:
        parsed = datetime.fromisoformat(raw)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        moment = stored_moment(parsed)
    current = as_utc(today or now())
    if moment.day > current.astimezone(zone).date() or (
            moment.at is not None and moment.at > current + SLACK):
        raise ValueError(f"{raw} is after now")
    return moment


def verdict(incoming: Moment | None, existing: Moment | None) -> tuple[Winner | None, str]:
    """Which side of a difference wins, and why (a key of ``SURVIVOR_REASONS``)."""
    if incoming is None:
        return None, "no_incoming_date"
    if existing is None:
        return None, "no_existing_date"
    c = compare(incoming, existing)
    return ("incoming", "incoming_newer") if c > 0 else \
        ("existing", "existing_newer") if c < 0 else (None, "same_time")


@dataclass(frozen=True, slots=True)
class Side:
    """One value of a field: the stored one or a row's, with its moment; ``can_win``
    False for a row whose choice keeps the existing value."""

    value: Any
    at: Moment | None
    can_win: bool = True


def survivor(sides: Sequence[Side]) -> int | None:
    """The index of the side whose value survives, None when every side is blank: the
    first non-blank side (the stored value, else the first row), replaced by each later
    non-blank side that may win and is newer than the survivor so far (an undated side
    neither beats nor is beaten). With every side dated, the newest wins."""
    best: int | None = None
    for i, s in enumerate(sides):
        if is_blank(s.value):
            continue
        if best is None:
            best = i
            continue
        held = sides[best].at
        if s.can_win and s.at is not None and held is not None and compare(s.at, held) > 0:
            best = i
    return best


@dataclass
class FieldTimes:
    """A stored record's last change per field, and its ``updated_at`` for the others."""

    record: Moment
    fields: dict[str, Moment] = field(default_factory=dict)

    def of(self, code: str) -> Moment:
        return self.fields.get(code, self.record)


def field_times(conn: Connection, db: Database, entity: str, ids: Iterable[str]
                ) -> dict[str, FieldTimes]:
    """The last change of every field of the live records ``ids`` (see the docstring)."""
    wanted = sorted(set(ids))
    out: dict[str, FieldTimes] = {}
    t, audit = db.table(table_name(entity)), db.table("sys_audit")
    personal = personal_fields(db).get(entity, frozenset())
    key = keys.checking_key(db) if personal else None
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        for rid, updated in conn.execute(select(t.c.id, t.c.updated_at)
                                         .where(db.one_of(t.c.id, chunk))):
            out[rid] = FieldTimes(stored_moment(updated))
        q = (select(audit.c.record_id, audit.c.entity, audit.c.at, audit.c.changes)
             .where(audit.c.entity == entity, db.one_of(audit.c.record_id, chunk),
                    db.one_of(audit.c.action, list(WRITES)))
             .order_by(audit.c.id))
        entries = [{"record_id": r, "entity": e, "at": at,
                    "changes": orjson.loads(c) if c else None}
                   for r, e, at, c in conn.execute(q)]
        if personal:
            unseal(db, conn, key, entries)
        for e in entries:
            times = out.get(e["record_id"])
            if times is None or not isinstance(e["changes"], dict):
                continue
            codes = [k for k in e["changes"] if not k.startswith("$")]
            if e.get("erased"):
                codes += list(personal)
            times.fields.update(dict.fromkeys(codes, stored_moment(e["at"])))
    return out


# -- the dry run ------------------------------------------------------------------------------


def _bad_date(s: Staged, entity: str) -> WarningItem:
    said = item(ErrorCode.IMPORT_VERIFIED_ON_INVALID, entity=entity, row=s.source_row,
                field="verified_on", value=str(s.verified_on), row_no=s.source_row)
    return WarningItem(**said.model_dump(), params={"value": str(s.verified_on)})


def row_moments(staged: Sequence[Staged]) -> tuple[dict[int, Moment], list[Staged]]:
    """Each dated row's moment (by source row), and the rows whose date does not read."""
    dated: dict[int, Moment] = {}
    bad: list[Staged] = []
    for s in staged:
        if s.verified_on:
            try:
                m = parse_verified(s.verified_on)
            except ValueError:
                bad.append(s)
                continue
            if m is not None:
                dated[s.source_row] = m
    return dated, bad


def _decision(s: Staged) -> RowDecision | None:
    if s.decided is not None:
        return RowDecision.model_validate_json(s.decided)
    return s.decision


def annotate(conn: Connection, db: Database, entity: str, staged: Sequence[Staged]) -> None:
    """Give each ``FieldDifference`` of the dry run's decisions its ``winner`` and ``why``
    (nothing to do, and nothing read, when no row carries a verified date)."""
    dated, bad = row_moments(staged)
    if not dated and not bad:
        return
    todo = [(s, d) for s in staged if s.decided and '"differences"' in s.decided
            and (d := _decision(s)) is not None]
    times = field_times(conn, db, entity, {d.record_id for _, d in todo
                                           if d.decision == "match" and d.record_id})
    for s, d in todo:
        _mark(d, dated.get(s.source_row), times, dated)
        s.set_decision(d)
    for s in bad:
        if (d := _decision(s)) is not None:
            d.warnings.append(_bad_date(s, entity))
            s.set_decision(d)


def _mark(d: RowDecision, mine: Moment | None, times: dict[str, FieldTimes],
          dated: dict[int, Moment]) -> None:
    """One decision's differences: against the stored record's field times (a match) or
    the head row's verified date (a duplicate)."""
    stored = times.get(d.record_id or "") if d.decision == "match" else None
    head = dated.get(d.duplicate_of or 0) if d.decision == "duplicate" else None
    for diff in d.differences:
        other = stored.of(diff.field) if stored is not None else head
        diff.winner, diff.why = verdict(mine, other)
        diff.incoming_verified = mine.iso() if mine else None
        diff.existing_changed = other.iso() if other else None


# -- confirm ----------------------------------------------------------------------------------


def group_values(entity: str, rows: Sequence[Staged], canonical: dict[int, Any],
                 stored: dict[str, Any] | None, times: FieldTimes | None,
                 dated: dict[int, Moment]) -> tuple[dict[str, Any], set[str]]:
    """The values of the customer a group of rows becomes: per field the surviving row
    value (a ``keep`` choice wins, the last one; then :func:`survivor` over the stored
    value and the rows), and the fields whose surviving row value replaces a different
    stored one."""
    per_field: dict[str, list[tuple[Staged, Any]]] = {}
    for s in rows:
        for code, value in canonical[s.source_row].get(entity, {}).items():
            if not is_blank(value):
                per_field.setdefault(code, []).append((s, value))
    values: dict[str, Any] = {}
    take: set[str] = set()
    for code, found in per_field.items():
        current = None if stored is None else stored.get(code)
        best: int | None = None
        kept = [v for s, v in found if s.choice and code in s.choice.keep]
        if kept:
            values[code] = kept[-1]
        else:
            sides = [Side(current, times.of(code) if times else None)] + [
                Side(v, dated.get(s.source_row), _may_win(s.choice, code)) for s, v in found]
            best = survivor(sides)
            values[code] = found[0][1] if not best else sides[best].value
        if not is_blank(current) and (kept or best) and values[code] != current:
            take.add(code)
    return values, take


def _may_win(choice: RowChoice | None, code: str) -> bool:
    return choice is None or code not in choice.keep_existing
