"""Labels for the codes a report shows (dictionary enums, users' display names) and the
filters in words (``filter_labels``), in zh-CN and English."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, select

from bridge.db import Database
from bridge.errors import ApiError
from bridge.reports.params import ReportParams
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.types import EnumType

BLANK = ("（未填）", "(blank)")
UNKNOWN_MONTH = ("（无成交日期）", "(no close date)")
ALL = ("全部", "all")
# code column -> the dictionary enum that labels it
ENUM_OF = {"region": "region", "product_line": "product_line", "industry": "industry",
           "stage": "stage", "lost_reason": "lost_reason", "value_tier": "value_tier",
           "source_channel": "source_channel"}
FILTER_NAMES: dict[str, tuple[str, str]] = {
    "period_from": ("期间开始", "Period from"), "period_to": ("期间结束", "Period to"),
    "owner": ("负责人", "Owner"), "team": ("团队", "Team"), "region": ("区域", "Region"),
    "product_line": ("产品线", "Product line"),
    "window_days": ("RFM 窗口天数", "RFM window (days)"),
    "score_method": ("评分方法", "Score method"), "limit": ("列表上限(行)", "List limit (rows)"),
    "time_zone": ("时区", "Time zone"),
}
METHODS = {"rank": ("排名法 (rank)", "rank"), "ntile": ("五等分法 (ntile)", "ntile")}


@dataclass(frozen=True, slots=True)
class Labels:
    """What one report needs to name codes: the dictionary and the users' display names."""

    dictionary: Dictionary
    people: dict[str, str]  # username -> display name
    names: dict[str, dict[str, tuple[str, str]]]  # column key -> code -> (zh, en)

    @classmethod
    def load(cls, conn: Connection, db: Database, dictionary: Dictionary) -> Labels:
        u = db.table("sys_user")
        people = {r.username: r.display_name
                  for r in conn.execute(select(u.c.username, u.c.display_name))}
        names = {key: {v.code: (v.zh, v.en) for v in enum.values}
                 for key, name in ENUM_OF.items()
                 if (enum := dictionary.enums.get(name)) is not None}
        return cls(dictionary, people, names)

    def enum(self, key: str) -> EnumType | None:
        name = ENUM_OF.get(key)
        return self.dictionary.enums.get(name) if name else None

    def pair(self, key: str, code: Any) -> tuple[str, str]:
        """(zh, en) label of ``code`` in column ``key`` (a blank one says so)."""
        if code is None:
            return UNKNOWN_MONTH if key == "close_month" else BLANK
        if key == "owner":
            name = self.people.get(code, code)
            return name, name
        known = self.names.get(key, {}).get(code)
        return known if known is not None else (str(code), str(code))

    def order(self, key: str, code: Any) -> tuple[int, str]:
        """Sort key: dictionary order for an enum's codes, then by text."""
        enum = self.enum(key)
        codes = enum.codes() if enum is not None else []
        return (codes.index(code) if code in codes else len(codes), str(code))

    def filters(self, echo: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``filter_labels``: every echoed filter as {zh, en, value_zh, value_en}; an unset
        one reads "all"."""
        out: dict[str, dict[str, Any]] = {}
        for key, value in echo.items():
            if key not in FILTER_NAMES:
                continue
            zh, en = FILTER_NAMES[key]
            if value is None:
                vz, ve = ALL
            elif key == "score_method":
                vz, ve = METHODS.get(value, (value, value))
            elif key == "time_zone":
                vz, ve = f"北京时间 ({value})", f"Beijing time ({value})"
            elif key in ("owner", "region", "product_line"):
                vz, ve = self.pair(key, value)
            else:
                vz = ve = str(value)
            out[key] = {"zh": zh, "en": en, "value_zh": vz, "value_en": ve}
        return out


def header(report: str, p: ReportParams, labels: Labels) -> dict[str, Any]:
    """``filters`` (the parameters this report used) and ``filter_labels`` (in words)."""
    echo = p.echo(report)
    return {"filters": echo, "filter_labels": labels.filters(echo)}


def _allowed(name: str, raw: str, choices: list[str]) -> ApiError:
    shown = ", ".join(choices[:20]) + (f" … ({len(choices)})" if len(choices) > 20 else "")
    return ApiError(ErrorCode.REPORT_PARAM_INVALID, field=name, allowed=choices,
                    detail=f"{name}={raw!r}: allowed {shown or '(none)'}")


def _owner(raw: str, users: list[Any]) -> str:
    names = {r.username.casefold(): r.username for r in users}
    for r in users:
        names.setdefault(r.display_name.casefold(), r.username)
    owner = names.get(raw.strip().casefold())
    if owner is None:
        raise _allowed("owner", raw, sorted(r.username for r in users))
    return owner


def _team(raw: str, users: list[Any]) -> str:
    teams = {r.team.casefold(): r.team for r in users if r.team}
    team = teams.get(raw.strip().casefold())
    if team is None:
        raise _allowed("team", raw, sorted(set(teams.values())))
    return team


def resolve_people(db: Database, p: ReportParams) -> ReportParams:
    """``p`` with ``owner`` as a user name (given as the user name or the display name, any
    case) and ``team`` one of the users' teams; otherwise ``REPORT_PARAM_INVALID`` naming
    the parameter and what is allowed."""
    if not (p.owner or p.team):
        return p
    u = db.table("sys_user")
    with db.read() as conn:
        users = list(conn.execute(select(u.c.username, u.c.display_name, u.c.team)).all())
    return replace(p, owner=_owner(p.owner, users) if p.owner else None,
                   team=_team(p.team, users) if p.team else None)
