"""The words of an import's report workbook, declared once: sheet names, columns, decisions,
match reasons and review choices in zh-CN and English.

``addin.importing.report`` writes with them; ``addin.importing.review`` reads the user's
choices back by the same declarations (a header or a choice in either language counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from schema.errors import Lang
from schema.wire_import import SURVIVOR_REASONS, Choice, Decision, FieldDifference

K = TypeVar("K", bound=str)


@dataclass(frozen=True)
class Column:
    """A report column: a stable key, its header in both languages, its width."""

    key: str
    zh: str
    en: str
    width: float = 14

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


def pick(words: tuple[str, str], lang: Lang) -> str:
    return words[0] if lang == "zh" else words[1]


SHEETS: dict[str, tuple[str, str]] = {
    "summary": ("摘要", "Summary"),
    "preview": ("导入预览", "Preview"),
    "review": ("待确认", "Review"),
    "mapping": ("映射", "Mapping"),
}

DECISIONS: dict[Decision, tuple[str, str]] = {
    "new": ("新建", "New"),
    "match": ("匹配已有", "Matches existing"),
    "duplicate": ("文件内重复", "Duplicate in file"),
    "branch": ("分支机构", "Branch"),
    "uncertain": ("待确认", "To review"),
    "invalid": ("无效", "Invalid"),
}

REASONS: dict[str, tuple[str, str]] = {
    "same_uscc": ("统一社会信用代码相同", "same USCC"),
    "uscc_hint": ("信用代码仅差一位（疑似笔误）", "USCC one character off (a typo?)"),
    "same_phone": ("电话相同", "same phone"),
    "same_domain": ("邮箱域名相同", "same e-mail domain"),
    "same_address": ("地址相同", "same address"),
    "similar_address": ("地址相近", "similar address"),
    "name_equal": ("名称相同（规范化后）", "same normalised name"),
    "name_partial": ("名称相同（缺少行业词）", "same name without the trade word"),
    "name_typo": ("名称仅差一字", "name one character off"),
    "branch_a": ("分支机构名称", "a branch name"),
    "branch_b": ("分支机构名称", "a branch name"),
    "branch_of_row": ("本次导入中有其总部", "its head office is in this import"),
    "veto_region": ("地区不同", "different regions"),
    "veto_branch": ("不同的分支机构", "different branches"),
    "veto_uscc": ("信用代码不同", "different USCCs"),
}

# confirm's counts (push row statuses, plus rows left out or already as stored)
CONFIRMED: dict[str, tuple[str, str]] = {
    "applied": ("写入", "written"),
    "merged": ("合并写入", "merged"),
    "unchanged": ("无变化", "unchanged"),
    "skipped": ("跳过", "skipped"),
    "conflict": ("冲突", "conflicts"),
    "rejected": ("拒绝", "rejected"),
}

CHOICES: dict[Choice, tuple[str, str]] = {
    "merge": ("合并", "merge"),
    "new": ("新建", "new"),
    "skip": ("跳过", "skip"),
}
YES_NO: tuple[tuple[str, str], tuple[str, str]] = (("是", "yes"), ("否", "no"))

PREVIEW: tuple[Column, ...] = (
    Column("source_row", "源行号", "Source row", 9),
    Column("where", "文件 › 工作表", "File › sheet", 26),
    Column("line", "行", "Line", 7),
    Column("decision", "处理", "Decision", 12),
    Column("record_id", "匹配记录编号", "Matched record id", 16),
    Column("record_name", "匹配记录名称", "Matched record name", 24),
    Column("score", "得分", "Score", 8),
    Column("reasons", "依据", "Reasons", 30),
    Column("duplicate_of", "重复于源行", "Duplicate of row", 11),
    Column("uncertain_of", "可能同于源行", "Maybe the same as row", 11),
    Column("branch_of", "分支所属", "Branch of", 24),
    Column("invalid_cell", "无效单元格", "Invalid cell", 20),
    Column("reason_zh", "原因（中文）", "Reason (Chinese)", 36),
    Column("reason_en", "原因（英文）", "Reason (English)", 36),
    Column("warnings", "提示", "Warnings", 30),
    Column("survivors", "字段取值依据", "Why each value won", 40),
)

REVIEW: tuple[Column, ...] = (
    Column("source_row", "源行号", "Source row", 9),
    Column("where", "文件 › 工作表", "File › sheet", 26),
    Column("line", "行", "Line", 7),
    Column("decision", "处理", "Decision", 12),
    Column("source_name", "导入的名称", "Incoming name", 24),
    Column("record_id", "候选记录编号", "Candidate record id", 16),
    Column("record_name", "候选记录名称", "Candidate record name", 24),
    Column("score", "得分", "Score", 8),
    Column("reasons", "依据", "Reasons", 30),
    Column("field", "字段", "Field", 14),
    Column("existing", "已有值", "Existing value", 22),
    Column("incoming", "导入值", "Incoming value", 22),
    Column("choice", "处理方式（合并/新建/跳过）", "Choice (merge/new/skip)", 16),
    Column("take_incoming", "采用导入值", "Take the incoming value", 12),
    Column("field_key", "字段编码", "Field code", 14),
    # last, so the columns users edit keep their letters
    Column("uncertain_of", "可能同于源行", "Maybe the same as row", 11),
    Column("why", "取值依据", "Why this value", 40),
    Column("winner", "胜出方编码", "Winner code", 10),
)

MAPPING: tuple[Column, ...] = (
    Column("column", "源列", "Source column", 24),
    Column("target", "映射到", "Maps to", 24),
    Column("field_key", "字段编码", "Field code", 20),
)

SUMMARY: tuple[tuple[str, tuple[str, str]], ...] = (
    ("import_id", ("导入编号", "Import id")),
    ("server_url", ("服务器", "Server")),
    ("entity", ("导入对象", "Entity")),
    ("files", ("文件", "Files")),
    ("rows", ("源行数", "Source rows")),
    ("lang", ("语言", "Language")),
)
SUMMARY_TITLE = ("导入预览（试运行：尚未写入任何数据）",
                 "Import preview (dry run: nothing written yet)")
SUMMARY_HOWTO = (
    "在“待确认”表中为每一行选择“合并/新建/跳过”，需要时把“采用导入值”改为“是”，保存后运行 "
    "crm-sheet import --confirm 本文件 导入编号（或在 Excel 中再次点击“导入”"
    "并选择本文件）确认导入。",
    "Choose merge/new/skip for each row of the Review sheet, set “Take the incoming value” to "
    "yes where wanted, save, then run crm-sheet import --confirm THIS-FILE IMPORT-ID (or click "
    "Import again in Excel and pick this file) to confirm.",
)


WINNERS: dict[str, tuple[str, str]] = {
    "incoming": ("采用导入值", "incoming value taken"),
    "existing": ("保留已有值", "stored value kept"),
    "": ("待确认，默认保留已有值", "to review; the stored value stays unless you take the "
                               "incoming one"),
}


def why_words(diff: FieldDifference, lang: Lang) -> str:
    """Why a difference's value won: the winner, the reason, the two dates."""
    winner = pick(WINNERS[diff.winner or ""], lang)
    reason = pick(SURVIVOR_REASONS[diff.why or "no_incoming_date"], lang)
    dates = [(("导入核实", "verified"), diff.incoming_verified),
             (("已有值修改", "stored changed"), diff.existing_changed)]
    when = [f"{pick(w, lang)} {v[:10] if len(v) == 10 else v[:16].replace('T', ' ')}"
            for w, v in dates if v]
    sep = "；" if lang == "zh" else "; "
    return sep.join([f"{winner}：{reason}" if lang == "zh" else f"{winner}: {reason}", *when])


def reason_words(reasons: list[str], lang: Lang) -> str:
    """``same_uscc, same_phone`` in words (an unknown reason is shown as its code)."""
    sep = "；" if lang == "zh" else "; "
    return sep.join(pick(REASONS[r], lang) if r in REASONS else r for r in reasons)


def counts_words(counts: Mapping[str, int], words: Mapping[K, tuple[str, str]],
                 lang: Lang) -> str:
    """``新建 3，匹配已有 1 …``: each count in words, in the declared order."""
    sep = "，" if lang == "zh" else ", "
    return sep.join(f"{pick(w, lang)} {counts.get(code, 0)}" for code, w in words.items())


def choice_of(text: object) -> Choice | None:
    """A review choice from a cell in either language (or its code); None when blank;
    raises ``KeyError`` for anything else."""
    value = "" if text is None else str(text).strip().casefold()
    if not value:
        return None
    for code, (zh, en) in CHOICES.items():
        if value in (code, zh, en.casefold()):
            return code
    raise KeyError(value)


def yes(text: object) -> bool:
    """True for 是 / yes / y / true / 1 (either language)."""
    return str(text or "").strip().casefold() in ("是", "yes", "y", "true", "1")
