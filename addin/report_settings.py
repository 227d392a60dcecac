"""The report settings sheet on the add-in's side: read the values typed there, check each
against its declaration (``schema.layout.REPORT_SETTINGS``: which setting, what is
allowed), turn them into each report's query, and fill the team and owner dropdowns from
what the reports showed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from addin.errors import AddinError
from addin.port import WorkbookPort
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode, Lang, render
from schema.layout import (
    FIRST_DATA_ROW,
    REPORT_OWNER_LIST,
    REPORT_SETTING_KEYS,
    REPORT_SETTINGS,
    REPORT_TEAM_LIST,
    ReportSetting,
)

SETTINGS = {s.key: s for s in REPORT_SETTINGS}
REPORT_PARAMS = tuple(SETTINGS)
# the query parameters each report takes (the bridge ignores no parameter silently here)
TAKES = {"funnel": ("as_of", "period_from", "period_to", "owner", "team", "region",
                    "product_line"),
         "kpis": ("as_of", "period_from", "period_to", "owner", "team", "region",
                  "product_line", "limit"),
         "rfm": ("as_of", "owner", "team", "region", "window_days", "score_method", "limit")}
YES = {"1", "true", "yes", "y", "on", "是"}
NO = {"0", "false", "no", "n", "off", "否"}


def read_report_settings(port: WorkbookPort, sheet: str) -> dict[str, str]:
    """The report settings typed on the settings sheet (blank ones left out)."""
    keys, frame = port.read_table(sheet)
    if "key" not in keys or "value" not in keys:
        return {}
    k, v = keys.index("key"), keys.index("value")
    out: dict[str, str] = {}
    for row in frame.loc[frame.index >= FIRST_DATA_ROW].itertuples(index=False):
        key, value = row[k], row[v]
        if isinstance(key, str) and key in SETTINGS and value is not None \
                and str(value).strip():
            out[key] = (value.date().isoformat() if isinstance(value, datetime)
                        else value.isoformat() if isinstance(value, date)
                        else f"{value:g}" if isinstance(value, float)
                        else str(value).strip())
    return out


def write_report_settings(port: WorkbookPort, sheet: str, values: dict[str, str],
                          lang: Lang) -> None:
    """Rewrite the settings rows so the sheet shows the settings in use."""
    rows = [[s.key, s.zh if lang == "zh" else s.en, values.get(s.key),
             s.hint_zh if lang == "zh" else s.hint_en] for s in REPORT_SETTINGS]
    port.write_table(sheet, list(REPORT_SETTING_KEYS), pd.DataFrame(rows, dtype=object),
                     FIRST_DATA_ROW)


def _enum_codes(s: ReportSetting) -> dict[str, str] | None:
    """Spelling -> code for a setting whose list is a dictionary vocabulary."""
    if not s.list_name or not s.list_name.startswith("list_"):
        return None
    enum = build_dictionary().enums.get(s.list_name.removeprefix("list_"))
    return enum.lookup() if enum is not None else None


def _allowed(s: ReportSetting, lang: Lang) -> str:
    zh = lang == "zh"
    if s.kind == "date":
        return "日期，如 2026-03-31" if zh else "a date such as 2026-03-31"
    if s.kind == "int":
        return (f"{s.low} 到 {s.high} 之间的整数" if zh
                else f"a whole number from {s.low} to {s.high}")
    if s.key == "snapshot":
        return "是 / 否" if zh else "yes / no"
    codes = _enum_codes(s)
    if codes is not None:
        enum = build_dictionary().enums[str(s.list_name).removeprefix("list_")]
        return "、".join(v.zh for v in enum.values) if zh else ", ".join(
            v.en for v in enum.values)
    return " / ".join(s.choices) if s.choices else ("列表中的值" if zh else "a value from the list")


def _bad(s: ReportSetting, value: str) -> AddinError:
    """The error naming the setting and what it allows, each message in its own words."""
    code = ErrorCode.REPORT_SETTING_INVALID
    zh = render(code, setting=s.zh, value=value, allowed=_allowed(s, "zh"))[0]
    en = render(code, setting=s.en, value=value, allowed=_allowed(s, "en"))[1]
    return AddinError(code, message_zh=zh, message_en=en, setting=s.key, value=value,
                      allowed=_allowed(s, "en"))


def check_setting(s: ReportSetting, value: str) -> str:
    """``value`` as the report API takes it; an :class:`AddinError` naming the setting and
    what it allows when it is not valid."""
    text = value.strip()
    if s.kind == "date":
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise _bad(s, value) from None
    if s.kind == "int":
        if not text.isdigit() or not (s.low or 0) <= int(text) <= (s.high or int(text)):
            raise _bad(s, value)
        return str(int(text))
    if s.key == "snapshot":
        if text.casefold() not in YES | NO:
            raise _bad(s, value)
        return "yes" if text.casefold() in YES else "no"
    codes = _enum_codes(s)
    if codes is not None:
        code = codes.get(text.casefold())
        if code is None:
            raise _bad(s, value)
        return code
    if s.choices and s.strict and text not in s.choices:
        raise _bad(s, value)
    return text


def checked(values: dict[str, str]) -> dict[str, str]:
    """Every setting given, checked (the first bad one raises)."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise AddinError(ErrorCode.REPORT_PARAM_INVALID, detail=", ".join(sorted(unknown)))
    return {k: check_setting(SETTINGS[k], v) for k, v in values.items() if v}


def report_query(name: str, settings: dict[str, str]) -> dict[str, str]:
    """The query of report ``name`` from checked settings: API parameter names, only the
    ones that report takes; a blank setting with a declared default sends the default (a
    blank list cap lists ``DEFAULT_LIST_CAP`` rows, and the sheet says so)."""
    query = {str(s.api_param): settings.get(s.key) or s.default for s in REPORT_SETTINGS
             if s.api_param and (s.key in settings or s.default is not None)}
    return {k: str(v) for k, v in query.items() if k in TAKES[name]}


def wants_snapshot(settings: dict[str, str], given: bool | None) -> bool:
    """``--snapshot`` (or the ribbon's ``given``) else the settings sheet's choice."""
    return given if given is not None else settings.get("snapshot") == "yes"


def _column(rep: dict[str, Any] | None, table: str, key: str) -> list[str]:
    t = ((rep or {}).get("tables") or {}).get(table)
    if not t:
        return []
    keys = [c["key"] for c in t["columns"]]
    if key not in keys:
        return []
    i = keys.index(key)
    return [str(r[i]) for r in t["rows"] if r[i] not in (None, "")]


def fill_filter_lists(port: WorkbookPort, reports: dict[str, dict[str, Any]]) -> None:
    """The team and owner dropdowns list the teams and owners the reports showed."""
    funnel, kpis = reports.get("funnel"), reports.get("kpis")
    teams = _column(funnel, "by_team", "team")
    owners = _column(funnel, "by_owner", "owner") + _column(kpis, "leaderboard", "owner")
    port.write_list(REPORT_TEAM_LIST, sorted(set(teams)))
    port.write_list(REPORT_OWNER_LIST, sorted(set(owners)))
