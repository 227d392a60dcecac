"""Typed report parameters: as-of date, period, owner/team/region filters, RFM options."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from bridge.errors import ApiError
from schema.enums import PRODUCT_LINE, REGION
from schema.errors import ErrorCode
from schema.types import EnumType
from schema.values import DEFAULT_TZ

ScoreMethod = Literal["rank", "ntile"]
SCORE_METHODS: tuple[str, ...] = ("rank", "ntile")
MAX_WINDOW_DAYS = 3660
# Report dates: Excel's first day up to the day before the calendar ends (a report reads
# up to the end of its last day, and compares the period before a KPI period with it).
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(9999, 12, 30)
MAX_PERIOD_DAYS = 36_600  # a KPI period of up to 100 years (its previous period must exist)
MAX_LIMIT = 1_000_000  # longest list a report returns; lists are complete up to it by default
# the parameters each report reads (its ``filters`` echo only these: a funnel has no window)
USED: dict[str, tuple[str, ...]] = {
    "funnel": ("period_from", "period_to", "owner", "team", "region", "product_line"),
    "kpis": ("period_from", "period_to", "owner", "team", "region", "product_line", "limit"),
    "rfm": ("owner", "team", "region", "window_days", "score_method", "limit"),
}


def today_local() -> date:
    """Today in the CRM's time zone (China Standard Time, UTC+08:00)."""
    return datetime.now(DEFAULT_TZ).date()


def day_start_utc(d: date) -> datetime:
    """The instant local day ``d`` begins (00:00 +08:00), as an aware UTC datetime."""
    return datetime.combine(d, time(0), DEFAULT_TZ).astimezone(UTC)


def month_start(d: date, back: int = 0) -> date:
    m = d.year * 12 + d.month - 1 - back
    return date(m // 12, m % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What one report is computed over. Dates are local (UTC+08:00) calendar days."""

    as_of: date
    period_from: date | None = None
    period_to: date | None = None
    owner: str | None = None
    team: str | None = None
    region: str | None = None  # a REGION code
    product_line: str | None = None  # a PRODUCT_LINE code (funnel, KPIs)
    window_days: int = 365  # RFM window: the ``window_days`` days ending at ``as_of``
    score_method: ScoreMethod = "rank"
    limit: int = MAX_LIMIT  # longest list returned (customers, overdue follow-ups)

    @property
    def as_of_end(self) -> datetime:
        """The end of the as-of day (next local midnight): events before it are included."""
        return day_start_utc(self.as_of + timedelta(days=1))

    @property
    def window_start(self) -> date:
        return self.as_of - timedelta(days=self.window_days - 1)

    def kpi_period(self) -> tuple[date, date]:
        """The KPI period: as given, else the 12 calendar months ending with as-of's month
        (up to the as-of day)."""
        return (self.period_from or month_start(self.as_of, 11), self.period_to or self.as_of)

    def echo(self, report: str | None = None) -> dict[str, Any]:
        """The parameters actually used by ``report`` (all of them when None): the as-of
        date, the time zone and the report's own filters, never another report's defaults."""
        every: dict[str, Any] = {
            "period_from": self.period_from.isoformat() if self.period_from else None,
            "period_to": self.period_to.isoformat() if self.period_to else None,
            "owner": self.owner, "team": self.team, "region": self.region,
            "product_line": self.product_line, "window_days": self.window_days,
            "score_method": self.score_method, "limit": self.limit}
        used = USED.get(report or "", tuple(every))
        return {"as_of": self.as_of.isoformat(), **{k: every[k] for k in used},
                "time_zone": "UTC+08:00"}


def _date(name: str, raw: str | date | None) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field=name,
                       detail=f"{name}={raw!r}: expected a date such as 2026-03-31") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field=name,
                       detail=f"{name}={raw!r}: expected a date between {DATE_MIN} and "
                              f"{DATE_MAX}")
    return day


def _check_span(start: date, end: date) -> None:
    """A KPI period (as given or by default) of at most ``MAX_PERIOD_DAYS``, forwards."""
    if not timedelta(0) <= end - start < timedelta(days=MAX_PERIOD_DAYS):
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field="period_from",
                       detail=f"the period {start} .. {end} must run forwards and span at most "
                              f"{MAX_PERIOD_DAYS} days")


def _code(name: str, enum: EnumType, raw: str | None) -> str | None:
    """A code of ``enum`` given as its code or a label (zh or en, any case)."""
    if not raw or not raw.strip():
        return None
    code = enum.lookup().get(raw.strip().casefold())
    if code is None:
        allowed = ", ".join(f"{v.code} ({v.zh}/{v.en})" for v in enum.values)
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field=name, allowed=enum.codes(),
                       detail=f"{name}={raw!r}: allowed {allowed}")
    return code


def _int(name: str, raw: int | str | None, default: int, hi: int) -> int:
    """A whole number 1..``hi`` (``default`` when not given)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= hi:
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field=name,
                       detail=f"{name}={raw!r}: expected a whole number 1..{hi}")
    return value


def make_params(as_of: str | date | None = None, period_from: str | date | None = None,
                period_to: str | date | None = None, owner: str | None = None,
                team: str | None = None, region: str | None = None,
                window_days: int | str | None = 365, score_method: str | None = "rank",
                limit: int | str | None = MAX_LIMIT,
                product_line: str | None = None) -> ReportParams:
    """Validated parameters (raises ``REPORT_PARAM_INVALID`` naming the parameter and what
    is allowed)."""
    a = _date("as_of", as_of) or today_local()
    pf, pt = _date("period_from", period_from), _date("period_to", period_to)
    if pf and pt and pf > pt:
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field="period_from",
                       detail=f"period_from {pf} is after period_to {pt}")
    _check_span(pf or month_start(a, 11), pt or a)
    reg = _code("region", REGION, region)
    line = _code("product_line", PRODUCT_LINE, product_line)
    window = _int("window_days", window_days, 365, MAX_WINDOW_DAYS)
    cap = _int("limit", limit, MAX_LIMIT, MAX_LIMIT)
    score_method = (score_method or "rank").strip()
    if score_method not in SCORE_METHODS:
        raise ApiError(ErrorCode.REPORT_PARAM_INVALID, field="score_method",
                       allowed=list(SCORE_METHODS),
                       detail=f"score_method={score_method!r}: allowed rank, ntile")
    return ReportParams(as_of=a, period_from=pf, period_to=pt, owner=owner or None,
                        team=team or None, region=reg, product_line=line,
                        window_days=window,
                        score_method=score_method,  # type: ignore[arg-type]
                        limit=cap)
