"""Write the CRM workbook template with XlsxWriter, from the dictionary's workbook layout.

Sheets, in order: instructions, one sheet per entity, the vocabulary reference ("Tags &
tiers"), conflicts, then the hidden ``_meta``, ``_lists`` and ``_base`` sheets.

``_lists`` contract (the add-in rewrites reference lists after a pull): one column per list,
in the order of :func:`list_sources`; row ``LISTS_NAME_ROW`` holds the list's defined name
(``list_stage``, ``ref_customer``...), its values start on row ``LISTS_FIRST_VALUE_ROW``, and
the workbook-level defined name of the same text refers to :func:`list_range` of that column
(rows 2..1+n, at least row 2). Reference lists (``ref_<entity>``) start as one blank row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

import addin.ribbon
from addin.ribbon.buttons import BUTTONS_BY_ID
from addin.template.pages import page_setup, setting_validation
from addin.vba.build import build_crm_vba_project
from schema.dictionary import Dictionary, build_dictionary
from schema.errors import Lang
from schema.layout import (
    BASE_SHEET,
    BOOLEAN_LIST,
    CHANGE_VALUES,
    CONFLICTS_SHEET,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    KEY_ROW,
    LISTS_SHEET,
    META_SHEET,
    REPORT_OWNER_LIST,
    REPORT_SETTING_KEYS,
    REPORT_SETTINGS,
    REPORT_SETTINGS_SHEET,
    REPORT_TEAM_LIST,
    STATUS,
    SYSTEM_KEYS,
    SheetColumn,
    SheetLayout,
    enum_list_name,
    reference_list_name,
    workbook_layout,
)
from schema.types import EnumType, FieldType

LANGS = ("zh", "en")
FIXED_CREATED = datetime(2024, 1, 1)  # docProps/core.xml dates: fixed for reproducible bytes
VALIDATION_LAST_ROW = 50_002  # dropdowns and input messages cover rows 3..this (1-based)
LISTS_NAME_ROW = 1
LISTS_FIRST_VALUE_ROW = 2
CHANGE_LIST = "list_change"
CONFLICT_CHOICE_LIST = "list_conflict_choice"
CONFLICT_CHOICES = {"mine": ("保留我的", "mine"), "theirs": ("采用服务器", "theirs")}
CONFLICT_KEYS = ("entity", "id", "row", "field", "base", "theirs", "mine", "choice")
BASE_KEYS = ("entity", "id", "version", "values_json")
VOCABULARY_SHEET = "vocabularies"  # code of the read-only "Tags & tiers" sheet in _meta
META_SHEET_PREFIX = "sheet:"  # _meta key "sheet:<sheet name>" -> entity or sheet code
SHEET_NAMES = {
    INSTRUCTIONS_SHEET: ("说明", "Instructions"),
    VOCABULARY_SHEET: ("标签与分层", "Tags & tiers"),
    CONFLICTS_SHEET: ("冲突", "Conflicts"),
    REPORT_SETTINGS_SHEET: ("报表参数", "Report settings"),
}
FIXED_CODE_NAMES = {
    INSTRUCTIONS_SHEET: "shInstructions", VOCABULARY_SHEET: "shVocabulary",
    CONFLICTS_SHEET: "shConflicts", REPORT_SETTINGS_SHEET: "shReportSettings",
    META_SHEET: "shMeta", LISTS_SHEET: "shLists",
    BASE_SHEET: "shBase",
}
VOCABULARY_ENTITY = "customer"  # the sheet lists the vocabularies of this entity's fields
_CODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}")
_XLWINGS_VERSION_FILE = Path(addin.ribbon.__file__).resolve().parent / "XLWINGS_VERSION"

_TITLE = {"zh": "CRM 工作簿使用说明", "en": "How to use this CRM workbook"}
_LIST_ERROR = {"zh": "请从下拉列表中选择一个值。", "en": "Choose a value from the list."}
_REF_ERROR = {
    "zh": "该名称不在列表中。如果是本次一起新增的记录，请点“确定”保留；推送时按名称匹配。",
    "en": "This name is not in the list. If the record is new in this same push, click OK "
          "to keep it: names are matched when you push.",
}
_CONFLICT_LABELS = {
    "zh": ("对象", "记录ID", "行号", "字段", "原值", "服务器值", "我的值", "选择"),
    "en": ("Entity", "Record id", "Row", "Field", "Base", "Theirs", "Mine", "Choice"),
}
_CHOICE_HINT = {"zh": "保留我的修改，或采用服务器上的值", "en": "Keep mine, or take the server's"}
_INSTRUCTIONS = {
    "zh": [
        ("登录", "在功能区“CRM”选项卡点击“{crm_sign_in}”，输入服务器地址、用户名和密码。"
                 "登录凭据保存在系统凭据管理器中，不会写入本工作簿。"),
        ("拉取", "点击“{crm_pull}”，从服务器取回你有权查看的最新数据；各表和下拉列表"
                 "（客户、商机、合同编号）随之更新。"),
        ("编辑", "第 2 行是列标题，带 * 的红色列为必填；有下拉箭头的列请从列表中选择。"
                 "新记录直接写在表格下方的空行。可以排序、筛选、插入行、调整列顺序，"
                 "但不要修改隐藏的第 1 行和隐藏列（_id、_version、_hash）。"),
        ("“变更”列", "新增和修改由系统自动识别，无需填写；要删除一条记录，在该行的“变更”列"
                     "选择“删除”，推送后生效。"),
        ("“状态”列", "显示校验和推送的结果：出错的行写明原因，请修改后重新校验或推送。"
                     "该列由系统填写，无需编辑。"),
        ("校验", "点击“{crm_validate}”，在本地检查所有表的数据（必填、格式、下拉值），"
                 "不连接服务器。"),
        ("推送", "点击“{crm_push}”，把新增、修改和删除发送到服务器；推送前会自动校验，"
                 "全部通过才会提交。"),
        ("冲突", "如果别人在你拉取后修改了同一记录，冲突会列在“冲突”表中：在“选择”列为每个"
                 "字段选择“保留我的”或“采用服务器”，然后再次推送。"),
        ("升级", "服务器提示模板版本过旧时，点击“{crm_upgrade}”，你的数据会迁移到最新模板。"),
    ],
    "en": [
        ("Sign in", "On the CRM ribbon tab click \u201c{crm_sign_in}\u201d and enter the server "
                    "address, your user name and password. Credentials are kept in the "
                    "system credential store, never in this workbook."),
        ("Pull", "Click \u201c{crm_pull}\u201d to fetch the latest data you may see; the sheets "
                 "and the dropdowns of customers, opportunities and orders are refreshed."),
        ("Edit", "Row 2 holds the column headers; red columns marked * are required. Pick "
                 "values from the dropdown where a column has one. Add new records in the "
                 "empty rows below. You may sort, filter, insert rows and reorder columns, "
                 "but do not change the hidden row 1 or the hidden columns _id, _version and "
                 "_hash."),
        ("Change column", "New and updated rows are detected for you. To delete a record, "
                          "choose \u201cdelete\u201d in its Change column and push."),
        ("Status column", "Shows the result of validating and pushing; a row with a problem "
                          "says what to fix. The add-in fills it in: no need to edit it."),
        ("Validate", "Click \u201c{crm_validate}\u201d to check every sheet locally (required "
                     "fields, formats, dropdown values) without contacting the server."),
        ("Push", "Click \u201c{crm_push}\u201d to send new, changed and deleted records to the "
                 "server; the workbook is validated first and nothing is sent unless all "
                 "rows pass."),
        ("Conflicts", "If someone changed the same record after your pull, the conflicts are "
                      "listed on the Conflicts sheet: choose \u201cmine\u201d or "
                      "\u201ctheirs\u201d for each field in the Choice column, then push "
                      "again."),
        ("Upgrade", "When the server says this template is out of date, click "
                    "\u201c{crm_upgrade}\u201d: your data is moved into the latest template."),
    ],
}


def _instructions(lang: Lang) -> list[tuple[str, str]]:
    """(heading, paragraph) rows of the instructions sheet, naming the ribbon buttons."""
    labels = {b.id: (b.label_zh if lang == "zh" else b.label_en) for b in BUTTONS_BY_ID.values()}
    return [(head, body.format(**labels)) for head, body in _INSTRUCTIONS[lang]]


def xlwings_version() -> str:
    """Version of the xlwings VBA module bundled in the template's VBA project."""
    return _XLWINGS_VERSION_FILE.read_text(encoding="ascii").strip()


