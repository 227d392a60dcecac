"""Header detection, mapping suggestions in both languages, overrides, required fields and
mapped rows."""

from __future__ import annotations

import datetime as dt

import pytest

from addin.errors import AddinError
from addin.importing.header import column_names, find_header
from addin.importing.mapping import (
    apply_overrides,
    guess_entity,
    mapped_rows,
    missing_required,
    require_complete,
    reuse_mapping,
    suggest_mapping,
    targets,
)
from addin.importing.source import IGNORED, Mapping, SourceTable
from schema.dictionary import build_dictionary
from schema.errors import ErrorCode
from schema.synonyms import FIELD_SYNONYMS, HISTORY_FIELDS
from schema.wire import RowHistory
from schema.wire_import import VERIFIED_ON

D = build_dictionary()


def test_every_synonym_key_names_a_real_field() -> None:
    for key, labels in FIELD_SYNONYMS.items():
        ent, _, fld = key.partition(".")
        assert ent in D.entities, key
        assert D.entity(ent).has_field(fld) or fld in (*HISTORY_FIELDS, VERIFIED_ON), key
        assert labels and all(s.strip() for s in labels), key
    assert set(HISTORY_FIELDS) <= set(RowHistory.model_fields)


def test_the_header_is_found_below_titles_and_banners() -> None:
    rows = [["2023 年度客户名单", None, None, None], ["导出时间：2023-12-31", None, None, None],
            [None, None, None, None], ["序号", "客户名称", "联系人", "手机"],
            [1, "恒通科技", "张伟", 13800138000], [2, "星辰贸易", "李娜", 13900139000]]
    header = find_header(rows)
    assert header is not None
    assert (header.index, header.columns) == (3, ["序号", "客户名称", "联系人", "手机"])


def test_known_labels_beat_a_row_of_plain_texts_above() -> None:
    rows = [["华东区", "华南区", "华北区"], ["Company", "Contact", "Mobile"], ["A", "B", "C"]]
    header = find_header(rows)
    assert header is not None and header.index == 1


def test_a_data_only_sheet_has_no_header() -> None:
    assert find_header([[1, 2, 3], [dt.date(2020, 1, 1), 4.5, 6]]) is None


def test_blank_and_repeated_header_cells() -> None:
    assert column_names(["公司名称", None, "电话", "电话", ""], 6) == [
        "公司名称", "列2", "电话", "电话 (2)", "列5", "列6"]
    assert column_names(["Name", None, "Name"], 3) == ["Name", "Column 2", "Name (2)"]


def test_chinese_labels_map_a_customer_and_its_contact() -> None:
    cols = ["公司名称（必填）", "统一社会信用代码", "联系人", "职位", "手机号", "电子邮件", "微信",
            "地址", "行业", "负责人", "备注说明", "内部编号"]
    m = suggest_mapping(cols, D, "customer")
    assert m.columns == {
        "公司名称（必填）": "customer.name", "统一社会信用代码": "customer.uscc",
        "联系人": "contact.name", "职位": "contact.title", "手机号": "contact.mobile",
        "电子邮件": "contact.email", "微信": "contact.wechat", "地址": "customer.address",
        "行业": "customer.industry", "负责人": "customer.owner", "备注说明": "customer.notes",
        "内部编号": IGNORED}
    assert missing_required(m, D) == []


def test_english_labels_map_too() -> None:
    cols = ["Account Name", "Tax ID", "Contact Name", "Job Title", "Mobile Phone", "E-mail",
            "WeChat ID", "Tel", "Account Owner", "Created Date"]
    m = suggest_mapping(cols, D, "customer", history=True)
    assert m.columns == {
        "Account Name": "customer.name", "Tax ID": "customer.uscc",
        "Contact Name": "contact.name", "Job Title": "contact.title",
        "Mobile Phone": "contact.mobile", "E-mail": "contact.email",
        "WeChat ID": "contact.wechat", "Tel": "customer.phone",
        "Account Owner": "customer.owner", "Created Date": "customer.created_at"}
    assert suggest_mapping(cols, D, "customer").columns["Created Date"] == IGNORED


def test_an_opportunity_names_its_customer() -> None:
    m = suggest_mapping(["客户", "商机名称", "阶段", "金额", "预计成交日期"], D, "opportunity")
    assert m.targets() == {"opportunity": ["customer", "name", "stage", "amount",
                                           "expected_close"]}


def test_each_field_is_used_once_and_the_main_entity_comes_first() -> None:
    m = suggest_mapping(["公司名称", "客户名称", "姓名"], D, "customer")
    assert m.columns == {"公司名称": "customer.name", "客户名称": IGNORED, "姓名": "contact.name"}


def test_overrides() -> None:
    m = suggest_mapping(["公司名称", "联系人", "内部编号", "邮箱"], D, "customer")
    m2 = apply_overrides(m, ["内部编号=customer.notes", "邮箱=", "联系人=contact.name"], D)
    assert m2.columns == {"公司名称": "customer.name", "联系人": "contact.name",
                          "内部编号": "customer.notes", "邮箱": IGNORED}
    moved = apply_overrides(m, ["内部编号=name"], D)  # a bare field is the main entity's
    assert moved.columns["内部编号"] == "customer.name" and moved.columns["公司名称"] == IGNORED
    assert m.columns["内部编号"] == IGNORED  # the original is left as it was


