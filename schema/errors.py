"""The catalogue of error codes: stable code, HTTP status and a zh-CN and English message.

Shared by the bridge (HTTP errors and per-row results) and the add-in (cell notes), so a
salesperson sees the same words whichever side caught the problem. ``docs/errors.md`` lists
every code; a test keeps the two in step.

Each code is a member of :class:`ErrorCode` (a ``StrEnum``: on the wire and in comparisons it
is the plain code string), declared once with its HTTP status and both message templates;
everything that raises or renders a problem takes an ``ErrorCode``, so an unknown code is a
type error. ``Lang`` names the two languages every message has.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["zh", "en"]  # the languages every message has (zh-CN and English)
LANGS: tuple[Lang, ...] = ("zh", "en")


def as_lang(value: object, default: Lang = "zh") -> Lang:
    """``value`` when it names one of :data:`LANGS`, else ``default``."""
    return "en" if value == "en" else "zh" if value == "zh" else default


class ErrorCode(StrEnum):
    """Every error code, declared once: the member's value is the code on the wire (equal to
    its name), with its HTTP status and its zh-CN and English message templates. A function
    that takes an ``ErrorCode`` cannot be handed an unknown code (mypy checks)."""

    status: int
    zh: str
    en: str

    def __new__(cls, code: str, status: int, zh: str, en: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status, member.zh, member.en = status, zh, en
        return member

    @classmethod
    def known(cls, code: str) -> ErrorCode | None:
        """The member for a code string (from the wire, say); None when this version has none."""
        return cls.__members__.get(code)

    # cell and row validation (per-row results; 422 when a whole request is refused)
    REQUIRED = "REQUIRED", 422, "“{field}”为必填项，不能为空", "“{field}” is required and cannot be empty"
    REQUIRED_WHEN = ("REQUIRED_WHEN", 422, "当“{other}”为“{other_value}”时，“{field}”为必填项",
        "“{field}” is required when “{other}” is “{other_value}”")
    INVALID_TEXT = "INVALID_TEXT", 422, "“{field}”应为文本", "“{field}” must be text"
    TEXT_EDGE_TRIMMED = ("TEXT_EDGE_TRIMMED", 422, "“{field}”开头或结尾的制表符/换行已去掉，保存的是去掉后的文字",
        "The tab or line break at the start or end of “{field}” was removed; the text "
        "is saved without it")
    TOO_LONG = ("TOO_LONG", 422, "“{field}”最多 {max} 个字符（当前 {length}）",
        "“{field}” allows at most {max} characters (has {length})")
    INVALID_INTEGER = ("INVALID_INTEGER", 422, "“{field}”应为整数，收到“{value}”",
        "“{field}” must be a whole number, got “{value}”")
    INVALID_MONEY = ("INVALID_MONEY", 422, "“{field}”应为金额（最多两位小数），收到“{value}”",
        "“{field}” must be an amount with at most 2 decimals, got “{value}”")
    OUT_OF_RANGE = ("OUT_OF_RANGE", 422, "“{field}”应在 {min} 到 {max} 之间，收到“{value}”",
        "“{field}” must be between {min} and {max}, got “{value}”")
    INVALID_DATE = ("INVALID_DATE", 422, "“{field}”应为日期（如 2026-03-31），收到“{value}”",
        "“{field}” must be a date such as 2026-03-31, got “{value}”")
    INVALID_DATETIME = ("INVALID_DATETIME", 422, "“{field}”应为日期时间（如 2026-03-31 14:30），收到“{value}”",
        "“{field}” must be a date and time such as 2026-03-31 14:30, got “{value}”")
    INVALID_ENUM = ("INVALID_ENUM", 422, "“{field}”不接受“{value}”，可选值：{allowed}",
        "“{field}” does not accept “{value}”; allowed: {allowed}")
    INVALID_EMAIL = ("INVALID_EMAIL", 422, "“{field}”不是有效的邮箱地址：“{value}”",
        "“{field}” is not a valid email address: “{value}”")
    INVALID_PHONE = ("INVALID_PHONE", 422,
        "“{field}”不是有效的电话号码：“{value}”（手机 13812345678，座机 010-12345678转123，400/95 服务号）",
        "“{field}” is not a valid phone number: “{value}” (mobile 13812345678, "
        "landline 010-12345678 ext 123, 400/95 service numbers)")
    INVALID_URL = ("INVALID_URL", 422, "“{field}”不是有效的网址：“{value}”",
        "“{field}” is not a valid web address: “{value}”")
    INVALID_USCC = ("INVALID_USCC", 422, "“{field}”不是有效的统一社会信用代码（18 位，含校验位）：“{value}”",
        "“{field}” is not a valid unified social credit code (18 characters with check "
        "digit): “{value}”")
    UNSTORABLE_CHARACTER = ("UNSTORABLE_CHARACTER", 422,
        "“{field}”第 {position} 个字符 {char} 无法保存（空字符、控制字符或残缺的代理字符），请删除它",
        "“{field}” holds a character that cannot be stored ({char} at position {position}: "
        "a NUL, control character or broken surrogate); remove it")
    INVALID_UTC_OFFSET = ("INVALID_UTC_OFFSET", 422, "“{field}”的时区偏移“{offset}”无效，应在 -23:59 到 +23:59 之间",
        "“{field}” has an invalid UTC offset “{offset}”; it must be between -23:59 and +23:59")
    INVALID_BOOLEAN = ("INVALID_BOOLEAN", 422, "“{field}”应为 是/否，收到“{value}”",
        "“{field}” must be Yes or No, got “{value}”")
    EXCEL_ERROR_VALUE = ("EXCEL_ERROR_VALUE", 422, "“{field}”包含 Excel 错误值 {value}，请修正公式或清空",
        "“{field}” holds the Excel error {value}; fix the formula or clear the cell")
    DUPLICATE_VALUE = ("DUPLICATE_VALUE", 422, "“{field}”的值“{value}”已被其他记录使用",
        "“{field}” value “{value}” is already used by another record")
    REFERENCE_NOT_FOUND = ("REFERENCE_NOT_FOUND", 422, "“{field}”找不到“{value}”，请从下拉列表中选择",
        "“{field}”: no match for “{value}”; pick one from the dropdown")
    SIMILAR_RECORD = ("SIMILAR_RECORD", 200, "“{field}”与已有记录“{value}”（{match_id}）相同，可能是同一条记录",
        "“{field}” matches existing record “{value}” ({match_id}); it may be the "
        "same record")
    REFERENCE_AMBIGUOUS = ("REFERENCE_AMBIGUOUS", 422, "“{field}”的“{value}”对应多条记录，请写得更具体",
        "“{field}”: “{value}” matches several records; be more specific")
    UNKNOWN_FIELD = "UNKNOWN_FIELD", 422, "未知字段“{field}”", "Unknown field “{field}”"
    FIELD_READ_ONLY = "FIELD_READ_ONLY", 403, "您无权修改“{field}”", "You may not change “{field}”"
    # row state
    ROW_NOT_FOUND = ("ROW_NOT_FOUND", 404, "记录 {row_id} 不存在或您无权访问",
        "Record {row_id} does not exist or you may not see it")
    ROW_OUT_OF_SCOPE = ("ROW_OUT_OF_SCOPE", 403, "您无权修改这条记录（负责人/团队/区域之外）",
        "You may not change this record (outside your owner/team/region scope)")
    ROW_EXISTS = "ROW_EXISTS", 409, "记录 {row_id} 已存在", "Record {row_id} already exists"
    ROW_DELETED = "ROW_DELETED", 409, "记录 {row_id} 已被他人删除", "Record {row_id} was deleted by someone else"
    ROW_INVALID_ID = "ROW_INVALID_ID", 422, "记录编号“{value}”不是有效的 UUID", "Record id “{value}” is not a valid UUID"
    ROW_DUPLICATE_IN_BATCH = ("ROW_DUPLICATE_IN_BATCH", 422, "同一批次中记录 {row_id} 出现了多次",
        "Record {row_id} appears more than once in this batch")
    ROW_REFERENCED = ("ROW_REFERENCED", 409, "记录仍被 {count} 条“{child}”引用，无法删除",
        "Record is still referenced by {count} {child} rows and cannot be deleted")
    BATCH_ABORTED = ("BATCH_ABORTED", 409, "整批回滚：本批中有其他行被拒绝（全有或全无模式）",
        "Batch rolled back: another row was rejected (all-or-nothing mode)")
    # request level
    MALFORMED_JSON = "MALFORMED_JSON", 400, "请求内容不是有效的 JSON：{detail}", "The request body is not valid JSON: {detail}"
    REQUEST_INVALID = "REQUEST_INVALID", 422, "请求格式错误：{detail}", "The request is not well-formed: {detail}"
    UNKNOWN_ENTITY = "UNKNOWN_ENTITY", 404, "未知的数据表“{name}”", "Unknown entity “{name}”"
    BODY_TOO_LARGE = "BODY_TOO_LARGE", 413, "请求过大（上限 {max} 字节）", "The request is too large (limit {max} bytes)"
    BATCH_TOO_LARGE = ("BATCH_TOO_LARGE", 413, "一次最多推送 {max} 行，本次 {count} 行；请分批推送",
        "At most {max} rows per push, got {count}; push in smaller batches")
    IDEMPOTENCY_KEY_REUSED = ("IDEMPOTENCY_KEY_REUSED", 422, "幂等键 {key} 已用于另一份不同的推送内容",
        "Idempotency key {key} was already used for a different push")
    TEMPLATE_OUTDATED = ("TEMPLATE_OUTDATED", 409, "工作簿模板版本 {template} 已过期（服务器 {server}），请点击“升级模板”",
        "Workbook template {template} is outdated (server {server}); click Upgrade template")
    TEMPLATE_NEWER = ("TEMPLATE_NEWER", 409, "工作簿模板版本 {template} 比服务器 {server} 更新，请联系管理员升级服务器",
        "Workbook template {template} is newer than the server's {server}; ask your admin")
    TEMPLATE_VERSION_INVALID = "TEMPLATE_VERSION_INVALID", 422, "模板版本“{template}”格式无效", "Template version “{template}” is not valid"
    CURSOR_INVALID = "CURSOR_INVALID", 422, "同步游标“{value}”无效，请完整拉取", "Sync cursor “{value}” is not valid; do a full pull"
    NOT_FOUND = "NOT_FOUND", 404, "地址 {path} 不存在", "Nothing at {path}"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", 405, "不支持的请求方法", "Method not allowed"
    RATE_LIMITED = ("RATE_LIMITED", 429, "请求过于频繁，请 {retry_after} 秒后重试",
        "Too many requests; retry in {retry_after} s")
    INTERNAL = ("INTERNAL", 500, "服务器内部错误（编号 {ref}），请联系管理员",
        "Internal server error (reference {ref}); contact your admin")
    # auth
    AUTH_REQUIRED = "AUTH_REQUIRED", 401, "请先登录（缺少令牌）", "Please sign in (no token sent)"
    AUTH_INVALID = "AUTH_INVALID", 401, "令牌无效，请重新登录", "The token is not valid; sign in again"
    AUTH_EXPIRED = "AUTH_EXPIRED", 401, "令牌已过期，请向管理员申请新令牌", "The token has expired; ask your admin for a new one"
    AUTH_REVOKED = "AUTH_REVOKED", 401, "令牌已被吊销，请向管理员申请新令牌", "The token was revoked; ask your admin for a new one"
    ADMIN_ONLY = "ADMIN_ONLY", 403, "仅管理员可执行此操作", "Only administrators may do this"
    USER_EXISTS = "USER_EXISTS", 409, "用户 {user} 已存在", "User {user} already exists"
    USER_NOT_FOUND = "USER_NOT_FOUND", 404, "用户 {user} 不存在", "User {user} does not exist"
    AUDIT_NOT_FOUND = "AUDIT_NOT_FOUND", 404, "审计记录 {value} 不存在", "Audit entry {value} does not exist"
    SIGNIN_FAILED = ("SIGNIN_FAILED", 401, "用户名或密码不正确", "Wrong user name or password")
    SIGNIN_THROTTLED = ("SIGNIN_THROTTLED", 429, "登录失败次数过多，请 {minutes} 分钟后再试，或请管理员解锁（crm-bridge user unlock）",
        "Too many failed sign-ins; try again in {minutes} min, or ask your admin to unlock the account (crm-bridge user unlock)")
    SIGNIN_DISABLED = ("SIGNIN_DISABLED", 403, "账户已停用或登录已被管理员吊销，请联系管理员",
        "This account is disabled or its sign-in was revoked; ask your admin")
    PASSWORD_WEAK = ("PASSWORD_WEAK", 422, "密码至少需要 {min} 个字符，且不能与用户名相同",
        "A password needs at least {min} characters and must differ from the user name")
    # workbook / add-in
    WORKBOOK_NOT_FOUND = "WORKBOOK_NOT_FOUND", 404, "找不到工作簿文件“{path}”", "Workbook file “{path}” not found"
    WORKBOOK_INVALID = ("WORKBOOK_INVALID", 400, "“{path}”不是有效的 Excel 工作簿（.xlsx/.xlsm）：{detail}",
        "“{path}” is not a valid Excel workbook (.xlsx/.xlsm): {detail}")
    WORKBOOK_TOO_LARGE = ("WORKBOOK_TOO_LARGE", 413, "工作簿“{path}”过大：{detail}（上限 {max}）",
        "Workbook “{path}” is too large: {detail} (limit {max})")
    WORKBOOK_TOO_MANY_ROWS = ("WORKBOOK_TOO_MANY_ROWS", 413, "工作表“{sheet}”有 {count} 行，超过上限 {max} 行",
        "Sheet “{sheet}” has {count} rows, more than the limit of {max}")
    WORKBOOK_NOT_CRM = ("WORKBOOK_NOT_CRM", 422, "这不是 CRM 工作簿（缺少隐藏工作表“{sheet}”）；请用 crm-sheet new 新建",
        "This is not a CRM workbook (hidden sheet “{sheet}” is missing); create one with crm-sheet new")
    WORKBOOK_LOCKED = ("WORKBOOK_LOCKED", 423, "无法写入工作簿“{path}”（可能已在 Excel 中打开）：{detail}",
        "Cannot write workbook “{path}” (is it open in Excel?): {detail}")
    SHEET_MISSING = ("SHEET_MISSING", 422, "工作簿中没有“{entity}”工作表，已跳过该表的数据",
        "The workbook has no “{entity}” sheet; its rows were skipped")
    SHEET_KEYS_MISSING = ("SHEET_KEYS_MISSING", 422, "工作表“{sheet}”隐藏的第 1 行（列标识）被删除或清空；请点击“升级模板”修复",
        "Sheet “{sheet}”: the hidden row 1 (column keys) was deleted or cleared; click Upgrade template to repair it")
    SHEET_ID_COLUMN_MISSING = ("SHEET_ID_COLUMN_MISSING", 422, "工作表“{sheet}”缺少隐藏列 {column}：已有记录无法识别，将作为新记录推送（已在末尾恢复该列）",
        "Sheet “{sheet}” lacks the hidden column {column}: existing records cannot be matched and are pushed as new (the column was restored at the end)")
    SHEET_EXTRA_COLUMN = ("SHEET_EXTRA_COLUMN", 422, "工作表“{sheet}”的第 {column} 列“{header}”不属于模板，已忽略（内容保留）",
        "Sheet “{sheet}” column {column} “{header}” is not part of the template and was ignored (its contents are kept)")
    SHEET_DUPLICATE_COLUMN = ("SHEET_DUPLICATE_COLUMN", 422, "工作表“{sheet}”的第 {column} 列重复了“{header}”，已忽略",
        "Sheet “{sheet}” column {column} repeats “{header}” and was ignored")
    ROW_CLEARED = ("ROW_CLEARED", 422, "“{sheet}”第 {row} 行已清空，但记录仍在服务器上；要删除请在“变更”列选择“删除”（下次拉取将恢复该行）",
        "“{sheet}” row {row} was cleared but the record still exists on the server; to delete it choose delete in the Change column (the next pull restores the row)")
    ROW_RESTORED = ("ROW_RESTORED", 422, "“{sheet}”第 {row} 行：该记录曾被从表中删去，但仍在服务器上，已恢复；要删除请在“变更”列选择“删除”",
        "“{sheet}” row {row}: this record was removed from the sheet but still exists on the server, so it was restored; to delete it choose delete in the Change column")
    ROW_DUPLICATE_ID = ("ROW_DUPLICATE_ID", 422, "“{sheet}”第 {row} 行与其他行的隐藏编号相同（复制的行？），将作为新记录推送",
        "“{sheet}” row {row} has the same hidden id as another row (a copied row?); it is pushed as a new record")
    REFERENCE_HELD = ("REFERENCE_HELD", 422, "“{field}”引用的“{value}”所在行有问题，本次未推送，因此本行也未推送；请先修改那一行",
        "“{field}” refers to “{value}”, whose row has problems and was not pushed, so this row was not pushed either; fix that row first")
    CONFLICT_UNRESOLVED = ("CONFLICT_UNRESOLVED", 409, "与服务器冲突：请在“冲突”表中为每个字段选择“保留我的”或“采用服务器”，然后再次推送",
        "Conflicts with the server: choose mine or theirs for each field on the Conflicts sheet, then push again")
    SERVER_CHANGED_KEPT = ("SERVER_CHANGED_KEPT", 409, "服务器上有更新的版本；已保留您未推送的修改，推送时将合并",
        "The server has a newer version; your unpushed edits were kept and are merged when you push")
    REMOVED_KEPT = ("REMOVED_KEPT", 409, "该记录已在服务器删除或您已无权查看；已保留您未推送的修改",
        "This record was deleted on the server or you may no longer see it; your unpushed edits were kept")
    VALIDATION_FAILED = ("VALIDATION_FAILED", 422, "有 {count} 个问题未通过校验，未推送任何内容；请按标红的单元格修改",
        "{count} problems failed validation and nothing was pushed; fix the cells marked in red")
    NOT_SIGNED_IN = ("NOT_SIGNED_IN", 401, "尚未登录服务器{server}：请先点击“登录”（或运行 crm-sheet login）",
        "Not signed in to the server{server}: click Sign in first (or run crm-sheet login)")
    CREDENTIAL_STORE_UNAVAILABLE = ("CREDENTIAL_STORE_UNAVAILABLE", 401,
        "本机没有可用的系统凭据存储（{detail}），无法保存令牌：请设置环境变量 {env}，或用 crm-sheet login --token-file 文件 把令牌存入仅您可读的文件并设置 {env_file} 为其路径",
        "This computer has no system credential store ({detail}) to keep the token: set the {env} environment variable, or keep it in a file only you can read (crm-sheet login --token-file FILE) and set {env_file} to its path")
    TOKEN_FILE_UNUSABLE = ("TOKEN_FILE_UNUSABLE", 401, "令牌文件 {path} 无法使用：{detail}",
        "The token file {path} cannot be used: {detail}")
    SERVER_URL_INVALID = ("SERVER_URL_INVALID", 422, "服务器地址“{value}”无效，应类似 https://crm.example.com",
        "Server address “{value}” is not valid; it should look like https://crm.example.com")
    BRIDGE_UNREACHABLE = ("BRIDGE_UNREACHABLE", 503, "无法连接服务器 {url}（共尝试 {attempts} 次）：{detail}",
        "Cannot reach the server {url} (tried {attempts} times): {detail}")
    BRIDGE_BAD_RESPONSE = ("BRIDGE_BAD_RESPONSE", 502, "服务器返回了无法识别的响应（HTTP {status}）：{detail}",
        "The server sent a response that could not be understood (HTTP {status}): {detail}")
    BRIDGE_UNKNOWN_CODE = ("BRIDGE_UNKNOWN_CODE", 502, "服务器报告了本插件无法识别的问题（HTTP {status}）；请升级插件，或把此消息发给管理员",
        "The server reported a problem this add-in does not know (HTTP {status}); update the add-in or send this message to your admin")
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND", 404, "找不到最新的工作簿模板：{detail}", "The latest workbook template was not found: {detail}"
    NO_ACTIVE_WORKBOOK = ("NO_ACTIVE_WORKBOOK", 422, "没有打开的 CRM 工作簿：请先打开或新建一个，再点击功能区按钮",
        "No CRM workbook is open: open or create one, then click the ribbon button again")
    SECRET_PROMPT_UNAVAILABLE = ("SECRET_PROMPT_UNAVAILABLE", 501, "此 Python 缺少 tkinter，无法显示隐藏输入的登录框：请在命令提示符运行 crm-sheet login 工作簿路径 --server 服务器地址（输入不显示），或从 python.org 重新安装 Python（含 tcl/tk）",
        "This Python has no tkinter for a sign-in box that hides what you type: run crm-sheet login BOOK --server URL in a command prompt (the token is not shown), or reinstall Python from python.org with tcl/tk")
    # --- import: files and mapping ---
    IMPORT_FILE_ENCRYPTED = ("IMPORT_FILE_ENCRYPTED", 422, "文件“{file}”设有密码保护，无法读取：请先在 Excel/WPS 中去掉密码（文件 ▸ 信息 ▸ 保护工作簿），再导入",
        "“{file}” is password-protected and cannot be read: remove the password first (File ▸ Info ▸ Protect Workbook in Excel/WPS), then import it")
    IMPORT_FILE_UNREADABLE = ("IMPORT_FILE_UNREADABLE", 422, "无法读取文件“{file}”（识别为 {format}）：{detail}；请在 Excel/WPS 中打开并另存为 .xlsx 或 .csv 后再导入",
        "Cannot read “{file}” (seen as {format}): {detail}; open it in Excel/WPS, save it as .xlsx or .csv and import that")
    IMPORT_FILE_UNSAFE = ("IMPORT_FILE_UNSAFE", 422, "文件“{file}”已拒绝，未打开：{detail}；这不像正常的电子表格，请在 Excel/WPS 中另存后再导入",
        "“{file}” was refused without opening it: {detail}; this is not how a normal spreadsheet looks, save it again from Excel/WPS and import that")
    IMPORT_FILE_STRICT = ("IMPORT_FILE_STRICT", 422, "文件“{file}”是“严格 Open XML”格式，无法读取：请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”后再导入",
        "“{file}” is a Strict Open XML spreadsheet, which cannot be read: save it in Excel as “Excel Workbook (*.xlsx)” and import that")
    IMPORT_TOO_MANY_CELLS = ("IMPORT_TOO_MANY_CELLS", 413, "文件“{file}”的“{sheet}”有 {count} 个单元格，超过上限 {max}；请拆分成几个文件分别导入",
        "“{file}” sheet “{sheet}” has {count} cells, more than the limit of {max}; split it into several files")
    IMPORT_NO_TABLE = ("IMPORT_NO_TABLE", 422, "文件“{file}”中没有可导入的数据（所有可见工作表均为空）",
        "“{file}” has nothing to import (every visible sheet is empty)")
    IMPORT_NO_HEADER = ("IMPORT_NO_HEADER", 422, "文件“{file}”的“{sheet}”前 {rows} 行中找不到表头行（一行中有多个不同的列名）；请确认第一张表是数据表",
        "“{file}” sheet “{sheet}”: no header row (a row of several distinct column names) in the first {rows} rows; check that the sheet holds a table")
    IMPORT_MAPPING_SYNTAX = ("IMPORT_MAPPING_SYNTAX", 422, "列映射“{value}”格式错误：应写成 列名=字段，如 公司名称=customer.name",
        "Column mapping “{value}” is malformed: write COLUMN=FIELD, for example Company=customer.name")
    IMPORT_MAPPING_UNKNOWN_COLUMN = ("IMPORT_MAPPING_UNKNOWN_COLUMN", 422, "文件中没有列“{column}”；现有的列：{allowed}",
        "The file has no column “{column}”; its columns: {allowed}")
    IMPORT_MAPPING_UNKNOWN_FIELD = ("IMPORT_MAPPING_UNKNOWN_FIELD", 422, "“{field}”不是可导入的字段；可选：{allowed}",
        "“{field}” is not a field this import can fill; allowed: {allowed}")
    IMPORT_MAPPING_DUPLICATE = ("IMPORT_MAPPING_DUPLICATE", 422, "字段“{field}”同时映射到了列“{column}”和“{other}”；每个字段只能对应一列",
        "Field “{field}” is mapped from both “{column}” and “{other}”; map each field from one column")
    IMPORT_MAPPING_MISSING = ("IMPORT_MAPPING_MISSING", 422, "必填字段“{field}”（{target}）没有对应的列；请用 --map 列名={target} 指定",
        "The required field “{field}” ({target}) has no column; name one with --map COLUMN={target}")
    # reports
    REPORT_PARAM_INVALID = "REPORT_PARAM_INVALID", 422, "报表参数错误：{detail}", "Report parameter is not valid: {detail}"
    REPORT_RULE_INVALID = "REPORT_RULE_INVALID", 422, "标签规则“{name}”有 {count} 个问题，未保存", "Tag rule “{name}” has {count} problems and was not saved"
    REPORT_RULE_BAD_CONDITION = "REPORT_RULE_BAD_CONDITION", 422, "规则条件格式错误：{detail}", "The rule condition is malformed: {detail}"
    REPORT_RULE_UNKNOWN_METRIC = "REPORT_RULE_UNKNOWN_METRIC", 422, "条件第 {clause} 条：未知指标“{value}”，可选：{allowed}", "Clause {clause}: unknown metric “{value}”; allowed: {allowed}"
    REPORT_RULE_BAD_OPERATOR = "REPORT_RULE_BAD_OPERATOR", 422, "条件第 {clause} 条：不支持的比较符“{value}”，可选：{allowed}", "Clause {clause}: unsupported operator “{value}”; allowed: {allowed}"
    REPORT_RULE_BAD_NUMBER = "REPORT_RULE_BAD_NUMBER", 422, "条件第 {clause} 条：“{value}”不是有效的数字", "Clause {clause}: “{value}” is not a valid number"
    REPORT_RULE_NUMBER_OUT_OF_RANGE = ("REPORT_RULE_NUMBER_OUT_OF_RANGE", 422, "条件第 {clause} 条：“{value}”超出范围，应在 {min} 到 {max} 之间",
        "Clause {clause}: “{value}” is out of range; it must be between {min} and {max}")
    REPORT_RULE_BAD_TARGET = "REPORT_RULE_BAD_TARGET", 422, "未知的目标字段“{value}”，可选：{allowed}", "Unknown target field “{value}”; allowed: {allowed}"
    REPORT_RULE_BAD_VALUE = "REPORT_RULE_BAD_VALUE", 422, "目标“{target}”不接受取值“{value}”，可选：{allowed}", "Target “{target}” does not accept “{value}”; allowed: {allowed}"
    REPORT_RULE_NOT_FOUND = "REPORT_RULE_NOT_FOUND", 404, "标签规则 {rule_id} 不存在", "Tag rule {rule_id} does not exist"
    REPORT_RULE_DUPLICATE = "REPORT_RULE_DUPLICATE", 409, "标签规则名称“{name}”已存在", "A tag rule named “{name}” already exists"
    # --- rsheets (report sheets, report settings) ---
    REPORT_SETTING_INVALID = ("REPORT_SETTING_INVALID", 422, "“报表参数”表的“{setting}”填写了“{value}”，无效；应为：{allowed}",
        "Report settings: “{setting}” is “{value}”, which is not valid; allowed: {allowed}")
    # --- history (issue 10: history imports, head offices, refunds tied to a customer) ---
    REQUIRED_ONE_OF = ("REQUIRED_ONE_OF", 422, "“{field}”与“{other}”至少填一项",
        "Give “{field}” or “{other}” (at least one of the two)")
    REFERENCE_MISMATCH = ("REFERENCE_MISMATCH", 422, "“{field}”为“{value}”，但合同“{order}”的客户是“{expected}”",
        "“{field}” is “{value}” but the customer of order “{order}” is “{expected}”")
    PARENT_CYCLE = ("PARENT_CYCLE", 422, "第 {row_no} 行：“{field}”不能是这家单位自己或它的下级单位（“{value}”）",
        "Row {row_no}: “{field}” cannot be the company itself or one of its own branches (“{value}”)")
    HISTORY_ADMIN_ONLY = ("HISTORY_ADMIN_ONLY", 403, "第 {row_no} 行：只有管理员可以导入历史（创建时间、阶段历史）",
        "Row {row_no}: only an admin may import history (created-at, stage history)")
    HISTORY_INSERT_ONLY = ("HISTORY_INSERT_ONLY", 422, "第 {row_no} 行：历史只能随新记录导入，不能用于修改已有记录",
        "Row {row_no}: history comes only with a new record, never with a change of a stored one")
    HISTORY_BAD_MOMENT = ("HISTORY_BAD_MOMENT", 422, "第 {row_no} 行：历史“{field}”应为日期或日期时间，收到“{value}”",
        "Row {row_no}: history “{field}” must be a date or a date and time, got “{value}”")
    HISTORY_IN_FUTURE = ("HISTORY_IN_FUTURE", 422, "第 {row_no} 行：历史“{field}”“{value}”晚于现在",
        "Row {row_no}: history “{field}” “{value}” is in the future")
    HISTORY_UNKNOWN_STAGE = ("HISTORY_UNKNOWN_STAGE", 422, "第 {row_no} 行：阶段历史中的“{value}”不是阶段代码，可选：{allowed}",
        "Row {row_no}: “{value}” in the stage history is not a stage code; allowed: {allowed}")
    HISTORY_OUT_OF_ORDER = ("HISTORY_OUT_OF_ORDER", 422, "第 {row_no} 行：历史“{field}”（{value}）早于“{other}”（{other_value}）",
        "Row {row_no}: history “{field}” ({value}) is before “{other}” ({other_value})")
    HISTORY_STAGE_MISMATCH = ("HISTORY_STAGE_MISMATCH", 422, "第 {row_no} 行：阶段历史最后进入的是“{value}”，而当前阶段是“{stage}”",
        "Row {row_no}: the stage history ends in “{value}” but the stage is “{stage}”")
    HISTORY_CLOSED_OPEN = ("HISTORY_CLOSED_OPEN", 422, "第 {row_no} 行：阶段“{stage}”尚未结束，不能有关闭日期",
        "Row {row_no}: stage “{stage}” is not closed, so it cannot have a close date")
    HISTORY_NOT_APPLICABLE = ("HISTORY_NOT_APPLICABLE", 422, "第 {row_no} 行：“{kind}”没有阶段，历史不能带“{field}”",
        "Row {row_no}: a record of “{kind}” has no stages; its history cannot carry “{field}”")
    HISTORY_FILLED = ("HISTORY_FILLED", 200, "第 {row_no} 行：历史中没有“{field}”，已记为“{value}”",
        "Row {row_no}: “{field}” is missing in the history; stored as “{value}”")
    # --- import: cli ---
    IMPORT_SOURCE_NOT_FOUND = ("IMPORT_SOURCE_NOT_FOUND", 404, "找不到要导入的文件“{path}”",
        "The file to import “{path}” was not found")
    IMPORT_NO_ROWS = ("IMPORT_NO_ROWS", 422, "要导入的文件中没有数据行：{files}",
        "The files to import hold no data rows: {files}")
    IMPORT_KEY_COLUMN_UNKNOWN = ("IMPORT_KEY_COLUMN_UNKNOWN", 422,
        "--key-column “{column}”不是源文件中的列；可选：{allowed}",
        "--key-column “{column}” is not a column of the source files; allowed: {allowed}")
    IMPORT_KEY_COLUMN_NEEDED = ("IMPORT_KEY_COLUMN_NEEDED", 422,
        "--clusters-csv 需要同时给出 --key-column（哪一列的值写入 key 列）",
        "--clusters-csv needs --key-column too (whose value goes in the key column)")
    IMPORT_REPORT_INVALID = ("IMPORT_REPORT_INVALID", 422, "“{path}”不是可用的导入预览报告：{detail}",
        "“{path}” is not a usable import preview report: {detail}")
    IMPORT_REPORT_BAD_CHOICE = ("IMPORT_REPORT_BAD_CHOICE", 422,
        "报告“{sheet}”表第 {row} 行：“{value}”不是可选的处理方式；可选：{allowed}",
        "Report sheet “{sheet}” row {row}: “{value}” is not a choice; allowed: {allowed}")
    IMPORT_REPORT_OTHER_IMPORT = ("IMPORT_REPORT_OTHER_IMPORT", 422,
        "报告“{path}”属于导入 {report_id}，而不是 {import_id}",
        "Report “{path}” belongs to import {report_id}, not {import_id}")
    # --- import: bridge ---
    IMPORT_NOT_FOUND = ("IMPORT_NOT_FOUND", 404, "导入 {import_id} 不存在或您无权访问",
        "Import {import_id} does not exist or is not yours")
    IMPORT_NOT_STAGED = ("IMPORT_NOT_STAGED", 409, "导入 {import_id} 已试运行或已确认（状态：{state}），不能再添加行或重新试运行；请新建一个导入",
        "Import {import_id} was already checked or confirmed (state: {state}): no more rows or dry runs; start a new import")
    IMPORT_NOT_CHECKED = ("IMPORT_NOT_CHECKED", 409, "导入 {import_id} 的状态是“{state}”：只有试运行之后、确认之前才能确认或提交审核选择",
        "Import {import_id} is {state}: confirm and review choices are only possible after the dry run and before confirm")
    IMPORT_NOT_CONFIRMED = ("IMPORT_NOT_CONFIRMED", 409, "导入 {import_id} 的状态是“{state}”：只有已确认的导入才能撤销",
        "Import {import_id} is {state}: only a confirmed import can be undone")
    IMPORT_HISTORY_FOR_ADMINS = ("IMPORT_HISTORY_FOR_ADMINS", 403, "只有管理员可以导入历史数据（创建时间、负责人、阶段历史）",
        "Only administrators may import history (created-at, owner, stage history)")
    IMPORT_ENTITY_UNSUPPORTED = ("IMPORT_ENTITY_UNSUPPORTED", 422, "暂不支持导入“{name}”，可导入：{supported}",
        "Importing “{name}” is not supported yet; supported: {supported}")
    IMPORT_ROW_REPEATED = ("IMPORT_ROW_REPEATED", 422, "源数据第 {row} 行已发送过（每行的 source_row 在导入中必须唯一）",
        "Source row {row} was already sent (each source_row must be unique in the import)")
    IMPORT_TOO_MANY_ROWS = ("IMPORT_TOO_MANY_ROWS", 413, "一次导入最多 {max} 行，本次已有 {count} 行；请拆分文件",
        "An import holds at most {max} rows, this one would have {count}; split the file")
    IMPORT_ROWS_CHANGING = ("IMPORT_ROWS_CHANGING", 409, "导入 {import_id} 仍在添加行；请在上传完成后重新试运行",
        "Rows are still being added to import {import_id}; run the dry run again once the upload is done")
    IMPORT_ROW_UNKNOWN = ("IMPORT_ROW_UNKNOWN", 422, "导入中没有源数据第 {row} 行",
        "The import has no source row {row}")
    IMPORT_CHOICE_INVALID = ("IMPORT_CHOICE_INVALID", 422, "源数据第 {row} 行的选择无效：{detail}",
        "The choice for source row {row} is not valid: {detail}")
    IMPORT_ROW_OVERSIZED = ("IMPORT_ROW_OVERSIZED", 422, "源数据第 {row} 行的“{name}”有 {count} 个字段，上限 {max} 个",
        "Source row {row} carries {count} fields for “{name}”; at most {max}")
    IMPORT_MAPPING_NOT_FOUND = ("IMPORT_MAPPING_NOT_FOUND", 404, "没有名为“{name}”的导入映射",
        "No import mapping is named “{name}”")
    IMPORT_MAPPING_INVALID = ("IMPORT_MAPPING_INVALID", 422, "导入映射的列“{column}”指向未知字段“{value}”",
        "Import mapping column “{column}” names an unknown field “{value}”")
    # --- import: dry run decisions (dryfix) ---
    IMPORT_USCC_DROPPED = ("IMPORT_USCC_DROPPED", 200,
        "源数据第 {row_no} 行：“{field}”的值“{value}”校验位不正确，已作为匹配线索使用，导入时留空；其余字段照常导入",
        "Source row {row_no}: “{field}” value “{value}” has a wrong check character; it was used as a matching hint and is left blank on import, the rest of the row is kept")
    IMPORT_UNIQUE_CLASH = ("IMPORT_UNIQUE_CLASH", 422,
        "源数据第 {row_no} 行：“{field}”的值“{value}”也出现在源数据第 {other} 行，而两行不是同一家公司",
        "Source row {row_no}: “{field}” value “{value}” is also in source row {other}, which is not the same company")
    # --- import: survivorship by recency (survive) ---
    IMPORT_VERIFIED_ON_INVALID = ("IMPORT_VERIFIED_ON_INVALID", 200,
        "源数据第 {row_no} 行：核实日期“{value}”不是有效日期（或晚于今天），该行按没有核实日期处理",
        "Source row {row_no}: verified date “{value}” is not a valid date (or is after today); the row is treated as having no verified date")
    # the Office add-in's service (/office/)
    OFFICE_HTTPS_REQUIRED = ("OFFICE_HTTPS_REQUIRED", 403,
        "Office 只通过 HTTPS 加载加载项的页面（本机 localhost 除外），而此请求是经由普通 HTTP 到达 {host} 的：请改用 https:// 地址；管理员请设置 CRM_PUBLIC_URL 并配置证书（crm-bridge serve --ssl-certfile/--ssl-keyfile，或在反向代理上配置 TLS 并设置 CRM_FORWARDED_ALLOW_IPS）",
        "Office loads add-in pages only over HTTPS (localhost aside), and this request reached {host} over plain HTTP: use the https:// address; admins: set CRM_PUBLIC_URL and a certificate (crm-bridge serve --ssl-certfile/--ssl-keyfile, or TLS on a reverse proxy with CRM_FORWARDED_ALLOW_IPS)")
    OFFICE_SESSION_NOT_FOUND = ("OFFICE_SESSION_NOT_FOUND", 404, "会话 {session} 不存在，或不属于您的令牌",
        "Session {session} does not exist or belongs to another token")
    OFFICE_SESSION_EXPIRED = ("OFFICE_SESSION_EXPIRED", 410, "会话 {session} 已过期（超过 {minutes} 分钟未使用）：请再点一次按钮",
        "Session {session} expired (unused for over {minutes} minutes): click the button again")
    OFFICE_SESSION_TOO_LARGE = ("OFFICE_SESSION_TOO_LARGE", 413, "一个会话最多上传 {max} 字节，本次已达 {used} 字节：请把工作簿拆小，或请管理员调高 CRM_OFFICE_MAX_SESSION_BYTES",
        "A session may upload at most {max} bytes and this one reached {used}: split the workbook, or ask your admin to raise CRM_OFFICE_MAX_SESSION_BYTES")
    OFFICE_SESSION_DONE = ("OFFICE_SESSION_DONE", 409, "会话 {session} 的命令已经运行过，不能再上传或再次运行：请新建会话",
        "Session {session} has already run its command; it takes no more uploads or runs: open a new session")
    OFFICE_SESSION_NOT_RUN = ("OFFICE_SESSION_NOT_RUN", 409, "会话 {session} 的命令还没有运行，尚无操作或文件可取",
        "Session {session} has not run its command yet: there are no actions or files to fetch")
    OFFICE_COMMAND_UNKNOWN = ("OFFICE_COMMAND_UNKNOWN", 422, "未知的命令“{value}”，可用：{allowed}",
        "Unknown command “{value}”; available: {allowed}")
    OFFICE_SHEET_UNKNOWN = ("OFFICE_SHEET_UNKNOWN", 422, "会话开始时列出的工作表中没有“{sheet}”",
        "No sheet “{sheet}” was listed when the session opened")
    OFFICE_PAGE_NOT_FOUND = ("OFFICE_PAGE_NOT_FOUND", 404, "会话 {session} 没有第 {page} 页操作（共 {pages} 页，从 0 开始编号）",
        "Session {session} has no action page {page} ({pages} pages, numbered from 0)")
    OFFICE_FILE_NOT_FOUND = ("OFFICE_FILE_NOT_FOUND", 404, "会话 {session} 中没有文件“{name}”",
        "Session {session} has no file “{name}”")
    OFFICE_FILE_PART_INVALID = ("OFFICE_FILE_PART_INVALID", 422, "文件“{name}”的分段无效：{detail}",
        "A part of file “{name}” is not valid: {detail}")
    OFFICE_PASSWORD_SIGNIN_UNAVAILABLE = ("OFFICE_PASSWORD_SIGNIN_UNAVAILABLE", 501,
        "此服务器不支持用户名和密码登录：请向管理员索取访问令牌，在登录窗口中粘贴",
        "This server does not offer sign-in with a user name and password: ask your admin for an access token and paste it in the sign-in window")

@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: ErrorCode
    status: int
    zh: str
    en: str


CATALOGUE: dict[ErrorCode, ErrorSpec] = {c: ErrorSpec(c, c.status, c.zh, c.en) for c in ErrorCode}
# catalogued on purpose but raised nowhere yet, each with why (tests/schema/test_error_codes.py
# requires every other code to be used somewhere)
RESERVED: dict[ErrorCode, str] = {
    ErrorCode.RATE_LIMITED: "issue 19: rate limiting answers 429 with Retry-After",
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(code: ErrorCode, zh: dict[str, Any] | None = None, en: dict[str, Any] | None = None,
           **params: Any) -> tuple[str, str]:
    """The zh-CN and English message of ``code``.

    ``params`` fill both languages; ``zh`` and ``en`` add language-specific values
    (a field's label in that language, say).
    """
    spec = CATALOGUE[code]
    pz = _Blank({k: "" if v is None else v for k, v in {**params, **(zh or {})}.items()})
    pe = _Blank({k: "" if v is None else v for k, v in {**params, **(en or {})}.items()})
    return spec.zh.format_map(pz), spec.en.format_map(pe)


def markdown() -> str:
    """The error-code reference (``docs/errors.md``), generated from the catalogue."""
    lines = [
        "# Error codes",
        "",
        "Every error the bridge returns and every problem the add-in marks on a cell carries one",
        "of these stable codes. HTTP errors use one JSON shape everywhere:",
        "",
        "```json",
        '{"error": {"code": "INVALID_ENUM", "message_zh": "…", "message_en": "…",',
        '           "entity": "customer", "row": 7, "id": null, "field": "region",',
        '           "allowed": ["north", "east"]}, "errors": []}',
        "```",
        "",
        "`errors` lists every problem when there are several (validation is lazy: all at once).",
        "In a push, row problems come back per row in `results[i].errors` with the same shape.",
        "Regenerate this file with `python -m schema.errors > docs/errors.md`.",
        "",
        "| code | HTTP | English | 中文 |",
        "|---|---|---|---|",
    ]
    for s in CATALOGUE.values():
        lines.append(f"| `{s.code}` | {s.status} | {s.en} | {s.zh} |")
    lines += ["", "Reserved (catalogued, not raised yet): " + "; ".join(
        f"`{code}` ({why})" for code, why in RESERVED.items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
