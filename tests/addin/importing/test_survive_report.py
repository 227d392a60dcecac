"""Survivorship on the add-in side: a verified-date column is suggested and sent as
``verified_on`` (the file's date for rows without one), the report says per field why a
value won (zh and en), and the Review sheet reads back only the answers the user changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from addin.importing.mapping import mapped_rows, suggest_mapping
from addin.importing.report import ReportData, write_report
from addin.importing.review import read_report
from addin.importing.source import Mapping, SourceTable
from addin.importing.words import REVIEW, SHEETS
from schema.dictionary import build_dictionary
from schema.errors import Lang
from schema.wire_import import FieldDifference, RowDecision

D = build_dictionary()


@pytest.mark.parametrize("label", ["核实日期", "最后更新", "更新日期", "Last verified",
                                   "Last modified", "Updated"])
def test_a_verified_date_column_is_suggested(label: str) -> None:
    m = suggest_mapping(["公司名称", label, "电话"], D, "customer")
    assert m.columns[label] == "customer.verified_on"
    assert m.columns["公司名称"] == "customer.name"


def test_rows_carry_their_date_or_the_files() -> None:
    table = SourceTable("旧.xlsx", "Sheet1", "xlsx", 1, ["公司名称", "核实日期"],
                        [["甲公司", dt.date(2024, 5, 1)], ["乙公司", None]], [2, 3])
    mapping = suggest_mapping(table.columns, D, "customer")
    rows = mapped_rows(table, mapping, 1, verified_on="2024-06-30")
    assert [r.verified_on for r in rows] == ["2024-05-01", "2024-06-30"]
    assert rows[0].values == {"customer": {"name": "甲公司"}}  # the date is not a field


def _diff(winner: str | None, why: str) -> FieldDifference:
    return FieldDifference(field="phone", entity="customer", existing="021 5555 1234",
                           incoming="138 0013 8000", winner=winner, why=why,  # type: ignore[arg-type]
                           incoming_verified="2024-05-01",
                           existing_changed="2023-01-02T03:04:05+00:00")


def _report(tmp_path: Path, lang: Lang) -> Path:
    decisions = [RowDecision(source_row=n, decision="match", cluster=f"r:{n}",
                             record_id=f"00000000-0000-0000-0000-00000000000{n}",
                             differences=[_diff(w, why)])
                 for n, (w, why) in enumerate([("incoming", "incoming_newer"),
                                               ("existing", "existing_newer"),
                                               (None, "same_time")], start=1)]
    data = ReportData("imp-1", "http://x", "customer", ["旧.xlsx"], {"match": 3}, decisions,
                      [], Mapping("customer", {"公司名称": "customer.name"}), lang)
    return write_report(tmp_path / f"r-{lang}.xlsx", data, D)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_says_why_each_value_won(tmp_path: Path, lang: Lang) -> None:
    path = _report(tmp_path, lang)
    book = openpyxl.load_workbook(path)
    ws = book[SHEETS["review"][0 if lang == "zh" else 1]]
    keys = [c.key for c in REVIEW]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    take = [r[keys.index("take_incoming")] for r in rows]
    why = [r[keys.index("why")] for r in rows]
    if lang == "zh":
        assert take == ["是", "否", "否"]
        assert why[0].startswith("采用导入值：导入值较新") and "导入核实 2024-05-01" in why[0]
        assert why[1].startswith("保留已有值：已有值较新") and "2023-01-02 03:04" in why[1]
        assert why[2].startswith("待确认") and "日期相同" in why[2]
    else:
        assert take == ["yes", "no", "no"]
        assert why[0].startswith("incoming value taken: incoming is newer")
        assert why[1].startswith("stored value kept: stored is newer")
        assert "same date on both sides" in why[2]
    preview = book[SHEETS["preview"][0 if lang == "zh" else 1]]
    header = [c.value for c in preview[1]]
    col = header.index("字段取值依据" if lang == "zh" else "Why each value won")
    assert all(r[col] for r in preview.iter_rows(min_row=2, values_only=True))
    # untouched: nothing but the default merge goes back, confirm decides by recency
    assert [(c.keep, c.keep_existing) for c in read_report(path).choices] == [([], [])] * 3
    # the user says no to the newer value and yes to the older one
    ws.cell(2, keys.index("take_incoming") + 1, "否" if lang == "zh" else "no")
    ws.cell(3, keys.index("take_incoming") + 1, "是" if lang == "zh" else "yes")
    book.save(path)
    got = {c.source_row: (c.keep, c.keep_existing) for c in read_report(path).choices}
    assert got == {1: ([], ["phone"]), 2: (["phone"], []), 3: ([], [])}
