"""Template sheets' printing and the report settings' checks, for the builder: the page
set-up declared in ``addin.reportbook.printing`` applied with XlsxWriter, and each report
setting's data validation (dropdown, date or whole number, with the message Excel shows on a
bad value). ``addin.restore`` and the add-in's own checks read the same declarations."""

from __future__ import annotations

from datetime import datetime

from xlsxwriter.worksheet import Worksheet

from addin.reportbook.printing import PAGE, xlsxwriter_footer
from schema.errors import Lang
from schema.layout import ReportSetting


def _lang(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


_SETTING_ERROR = {
    "date": ("请输入日期，如 2026-03-31。", "Enter a date, e.g. 2026-03-31."),
    "int": ("请输入 {low} 到 {high} 之间的整数。", "Enter a whole number from {low} to {high}."),
    "list": ("请从下拉列表中选择一个值。", "Choose a value from the list."),
}


def setting_validation(s: ReportSetting, lang: Lang) -> dict[str, object] | None:
    """XlsxWriter data validation of a report setting's value cell: a dropdown (a list name
    or the setting's choices), a date, or a whole number in range; with its input hint and
    the message Excel shows on a bad value (which setting, what is allowed)."""
    if s.kind == "text":
        return None
    zh, en = _SETTING_ERROR[s.kind]
    message = _lang(lang, zh, en).format(low=s.low, high=s.high)
    opts: dict[str, object]
    if s.kind == "date":
        opts = {"validate": "date", "criteria": "between",
                "minimum": datetime(2000, 1, 1), "maximum": datetime(2100, 12, 31)}
    elif s.list_name or s.choices:  # a whole number may offer common values to pick
        opts = {"validate": "list", "source": f"={s.list_name}" if s.list_name
                else list(s.choices)}
    else:
        opts = {"validate": "integer", "criteria": "between", "minimum": s.low,
                "maximum": s.high}
    opts |= {"ignore_blank": True, "error_type": "stop" if s.strict else "information",
             "error_title": _lang(lang, s.zh, s.en)[:32], "error_message": message[:255],
             "input_title": _lang(lang, s.zh, s.en)[:32],
             "input_message": _lang(lang, s.hint_zh, s.hint_en)[:255]}
    return opts


def page_setup(ws: Worksheet, title_row: int | None) -> None:
    """The printing declaration (``addin.reportbook.printing.PAGE``) on a template sheet:
    A4 landscape, one page wide, ``title_row`` (0-based) repeated, name and page footer."""
    ws.set_paper(PAGE.paper)
    if PAGE.landscape:
        ws.set_landscape()
    ws.fit_to_pages(PAGE.fit_wide, PAGE.fit_tall)
    if title_row is not None:
        ws.repeat_rows(title_row)
    ws.set_footer(xlsxwriter_footer())
    ws.set_margins(PAGE.margin_in, PAGE.margin_in, PAGE.margin_in + 0.1, PAGE.margin_in + 0.1)
