"""History of an imported record (``schema.wire.RowHistory``): its moments read and checked,
and an opportunity's stage history built from what the old records hold.

Pure functions over the wire's text, shared by the bridge (which stores the result) and any
client that wants to check a history before it sends it. A problem is a
:class:`HistoryProblem` carrying its ``ErrorCode`` and the message's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from schema.clock import TEAM_ZONE, as_utc
from schema.enums import CLOSED_STAGES
from schema.errors import ErrorCode

CREATED_AT, CLOSED_AT, STAGES = "created_at", "closed_at", "stages"  # RowHistory's keys


class HistoryProblem(Exception):
    """Why a history cannot be stored: its code and the message's parameters."""

    def __init__(self, code: ErrorCode, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True, slots=True)
class Moments:
    """A history's moments, parsed (aware, UTC): what a record stores."""

    created_at: datetime | None = None
    closed_at: datetime | None = None
    stages: list[tuple[str, datetime]] = field(default_factory=list)  # in the order sent


def parse_moment(text: str, key: str, now: datetime, zone: str = TEAM_ZONE) -> datetime:
    """``text`` (``2021-03-02``, ``2021-03-02 10:30``, ``2021-03-02T10:30:00+08:00``, ``…Z``)
    as an aware UTC datetime; a day means its midnight and a time without an offset is in
    ``zone`` (the team's). Refused when it is not a date or datetime, or after ``now``."""
    raw = text.strip() if isinstance(text, str) else ""
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(0), ZoneInfo(zone))
        else:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(zone))
        moment = as_utc(moment)
    except (ValueError, OverflowError):  # not a moment, or one UTC cannot hold (year 0)
        raise HistoryProblem(ErrorCode.HISTORY_BAD_MOMENT, field=key, value=text) from None
    if moment > now:
        raise HistoryProblem(ErrorCode.HISTORY_IN_FUTURE, field=key, value=text)
    return moment


def parse_moments(created_at: str | None, closed_at: str | None, stages: dict[str, str],
                  stage_codes: list[str], now: datetime, zone: str = TEAM_ZONE) -> Moments:
    """Every moment of a history parsed; the stage codes checked against ``stage_codes``
    and the days in the order sent never going back; nothing closed before it was created."""
    created = parse_moment(created_at, CREATED_AT, now, zone) if created_at else None
    closed = parse_moment(closed_at, CLOSED_AT, now, zone) if closed_at else None
    entries: list[tuple[str, datetime]] = []
    for code, day in stages.items():
        if code not in stage_codes:
            raise HistoryProblem(ErrorCode.HISTORY_UNKNOWN_STAGE, field=f"{STAGES}.{code}",
                                 value=code,
                                 allowed=", ".join(stage_codes))
        moment = parse_moment(day, f"{STAGES}.{code}", now, zone)
        if entries and moment < entries[-1][1]:
            prev = entries[-1][0]
            raise HistoryProblem(ErrorCode.HISTORY_OUT_OF_ORDER, field=f"{STAGES}.{code}",
                                 value=day, other=f"{STAGES}.{prev}",
                                 other_value=stages[prev])
        entries.append((code, moment))
    if created is not None and entries and entries[0][1] < created:
        first = entries[0][0]
        raise HistoryProblem(ErrorCode.HISTORY_OUT_OF_ORDER, field=f"{STAGES}.{first}",
                             value=stages[first], other=CREATED_AT, other_value=created_at)
    if created is not None and closed is not None and closed < created:
        raise HistoryProblem(ErrorCode.HISTORY_OUT_OF_ORDER, field=CLOSED_AT, value=closed_at,
                             other=CREATED_AT, other_value=created_at)
    return Moments(created, closed, entries)


def stage_history(stage: str, m: Moments, first_stage: str,
                  created_default: datetime) -> list[tuple[str, datetime]]:
    """An opportunity's stage history: the stages as sent (the last one must be ``stage``),
    or, without them, built from its creation (the first stage entered then; an open deal's
    own stage) and its close (its won or lost stage entered then)."""
    if m.closed_at is not None and stage not in CLOSED_STAGES:
        raise HistoryProblem(ErrorCode.HISTORY_CLOSED_OPEN, field=CLOSED_AT, stage=stage)
    if m.stages:
        last = m.stages[-1][0]
        if last != stage:
            raise HistoryProblem(ErrorCode.HISTORY_STAGE_MISMATCH, field=STAGES, value=last,
                                 stage=stage)
        return list(m.stages)
    created = m.created_at or created_default
    if m.closed_at is None:
        return [(stage, created)]
    return [(first_stage, created), (stage, m.closed_at)]