def sheet_code_name(entity_code: str) -> str:
    """Stable VBA code name of an entity sheet: ``customer`` -> ``shCustomer``."""
    name = "sh" + "".join(p[:1].upper() + p[1:] for p in entity_code.split("_") if p)
    if not _CODE_NAME.fullmatch(name):
        raise ValueError(f"entity code {entity_code!r} gives no valid VBA code name")
    return name


def _lang(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _enums(dictionary: Dictionary) -> list[EnumType]:
    """Every vocabulary: the dictionary's, then any further one a (custom) field uses."""
    out = {code: e for code, e in dictionary.enums.items()}
    for entity in dictionary:
        for f in entity.fields:
            if f.enum is not None:
                out.setdefault(f.enum.code, f.enum)
    return list(out.values())


def list_sources(dictionary: Dictionary, lang: Lang) -> list[tuple[str, list[str]]]:
    """(defined name, values) per ``_lists`` column, in column order (A, B, ...)."""
    out: list[tuple[str, list[str]]] = [
        (CHANGE_LIST, [_lang(lang, zh, en) for zh, en in CHANGE_VALUES.values()]),
        (BOOLEAN_LIST, [_lang(lang, "是", "Yes"), _lang(lang, "否", "No")]),
        (CONFLICT_CHOICE_LIST, [_lang(lang, zh, en) for zh, en in CONFLICT_CHOICES.values()]),
    ]
    out += [(enum_list_name(e.code), [v.label(lang) for v in e.values]) for e in _enums(dictionary)]
    out += [(reference_list_name(e.code), []) for e in dictionary]
    out += [(REPORT_TEAM_LIST, []), (REPORT_OWNER_LIST, [])]  # filled by each refresh
    return out


def list_range(column: int, count: int) -> str:
    """Formula a list's defined name refers to: ``column`` (0-based) rows 2..1+count."""
    col = xl_col_to_name(column)
    last = LISTS_FIRST_VALUE_ROW + max(count, 1) - 1
    return f"='{LISTS_SHEET}'!${col}${LISTS_FIRST_VALUE_ROW}:${col}${last}"


class _Formats:
    """The workbook's cell formats, created once in a fixed order."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        base = {"bold": True, "border": 1, "valign": "vcenter"}
        self.key = wb.add_format({"font_color": "#808080", "font_size": 8})
        self.header = wb.add_format({**base, "bg_color": "#DDEBF7"})
        self.required = wb.add_format({**base, "bg_color": "#F8CBAD", "font_color": "#9C0006"})
        self.system = wb.add_format({**base, "bg_color": "#E7E6E6"})
        self.title = wb.add_format({"bold": True, "font_size": 16})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self._numbers: dict[str, Format] = {}

    def number(self, num_format: str | None) -> Format | None:
        if num_format is None:
            return None
        if num_format not in self._numbers:
            self._numbers[num_format] = self.wb.add_format({"num_format": num_format})
        return self._numbers[num_format]

    def header_for(self, col: SheetColumn) -> Format:
        if col.required:
            return self.required
        return self.system if col.key in SYSTEM_KEYS else self.header


def _validation(col: SheetColumn, lang: Lang) -> dict[str, object] | None:
    """XlsxWriter data-validation options of a data column (dropdown and/or input message)."""
    opts: dict[str, object] = {"validate": "any"}
    if col.list_name:
        is_ref = col.field is not None and col.field.type is FieldType.REFERENCE
        opts = {"validate": "list", "source": f"={col.list_name}", "ignore_blank": True,
                "error_type": "information" if is_ref else "stop",
                "error_title": _lang(lang, "无效值", "Invalid value"),
                "error_message": _REF_ERROR[lang] if is_ref else _LIST_ERROR[lang]}
    elif not col.hint:
        return None
    if col.hint:
        opts["input_title"] = col.header[:32]
        opts["input_message"] = col.hint[:255]
    return opts


def _header_rows(ws: Worksheet, keys: Sequence[str], labels: Sequence[str],
                 fmts: _Formats, header_formats: Sequence[Format] | None = None) -> None:
    """Hidden key row 1 and visible label row 2, frozen and filterable."""
    for c, (key, label) in enumerate(zip(keys, labels, strict=True)):
        ws.write_string(KEY_ROW - 1, c, key, fmts.key)
        ws.write_string(HEADER_ROW - 1, c, label,
                        header_formats[c] if header_formats else fmts.header)
    ws.set_row(KEY_ROW - 1, None, None, {"hidden": True})
    ws.autofilter(HEADER_ROW - 1, 0, HEADER_ROW - 1, len(keys) - 1)


def _entity_sheet(ws: Worksheet, layout: SheetLayout, fmts: _Formats, lang: Lang) -> None:
    cols = layout.columns
    _header_rows(ws, layout.keys(), [c.header for c in cols], fmts,
                 [fmts.header_for(c) for c in cols])
    for i, col in enumerate(cols):
        ws.set_column(i, i, col.width, fmts.number(col.number_format),
                      {"hidden": True} if col.hidden else None)
        opts = _validation(col, lang)
        if opts is not None:
            ws.data_validation(HEADER_ROW, i, VALIDATION_LAST_ROW - 1, i, opts)
    ws.freeze_panes(HEADER_ROW, layout.keys().index(STATUS) + 1)


def _wrapped_height(text: str, width: float) -> float:
    """Row height (points) for ``text`` wrapped in a column ``width`` characters wide."""
    chars = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)  # CJK is double width
    return 15.0 * max(1, -(-chars // int(width * 0.9))) + 3


def _instructions_sheet(ws: Worksheet, fmts: _Formats, lang: Lang) -> None:
    width = 90
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, width, fmts.wrap)
    ws.write_string(0, 0, _TITLE[lang], fmts.title)
    for r, (head, body) in enumerate(_instructions(lang), start=2):
        ws.set_row(r, _wrapped_height(body, width))
        ws.write_string(r, 0, head, fmts.bold)
        ws.write_string(r, 1, body, fmts.wrap)
    ws.hide_gridlines(2)
    ws.freeze_panes(1, 0)


def _vocabulary_sheet(ws: Worksheet, dictionary: Dictionary, fmts: _Formats, lang: Lang) -> None:
    """Read-only table of every vocabulary used by customer fields: code, zh, en."""
    heads = [_lang(lang, "词表", "Vocabulary"), _lang(lang, "代码", "Code"), "中文", "English"]
    for c, (head, width) in enumerate(zip(heads, (22, 18, 22, 30), strict=True)):
        ws.set_column(c, c, width)
        ws.write_string(0, c, head, fmts.header)
    seen: set[str] = set()
    entity = dictionary.entities.get(VOCABULARY_ENTITY)
    row = 1
    for f in entity.fields if entity else []:
        if f.enum is None or f.enum.code in seen:
            continue
        seen.add(f.enum.code)
        for v in f.enum.values:
            ws.write_string(row, 0, f.enum.zh if lang == "zh" else f.enum.en, fmts.bold)
            for c, text in enumerate((v.code, v.zh, v.en), start=1):
                ws.write_string(row, c, text)
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(heads) - 1)  # protected: must span the data
    ws.freeze_panes(1, 0)
    ws.protect("", {"autofilter": True})


def _conflicts_sheet(ws: Worksheet, fmts: _Formats, lang: Lang) -> None:
    labels = _CONFLICT_LABELS[lang]
    _header_rows(ws, CONFLICT_KEYS, labels, fmts)
    for c, width in enumerate((12, 12, 6, 18, 24, 24, 24, 14)):
        ws.set_column(c, c, width)
    choice = CONFLICT_KEYS.index("choice")
    ws.data_validation(HEADER_ROW, choice, VALIDATION_LAST_ROW - 1, choice, {
        "validate": "list", "source": f"={CONFLICT_CHOICE_LIST}", "error_type": "stop",
        "error_title": _lang(lang, "无效值", "Invalid value"), "error_message": _LIST_ERROR[lang],
        "input_title": labels[choice], "input_message": _CHOICE_HINT[lang]})
    ws.freeze_panes(HEADER_ROW, 0)


def _report_settings_sheet(ws: Worksheet, fmts: _Formats, lang: Lang) -> None:
    """One row per report parameter (key hidden); Refresh reports reads the value column,
    each value cell with its dropdown or check."""
    labels = [_lang(lang, *pair) for pair in (("参数", "Key"), ("参数", "Setting"),
                                              ("值", "Value"), ("说明", "Hint"))]
    _header_rows(ws, REPORT_SETTING_KEYS, labels, fmts)
    for c, width in enumerate((14, 18, 22, 60)):
        ws.set_column(c, c, width, None, {"hidden": True} if c == 0 else None)
    value_col = REPORT_SETTING_KEYS.index("value")
    for r, s in enumerate(REPORT_SETTINGS, start=HEADER_ROW):
        ws.write_string(r, 0, s.key)
        ws.write_string(r, 1, _lang(lang, s.zh, s.en))
        ws.write_string(r, 3, _lang(lang, s.hint_zh, s.hint_en))
        opts = setting_validation(s, lang)
        if opts is not None:
            ws.data_validation(r, value_col, r, value_col, opts)
    ws.freeze_panes(HEADER_ROW, 0)


def _key_value_sheet(ws: Worksheet, rows: Iterable[tuple[str, str]], fmts: _Formats) -> None:
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 40)
    for r, (key, value) in enumerate([("key", "value"), *rows]):
        ws.write_string(r, 0, key, fmts.bold if r == 0 else None)
        ws.write_string(r, 1, value, fmts.bold if r == 0 else None)


def _lists_sheet(wb: Workbook, ws: Worksheet, sources: list[tuple[str, list[str]]],
                 fmts: _Formats) -> None:
    for c, (name, values) in enumerate(sources):
        ws.set_column(c, c, 22)
        ws.write_string(LISTS_NAME_ROW - 1, c, name, fmts.bold)
        for r, value in enumerate(values, start=LISTS_FIRST_VALUE_ROW - 1):
            ws.write_string(r, c, value)
        wb.define_name(name, list_range(c, len(values)))


def build_workbook(lang: Lang = "zh", dictionary: Dictionary | None = None) -> bytes:
    """XlsxWriter output for ``lang`` (before post-processing): a macro-enabled workbook."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    dictionary = dictionary if dictionary is not None else build_dictionary()
    layouts = workbook_layout(dictionary, lang)
    names = {code: _lang(lang, zh, en) for code, (zh, en) in SHEET_NAMES.items()}
    order: list[tuple[str, str]] = [(INSTRUCTIONS_SHEET, names[INSTRUCTIONS_SHEET])]
    order += [(s.entity, s.name) for s in layouts]
    order += [(VOCABULARY_SHEET, names[VOCABULARY_SHEET]),
              (CONFLICTS_SHEET, names[CONFLICTS_SHEET]),
              (REPORT_SETTINGS_SHEET, names[REPORT_SETTINGS_SHEET])]
    order += [(META_SHEET, META_SHEET), (LISTS_SHEET, LISTS_SHEET), (BASE_SHEET, BASE_SHEET)]
    code_names = [FIXED_CODE_NAMES.get(code) or sheet_code_name(code) for code, _ in order]
    if len(set(code_names)) != len(code_names) or len({n for _, n in order}) != len(order):
        raise ValueError("sheet names or code names collide")

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": "CRM", "created": FIXED_CREATED})
    wb.set_vba_name("ThisWorkbook")
    wb.add_vba_project(io.BytesIO(build_crm_vba_project(code_names)), is_stream=True)
    fmts = _Formats(wb)
    sheets: dict[str, Worksheet] = {}
    for (code, name), code_name in zip(order, code_names, strict=True):
        ws = wb.add_worksheet(name)
        ws.set_vba_name(code_name)
        sheets[code] = ws

    _instructions_sheet(sheets[INSTRUCTIONS_SHEET], fmts, lang)
    for layout in layouts:
        _entity_sheet(sheets[layout.entity], layout, fmts, lang)
    _vocabulary_sheet(sheets[VOCABULARY_SHEET], dictionary, fmts, lang)
    _conflicts_sheet(sheets[CONFLICTS_SHEET], fmts, lang)
    _report_settings_sheet(sheets[REPORT_SETTINGS_SHEET], fmts, lang)
    meta = [("template_version", dictionary.version), ("lang", lang), ("server_url", ""),
            ("cursor", ""), ("xlwings_version", xlwings_version())]
    meta += [(META_SHEET_PREFIX + name, code) for code, name in order
             if code not in (META_SHEET, LISTS_SHEET, BASE_SHEET)]
    _key_value_sheet(sheets[META_SHEET], meta, fmts)
    _lists_sheet(wb, sheets[LISTS_SHEET], list_sources(dictionary, lang), fmts)
    for c, key in enumerate(BASE_KEYS):  # _base: one plain header row, data from row 2
        sheets[BASE_SHEET].write_string(0, c, key, fmts.bold)
    for code, title_row in ((INSTRUCTIONS_SHEET, 0), (VOCABULARY_SHEET, 0),
                            (CONFLICTS_SHEET, HEADER_ROW - 1),
                            (REPORT_SETTINGS_SHEET, HEADER_ROW - 1)):
        page_setup(sheets[code], title_row)
    for layout in layouts:
        page_setup(sheets[layout.entity], HEADER_ROW - 1)
    for code in (META_SHEET, LISTS_SHEET, BASE_SHEET):
        sheets[code].hide()
    sheets[INSTRUCTIONS_SHEET].activate()
    wb.close()
    return out.getvalue()