@pytest.mark.parametrize(("override", "code", "named"), [
    ("无此列=customer.name", ErrorCode.IMPORT_MAPPING_UNKNOWN_COLUMN, "无此列"),
    ("公司名称=customer.nope", ErrorCode.IMPORT_MAPPING_UNKNOWN_FIELD, "customer.nope"),
    ("公司名称=order.amount", ErrorCode.IMPORT_MAPPING_UNKNOWN_FIELD, "contact.email"),
    ("公司名称", ErrorCode.IMPORT_MAPPING_SYNTAX, "公司名称"),
])
def test_bad_overrides_name_what_is_wrong(override: str, code: ErrorCode, named: str) -> None:
    m = suggest_mapping(["公司名称", "邮箱"], D, "customer")
    with pytest.raises(AddinError) as info:
        apply_overrides(m, [override], D)
    assert info.value.code is code
    assert named in info.value.message_en and named in info.value.message_zh


def test_one_field_from_two_columns_is_refused() -> None:
    m = suggest_mapping(["A", "B"], D, "customer")
    with pytest.raises(AddinError) as info:
        apply_overrides(m, ["A=customer.name", "B=customer.name"], D)
    assert info.value.code is ErrorCode.IMPORT_MAPPING_DUPLICATE


def test_missing_required_fields() -> None:
    m = suggest_mapping(["手机", "邮箱"], D, "customer")  # contact fields, no names
    assert missing_required(m, D) == ["customer.name", "contact.name"]
    with pytest.raises(AddinError) as info:
        require_complete(m, D, "en")
    assert info.value.code is ErrorCode.IMPORT_MAPPING_MISSING
    assert "Company name" in info.value.message_en and "customer.name" in info.value.message_en
    assert missing_required(suggest_mapping(["公司名称"], D, "customer"), D) == []
    assert "contact.customer" not in targets(D, "customer")


def test_mapped_rows_are_json_scalars_with_their_place() -> None:
    table = SourceTable(
        file="客户.xlsx", sheet="2023", format="xlsx", header_row=3,
        columns=["公司名称", "手机", "签约", "金额", "联系人", "创建时间", "备注"],
        rows=[["  恒通科技 ", 13800138000.0, dt.date(2021, 3, 2), 12.5, None,
               dt.datetime(2020, 1, 2, 9, 30), ""],
              ["星辰", "010-1234", None, 3.0, "李娜", None, float("nan")]],
        row_numbers=[4, 6])
    m = apply_overrides(suggest_mapping(table.columns, D, "customer", history=True),
                        ["签约=customer.notes", "金额=customer.company_size"], D, history=True)
    rows = mapped_rows(table, m, 101)
    assert [(r.source_row, r.sheet, r.line) for r in rows] == [
        (101, "客户.xlsx › 2023", 4), (102, "客户.xlsx › 2023", 6)]
    assert rows[0].values == {"customer": {"name": "恒通科技", "notes": "2021-03-02",
                                           "company_size": 12.5},
                              "contact": {"mobile": 13800138000}}
    assert rows[0].history["customer"].created_at == "2020-01-02T09:30:00"
    assert rows[1].values == {"customer": {"name": "星辰", "company_size": 3},
                              "contact": {"mobile": "010-1234", "name": "李娜"}}
    assert rows[1].history == {}
    assert isinstance(rows[1].values["customer"]["company_size"], int)


def test_a_saved_mapping_round_trips() -> None:
    m = suggest_mapping(["公司名称", "手机"], D, "customer")
    m.name = "老系统导出"
    assert Mapping.from_json(m.to_json()) == m


def test_a_saved_mapping_is_reused_on_the_next_file() -> None:
    first = apply_overrides(suggest_mapping(["客户名称", "手机", "内部编号"], D, "customer"),
                            ["内部编号=customer.notes"], D)
    saved = Mapping.from_json(first.to_json())
    # the next file: the same columns in another order and width, one new column
    again = reuse_mapping(saved, ["手机 ", "内部编号", "客户名称", "邮箱"], D)
    assert again.columns == {"手机 ": "contact.mobile", "内部编号": "customer.notes",
                             "客户名称": "customer.name", "邮箱": "contact.email"}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("entity", sorted(D.entities))
def test_the_dictionary_labels_map_to_their_own_fields(entity: str, lang: str) -> None:
    """A sheet headed with the dictionary's own labels (a CRM export, say) maps every column
    to its field, in either language, with or without the required mark."""
    fields = D.entity(entity).fields
    labels = [f.label(lang) + (" *" if f.required else "") for f in fields]
    m = suggest_mapping(labels, D, entity)
    assert m.columns == {lab: f"{entity}.{f.code}" for lab, f in zip(labels, fields, strict=True)}


@pytest.mark.parametrize(("columns", "entity"), [
    (["公司名称", "联系人", "手机", "地址"], "customer"),
    (["Account Name", "Opportunity Name", "Stage", "Amount", "Close Date"], "opportunity"),
    (["合同编号", "客户", "签约日期", "合同金额", "状态"], "order"),
    (["所属客户", "姓名", "职务", "手机"], "contact"),
    (["发票号码", "合同编号", "类型", "开票日期", "金额"], "invoice"),
    (["甲", "乙"], "customer"),
])
def test_the_entity_is_guessed_from_the_columns(columns: list[str], entity: str) -> None:
    assert guess_entity(columns, D) == entity


@pytest.mark.parametrize("entity", sorted(D.entities))
def test_a_sheet_of_an_entity_s_own_labels_is_guessed_as_that_entity(entity: str) -> None:
    labels = [f.zh for f in D.entity(entity).fields]
    assert guess_entity(labels, D) == entity
