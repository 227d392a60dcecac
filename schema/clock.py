"""The clock: UTC inside, the team's time zone only for display.

Everything stored or sent (database timestamps, the workbook's ``last_push``/``last_pull``,
audit entries) is an aware UTC ``datetime`` or its ISO text with ``+00:00``. A person sees
times in the team's zone through :func:`display` (default ``Asia/Shanghai``, via zoneinfo).
Calendar *values* of the dictionary (DATETIME fields, report days) keep their own rule:
China Standard Time, ``schema.values.DEFAULT_TZ``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TEAM_ZONE = "Asia/Shanghai"


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive ``dt`` (SQLite hands those back) is taken to be UTC already."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def stamp(dt: datetime | None = None) -> str:
    """ISO text of ``dt`` (default: now) in UTC to the second: ``2026-03-31T06:30:00+00:00``."""
    return as_utc(dt or now()).isoformat(timespec="seconds")


def parse_stamp(text: str) -> datetime:
    """A :func:`stamp` (or any ISO text; naive means UTC) back as an aware UTC datetime."""
    return as_utc(datetime.fromisoformat(text))


def display(dt: datetime | str, zone: str = TEAM_ZONE) -> str:
    """How a person reads ``dt`` (a datetime or a stamp): ``2026-03-31 14:30`` in ``zone``."""
    moment = parse_stamp(dt) if isinstance(dt, str) else as_utc(dt)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
