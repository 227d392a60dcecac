"""The workbook layout derived from the dictionary: which sheets, columns, formats and lists.

Every data sheet has a hidden first row holding column keys (field codes or the system keys
below) and a visible, frozen header row of labels; data starts on ``FIRST_DATA_ROW``. Keys in
row 1 travel with their column, so sorting, inserting rows and reordering or renaming columns
never break the link between a cell and its field.
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.dictionary import Dictionary
from schema.errors import Lang
from schema.types import Entity, Field, FieldType

KEY_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3

CHANGE, STATUS, ROW_ID, ROW_VERSION, ROW_HASH = "_change", "_status", "_id", "_version", "_hash"
SYSTEM_KEYS = (CHANGE, STATUS, ROW_ID, ROW_VERSION, ROW_HASH)

META_SHEET = "_meta"  # hidden: template version, server URL, cursor, sheet -> entity map
LISTS_SHEET = "_lists"  # hidden: dropdown sources (enum labels, reference names)
BASE_SHEET = "_base"  # hidden: per record, the last pulled canonical values (merge bases)
CONFLICTS_SHEET = "_conflicts"
INSTRUCTIONS_SHEET = "instructions"

CHANGE_VALUES = {"new": ("新增", "new"), "update": ("修改", "update"),
                 "delete": ("删除", "delete")}

_FORMATS = {FieldType.MONEY: "#,##0.00", FieldType.DATE: "yyyy-mm-dd",
            FieldType.DATETIME: "yyyy-mm-dd hh:mm", FieldType.INTEGER: "0"}
_WIDTHS = {FieldType.TEXT: 22.0, FieldType.DATE: 12.0, FieldType.DATETIME: 17.0,
           FieldType.MONEY: 14.0, FieldType.INTEGER: 9.0, FieldType.BOOLEAN: 9.0,
           FieldType.USCC: 22.0, FieldType.PHONE: 18.0, FieldType.EMAIL: 24.0,
           FieldType.URL: 24.0, FieldType.REFERENCE: 24.0}
_TYPE_HINTS = {
    FieldType.DATE: ("日期，如 2026-03-31", "Date, e.g. 2026-03-31"),
    FieldType.DATETIME: ("日期时间，如 2026-03-31 14:30", "Date and time, e.g. 2026-03-31 14:30"),
    FieldType.MONEY: ("金额（元），最多两位小数", "Amount in CNY, up to 2 decimals"),
    FieldType.PHONE: ("手机、座机（010-12345678转123）或 400/95 号码",
                      "Mobile, landline (010-12345678 ext 123) or 400/95 number"),
    FieldType.USCC: ("18 位统一社会信用代码", "18-character unified social credit code"),
    FieldType.EMAIL: ("邮箱地址", "Email address"),
    FieldType.URL: ("网址，如 www.example.com", "Web address, e.g. www.example.com"),
    FieldType.ENUM: ("从下拉列表选择", "Pick from the list"),
    FieldType.MULTI_ENUM: ("可多选，用分号 ; 分隔", "Several allowed, separated by ;"),
    FieldType.REFERENCE: ("从下拉列表选择名称", "Pick a name from the list"),
    FieldType.BOOLEAN: ("是 / 否", "Yes / No"),
    FieldType.INTEGER: ("整数", "Whole number"),
}


@dataclass(frozen=True, slots=True)
class SheetColumn:
    key: str  # field code or one of SYSTEM_KEYS
    header: str
    hidden: bool
    width: float
    number_format: str | None = None
    list_name: str | None = None  # defined name of the dropdown source
    required: bool = False
    hint: str = ""
    field: Field | None = None


@dataclass(frozen=True, slots=True)
class SheetLayout:
    entity: str
    name: str  # sheet name in the layout's language
    columns: tuple[SheetColumn, ...]

    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


def enum_list_name(enum_code: str) -> str:
    return f"list_{enum_code}"


def reference_list_name(entity_code: str) -> str:
    return f"ref_{entity_code}"


BOOLEAN_LIST = "list_boolean"


def _field_column(f: Field, lang: Lang) -> SheetColumn:
    zh_hint, en_hint = _TYPE_HINTS.get(f.type, ("", ""))
    hint = (f.hint_zh or zh_hint) if lang == "zh" else (f.hint_en or en_hint)
    if f.required:
        hint = ("必填。" if lang == "zh" else "Required. ") + hint
    list_name = None
    if f.type is FieldType.ENUM and f.enum is not None:
        list_name = enum_list_name(f.enum.code)
    elif f.type is FieldType.REFERENCE and f.ref is not None:
        list_name = reference_list_name(f.ref)
    elif f.type is FieldType.BOOLEAN:
        list_name = BOOLEAN_LIST
    header = f.label(lang) + (" *" if f.required else "")
    return SheetColumn(f.code, header, False, _WIDTHS.get(f.type, 16.0), _FORMATS.get(f.type),
                       list_name, f.required, hint, f)


def sheet_layout(entity: Entity, lang: Lang, fields: list[Field] | None = None) -> SheetLayout:
    """The sheet of ``entity``; ``fields`` narrows it to what a user may see."""
    zh = lang == "zh"
    cols = [
        SheetColumn(CHANGE, "变更" if zh else "Change", False, 9.0, None, "list_change",
                    hint="新增/修改由系统判断；要删除记录请选“删除”" if zh else
                    "new/update are worked out; choose delete to delete the record"),
        SheetColumn(STATUS, "状态" if zh else "Status", False, 28.0),
    ]
    cols += [_field_column(f, lang) for f in (fields if fields is not None else entity.fields)]
    cols += [SheetColumn(ROW_ID, "_id", True, 10.0),
             SheetColumn(ROW_VERSION, "_version", True, 6.0),
             SheetColumn(ROW_HASH, "_hash", True, 10.0)]
    return SheetLayout(entity.code, entity.label(lang), tuple(cols))


def workbook_layout(dictionary: Dictionary, lang: Lang) -> list[SheetLayout]:
    """One sheet per entity, in dictionary order."""
    return [sheet_layout(e, lang) for e in dictionary]


# The report settings sheet: one row per report parameter; Refresh reports reads the values.
REPORT_SETTINGS_SHEET = "report_settings"
REPORT_SETTING_KEYS = ("key", "label", "value", "hint")


REPORT_TEAM_LIST = "list_report_team"  # filled at each refresh with the teams reported
REPORT_OWNER_LIST = "list_report_owner"  # ... and the owners


@dataclass(frozen=True, slots=True)
class ReportSetting:
    """One row of the report settings sheet. ``kind`` says what a value may be (``date``,
    ``int`` within ``low..high``, ``list``: a name of ``list_name`` or one of ``choices``,
    ``text``); ``strict`` refuses anything else in Excel (else it only informs); ``param``
    is the report API's query parameter (None: the add-in's own setting)."""

    key: str
    zh: str
    en: str
    hint_zh: str
    hint_en: str
    list_name: str | None = None
    kind: str = "text"
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    strict: bool = True
    param: str | None = ""  # "": the same as ``key``
    default: str | None = None  # what a blank value means, sent as such (None: not sent)

    @property
    def api_param(self) -> str | None:
        """The query parameter this setting sends (None: not sent)."""
        return self.key if self.param == "" else self.param


# A blank list cap lists this many rows: a complete RFM list of 10,000 customers takes 6-8 s to
# write with openpyxl, 100,000 60-80 s (docs/benchmarks.md); 1000000 lists every row.
DEFAULT_LIST_CAP = 10_000

REPORT_SETTINGS: tuple[ReportSetting, ...] = (
    ReportSetting("as_of", "报表日", "As-of date", "如 2026-03-31；留空为今天",
                  "e.g. 2026-03-31; blank means today", kind="date"),
    ReportSetting("period_from", "期间开始", "Period from", "漏斗与指标的起始日；留空为默认期间",
                  "First day for funnel and KPIs; blank: default", kind="date"),
    ReportSetting("period_to", "期间结束", "Period to", "留空为报表日",
                  "Blank means the as-of date", kind="date"),
    ReportSetting("team", "团队", "Team", "只看该团队；留空为您可见的全部（列表在刷新后更新）",
                  "Only this team; blank: all you may see (the list follows each refresh)",
                  REPORT_TEAM_LIST, kind="list", strict=False),
    ReportSetting("owner", "负责人", "Owner", "登录用户名；留空为全部（列表在刷新后更新）",
                  "A user name; blank: all (the list follows each refresh)",
                  REPORT_OWNER_LIST, kind="list", strict=False),
    ReportSetting("region", "区域", "Region", "从列表选择；留空为全部",
                  "Pick from the list; blank: all", enum_list_name("region"), kind="list"),
    ReportSetting("product_line", "产品线", "Product line", "从列表选择；留空为全部",
                  "Pick from the list; blank: all", enum_list_name("product_line"),
                  kind="list"),
    ReportSetting("window_days", "RFM 窗口天数", "RFM window (days)",
                  "1 到 3650 的整数；留空为 365", "A whole number 1 to 3650; blank means 365",
                  kind="int", choices=("30", "90", "180", "365", "730"), low=1, high=3650,
                  strict=False),
    ReportSetting("score_method", "RFM 评分方法", "RFM score method",
                  "rank：并列同分（默认）；ntile：五等分", "rank: ties share a score (default); "
                  "ntile: five equal groups", kind="list", choices=("rank", "ntile")),
    ReportSetting("list_cap", "列表上限", "List cap",
                  f"RFM 客户与逾期跟进列表最多列出的行数（1 到 1000000）；留空为 "
                  f"{DEFAULT_LIST_CAP}；1000000 为全部列出",
                  f"Most rows of the RFM customer and overdue lists (1 to 1000000); blank: "
                  f"{DEFAULT_LIST_CAP}; 1000000: all rows", kind="int",
                  choices=("100", "1000", str(DEFAULT_LIST_CAP), "1000000"), low=1,
                  high=1_000_000, strict=False, param="limit", default=str(DEFAULT_LIST_CAP)),
    ReportSetting("snapshot", "保留快照", "Keep snapshot",
                  "是：刷新前把上次的报表另存为带日期的副本", "Yes: keep the previous report "
                  "sheets as dated copies before refreshing", BOOLEAN_LIST, kind="list",
                  param=None),
)
