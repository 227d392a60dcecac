"""Words on a report sheet: the two languages, the team's time with its zone stated, the
filters in words, and dictionary labels where the report JSON carries a code."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from schema import clock
from schema.dictionary import build_dictionary
from schema.errors import Lang
from schema.types import EnumType

# a zone's name as people say it; any other zone is shown by its id
ZONE_NAMES = {"Asia/Shanghai": ("北京时间", "Beijing time")}
# column keys whose values are codes of one of these entities' enum fields
LABELLED_ENTITIES = ("customer", "opportunity", "crm_order")
SUFFIXES = ("_rules", "_code")  # value_tier_rules holds value_tier codes
BLANK = {"zh": "（空）", "en": "(blank)"}
ALL = {"zh": "全部", "en": "all"}


def pick(lang: Lang, zh: str, en: str) -> str:
    """``zh`` or ``en``."""
    return zh if lang == "zh" else en


def join(lang: Lang, parts: list[str]) -> str:
    """Parts of one line, with the language's separator."""
    return ("；" if lang == "zh" else "; ").join(parts)


def zone_text(moment: datetime, lang: Lang, zone: str = clock.TEAM_ZONE) -> str:
    """The zone as a reader needs it: ``北京时间 UTC+8`` / ``Beijing time, UTC+8``."""
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    utc = f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    zh, en = ZONE_NAMES.get(zone, (zone, zone))
    return f"{zh} {utc}" if lang == "zh" else f"{en}, {utc}"


def generated_text(at: Any, lang: Lang, zone: str = clock.TEAM_ZONE) -> str:
    """The bridge's UTC ``generated_at`` as the team reads it:
    ``2026-12-02 17:22（北京时间 UTC+8）``; empty when the report has none."""
    try:
        moment = clock.parse_stamp(str(at))
    except ValueError:
        return ""
    shown = clock.display(moment, zone)
    zone_words = zone_text(moment, lang, zone)
    return f"{shown}（{zone_words}）" if lang == "zh" else f"{shown} ({zone_words})"


@lru_cache(maxsize=1)
def _enums() -> dict[str, EnumType]:
    d = build_dictionary()
    out: dict[str, EnumType] = {}
    for code in LABELLED_ENTITIES:
        entity = d.entities.get(code)
        for f in entity.fields if entity is not None else []:
            if f.enum is not None:
                out.setdefault(f.code, f.enum)
    return out


def enum_of(key: str) -> EnumType | None:
    """The vocabulary whose codes a report column ``key`` holds (None: not a code column)."""
    enums = _enums()
    if key in enums:
        return enums[key]
    for suffix in SUFFIXES:
        if key.endswith(suffix) and key.removesuffix(suffix) in enums:
            return enums[key.removesuffix(suffix)]
    return None


def label_of(key: str, value: Any, lang: Lang) -> Any:
    """A code's label in ``lang`` (``east`` -> 华东) where ``key`` is a code column; any
    other value (a label already, a number, a name) as it is."""
    enum = enum_of(key)
    if enum is None or not isinstance(value, str):
        return value
    code = enum.lookup().get(value.strip().casefold())
    return enum.value(code).label(lang) if code is not None else value


FILTER_NAMES: dict[str, tuple[str, str]] = {
    "period_from": ("期间开始", "Period from"), "period_to": ("期间结束", "Period to"),
    "team": ("团队", "Team"), "owner": ("负责人", "Owner"), "region": ("区域", "Region"),
    "product_line": ("产品线", "Product line"),
    "window_days": ("RFM 窗口", "RFM window"), "score_method": ("评分方法", "Score method"),
}
RFM_ONLY = ("window_days", "score_method")
NOT_RFM = ("period_from", "period_to")
SCORE_METHODS = {"rank": ("排名法（并列同分）", "rank (ties share a score)"),
                 "ntile": ("五等分法", "ntile (five equal groups)")}


def _filter_value(key: str, value: Any, lang: Lang) -> str:
    if key == "score_method" and value in SCORE_METHODS:
        return pick(lang, *SCORE_METHODS[value])
    return str(label_of(key, value, lang))


def _span(rep: dict[str, Any], lang: Lang) -> list[str]:
    """The period or window the report really covers (a default one too)."""
    out = []
    period, window = rep.get("period") or {}, rep.get("window") or {}
    if period.get("from"):
        out.append(pick(lang, "期间", "Period") + f": {period['from']} ~ {period['to']}")
    if window.get("from"):
        out.append(pick(lang, "RFM 窗口", "RFM window") + ": " + pick(
            lang, f"{window.get('days')} 天（{window['from']} ~ {window['to']}）",
            f"{window.get('days')} days ({window['from']} ~ {window['to']})"))
    return out


def filters_text(rep: dict[str, Any], lang: Lang) -> str:
    """The filters in words: the period or window covered, then the bridge's
    ``filter_labels`` when it sends them, else the echoed ``filters`` with dictionary
    labels; only those the report uses."""
    span = _span(rep, lang)
    skip = {"time_zone", "window_days"} | ({"period_from", "period_to"} if rep.get("period")
                                           else set())
    labels = rep.get("filter_labels")
    if isinstance(labels, dict) and labels:
        return join(lang, span + [f"{v.get(lang, k)}: {v.get('value_' + lang, '')}"
                                  for k, v in labels.items()
                                  if isinstance(v, dict) and k not in skip])
    filters, kind = rep.get("filters") or {}, rep.get("report")
    parts = []
    for key, (zh, en) in FILTER_NAMES.items():
        if key in skip or (kind == "rfm" and key in NOT_RFM) or (
                kind != "rfm" and key in RFM_ONLY):
            continue
        value = filters.get(key)
        if key not in filters and key not in ("team", "owner", "region"):
            continue
        shown = ALL[lang] if value in (None, "") else _filter_value(key, value, lang)
        parts.append(f"{pick(lang, zh, en)}: {shown}")
    return join(lang, span + parts)
