"""Export control: caps on the rows a role may pull, the pull log, the flag on unusual pulls.

Per role (settings ``export_*``): at most ``export_rows_per_pull`` rows in one pull and
``export_rows_per_day`` rows in any 24 hours (absent or 0: no cap). Rows of the entities a
role may pull in full (``export_full_entities``) are sent whatever their number and are not
counted against its caps. A pull over a cap is refused as a whole (``EXPORT_PULL_CAP``,
``EXPORT_DAY_CAP``: 403, the message names the cap and the count) and nothing is sent.

Every pull, answered or refused, is one ``sys_pull`` row (id, user, role, time, entities
and their rows, rows counted, refusal) written with the pull's audit entry, in the
transaction that holds the audit tail: two pulls of one user check the day cap one after
the other. The pull id is sent with the answer (``PullResponse.pull_id``): the add-in
writes it into the workbook's hidden ``_meta`` sheet, so a leaked file names its pull.

Flag (for the automation issue to alert on): a pull is ``flagged`` when it sends at least
``export_flag_min_rows`` rows and more than ``export_flag_factor`` times the user's mean
rows per answered pull over their last 20 answered pulls in 30 days (no such pull: a mean
of 0, so a first bulk pull is flagged).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from bridge.auth import User, as_utc
from bridge.db import Database
from bridge.errors import ApiError
from bridge.settings import Settings
from schema.errors import ErrorCode
from schema.permissions import ROLES

DAY = timedelta(hours=24)
FLAG_HISTORY = 20
FLAG_DAYS = 30


@dataclass(frozen=True, slots=True)
class Caps:
    per_pull: int  # 0: no cap
    per_day: int
    full: frozenset[str] = field(default_factory=frozenset)  # not counted
    flag_min: int = 1000
    flag_factor: float = 10.0

    @classmethod
    def of(cls, settings: Settings | None, role: str) -> Caps:
        """The caps of ``role`` (none without settings)."""
        if settings is None:
            return cls(0, 0)
        return cls(max(0, settings.export_rows_per_pull.get(role, 0)),
                   max(0, settings.export_rows_per_day.get(role, 0)),
                   frozenset(settings.export_full_entities.get(role, ())),
                   max(1, settings.export_flag_min_rows), settings.export_flag_factor)

    def counted(self, rows: dict[str, int]) -> int:
        return sum(n for code, n in rows.items() if code not in self.full)


@dataclass(slots=True)
class PullRecord:
    """One pull as the log keeps it."""

    user: User
    at: datetime
    full: bool
    since: int | None
    cursor: int
    rows: dict[str, int]
    counted: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    refused: ErrorCode | None = None
    flagged: bool = False

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def audit_changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {"since": self.since, "cursor": self.cursor, "rows": self.rows,
                               "pull_id": self.id, "total": self.total,
                               "counted": self.counted, "flagged": self.flagged}
        if self.refused is not None:
            out["refused"] = str(self.refused)
        return out


def _role_names(role: str) -> dict[str, Any]:
    r = ROLES.get(role)
    return {"zh": {"role": r.zh if r else role}, "en": {"role": r.en if r else role}}


def _recent(db: Database, conn: Connection, username: str, after: datetime) -> list[Any]:
    t = db.table("sys_pull")
    return list(conn.execute(select(t.c.at, t.c.counted).where(
        t.c.username == username, t.c.at > after, t.c.refused.is_(None)).order_by(t.c.at)))


def refusal(db: Database, conn: Connection, rec: PullRecord, caps: Caps) -> ApiError | None:
    """The error refusing ``rec`` (a cap it would pass), or None."""
    names = _role_names(rec.user.role)
    if caps.per_pull and rec.counted > caps.per_pull:
        return ApiError(ErrorCode.EXPORT_PULL_CAP, max=caps.per_pull, count=rec.counted,
                        **names)
    if not caps.per_day or not rec.counted:
        return None
    recent = _recent(db, conn, rec.user.username, rec.at - DAY)
    used = sum(r.counted for r in recent)
    if used + rec.counted <= caps.per_day:
        return None
    freed, free_at = 0, rec.at + DAY  # when enough of the day's rows leave the window
    for r in recent:
        freed += r.counted
        if used - freed + rec.counted <= caps.per_day:
            free_at = as_utc(r.at) + DAY
            break
    hours = max(1, math.ceil((free_at - rec.at).total_seconds() / 3600))
    return ApiError(ErrorCode.EXPORT_DAY_CAP, max=caps.per_day, used=used, count=rec.counted,
                    hours=hours, **names)


def unusual(db: Database, conn: Connection, rec: PullRecord, caps: Caps) -> bool:
    """Whether ``rec`` is far above its user's usual (the rule in the module docstring)."""
    if rec.total < caps.flag_min:
        return False
    t = db.table("sys_pull")
    last = (select(t.c.rows).where(t.c.username == rec.user.username, t.c.refused.is_(None),
                                   t.c.at > rec.at - timedelta(days=FLAG_DAYS))
            .order_by(t.c.at.desc()).limit(FLAG_HISTORY).subquery())
    mean = conn.execute(select(func.avg(last.c.rows))).scalar_one()
    return rec.total > caps.flag_factor * float(mean or 0)


def store(db: Database, conn: Connection, rec: PullRecord) -> None:
    """The pull's ``sys_pull`` row."""
    conn.execute(insert(db.table("sys_pull")).values(
        id=rec.id, username=rec.user.username, role=rec.user.role, at=rec.at, full=rec.full,
        since=rec.since, cursor=rec.cursor, entities=orjson.dumps(rec.rows).decode(),
        rows=rec.total, counted=rec.counted,
        refused=None if rec.refused is None else str(rec.refused), flagged=rec.flagged))


def listed(db: Database, conn: Connection, *, username: str | None = None,
           flagged: bool | None = None, before: datetime | None = None,
           limit: int = 100) -> list[dict[str, Any]]:
    """Logged pulls, newest first (``GET /admin/pulls``)."""
    t = db.table("sys_pull")
    q = select(t).order_by(t.c.at.desc(), t.c.id).limit(limit)
    if username is not None:
        q = q.where(t.c.username == username)
    if flagged is not None:
        q = q.where(t.c.flagged.is_(flagged))
    if before is not None:
        q = q.where(t.c.at < as_utc(before))
    return [{**r._asdict(), "at": as_utc(r.at).isoformat(),
             "entities": orjson.loads(r.entities)} for r in conn.execute(q)]
