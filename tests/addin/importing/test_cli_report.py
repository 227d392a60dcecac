"""The dry run's report workbook: its sheets, words and dropdowns in both languages, and the
user's review choices read back (a real file written by XlsxWriter, edited with openpyxl)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from addin.errors import AddinError
from addin.importing.report import ReportData, write_report
from addin.importing.review import read_report
from addin.importing.source import Mapping
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode, Lang
from schema.wire import ErrorItem, WarningItem
from schema.wire_import import FieldDifference, ImportRow, RowDecision

WHERE = "old.xlsx › 客户"


def _data(lang: Lang) -> ReportData:
    names = ["恒通科技有限公司", "恒通科技", "恒通科技上海分公司", "华伟科技", "", "宏达=1+1"]
    rows = [ImportRow(source_row=i, sheet=WHERE, line=i + 2,
                      values={"customer": {"name": n, "phone": "010-65528888"}})
            for i, n in enumerate(names, start=1)]
    invalid = ErrorItem(code="REQUIRED", message_zh="“公司名称”为必填项，不能为空",
                        message_en="“Company name” is required and cannot be empty",
                        entity="customer", field="name", row=5)
    decisions = [
        RowDecision(source_row=1, sheet=WHERE, line=3, decision="match", cluster="r:c1",
                    record_id="c1", record_name="恒通科技有限公司", score=1.0,
                    reasons=["same_uscc"],
                    differences=[FieldDifference(field="phone", entity="customer",
                                                 existing="010-1", incoming="010-65528888")]),
        RowDecision(source_row=2, sheet=WHERE, line=4, decision="duplicate", cluster="r:c1",
                    duplicate_of=1, score=0.6, reasons=["name_equal"]),
        RowDecision(source_row=3, sheet=WHERE, line=5, decision="branch", cluster="s:3",
                    record_id="c1", record_name="恒通科技有限公司", reasons=["name_equal",
                                                                        "branch_a"]),
        RowDecision(source_row=4, sheet=WHERE, line=6, decision="uncertain", cluster="s:4",
                    record_id="c9", record_name="华为科技有限公司", score=0.4,
                    reasons=["name_typo"]),
        RowDecision(source_row=5, sheet=WHERE, line=7, decision="invalid", cluster="s:5",
                    errors=[invalid]),
        RowDecision(source_row=6, sheet=WHERE, line=8, decision="new", cluster="s:6",
                    warnings=[WarningItem(code="X", message_zh="提示一", message_en="note one")]),
    ]
    mapping = Mapping("customer", {"公司名称": "customer.name", "电话": "customer.phone",
                                   "备注": ""})
    return ReportData("imp-1", "http://127.0.0.1:1", "customer", ["old.xlsx"],
                      {"match": 1, "duplicate": 1, "branch": 1, "uncertain": 1,
                       "invalid": 1, "new": 1}, decisions, rows, mapping, lang)


def _table(path: Path, sheet: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[sheet]
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


def test_zh_report_rows_words_and_layout(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", _data("zh"), build_dictionary())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["摘要", "导入预览", "待确认", "映射"]
    preview = _table(path, "导入预览")
    assert [r["处理"] for r in preview] == ["匹配已有", "文件内重复", "分支机构", "待确认",
                                           "无效", "新建"]
    first = preview[0]
    assert first["文件 › 工作表"] == WHERE and first["行"] == 3
    assert first["匹配记录编号"] == "c1" and first["依据"] == "统一社会信用代码相同"
    assert preview[1]["重复于源行"] == 1
    assert preview[2]["分支所属"] == "恒通科技有限公司 (c1)"
    assert preview[3]["依据"] == "名称仅差一字"
    bad = preview[4]
    assert bad["无效单元格"] == "公司名称" and "必填" in str(bad["原因（中文）"])
    assert "required" in str(bad["原因（英文）"])
    assert preview[5]["公司名称 → 客户 › 公司名称"] == "宏达=1+1"  # text, not a formula
    assert preview[5]["提示"] == "提示一"
    ws = book["导入预览"]
    assert ws.freeze_panes == "E2" and ws.auto_filter.ref
    review = _table(path, "待确认")
    assert [(r["源行号"], r["字段编码"], r["处理方式（合并/新建/跳过）"]) for r in review] == [
        (1, "customer.phone", "合并"), (4, None, None)]
    lists = {(str(dv.sqref), dv.formula1.strip('"'))
             for dv in book["待确认"].data_validations.dataValidation}
    assert lists == {("M2:M3", "合并,新建,跳过"), ("N2:N3", "是,否")}
    assert [r["导入的名称"] for r in review] == ["恒通科技有限公司", "华伟科技"]
    mapping = _table(path, "映射")
    assert mapping[2]["映射到"] == "（不导入）"


def test_en_report_and_choices_read_back(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", _data("en"), build_dictionary())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Preview", "Review", "Mapping"]
    assert [r["Decision"] for r in _table(path, "Preview")][:2] == ["Matches existing",
                                                                    "Duplicate in file"]
    summary = {r[1]: r[2] for r in book["Summary"].iter_rows(values_only=True)}
    assert summary["Import id"] == "imp-1" and summary["Matches existing"] == 1
    untouched = read_report(path)
    assert untouched.import_id == "imp-1" and untouched.lang == "en"
    assert [(c.source_row, c.choice, c.record_id, c.keep) for c in untouched.choices] == [
        (1, "merge", "c1", [])]
    ws = book["Review"]
    ws["N2"] = "yes"      # take the incoming phone
    ws["M3"] = "新建"      # a Chinese colleague keeps row 4 apart
    book.save(path)
    edited = read_report(path)
    assert [(c.source_row, c.choice, c.record_id, c.keep) for c in edited.choices] == [
        (1, "merge", "c1", ["phone"]), (4, "new", None, [])]
    ws["M3"] = "maybe"
    book.save(path)
    with pytest.raises(AddinError) as err:
        read_report(path)
    assert err.value.code == ErrorCode.IMPORT_REPORT_BAD_CHOICE
    assert "row 3" in err.value.message_en and "maybe" in err.value.message_en


def test_not_a_report(tmp_path: Path) -> None:
    other = tmp_path / "x.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(AddinError) as err:
        read_report(other)
    assert err.value.code == ErrorCode.IMPORT_REPORT_INVALID
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    with pytest.raises(AddinError) as err:
        read_report(junk)
    assert err.value.code == ErrorCode.IMPORT_REPORT_INVALID
