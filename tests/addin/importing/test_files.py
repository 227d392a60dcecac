"""Reading foreign files: every format and encoding, built at test time with real writers
(openpyxl, XlsxWriter, LibreOffice), read back with read_tables."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from addin.errors import AddinError
from addin.importing.files import read_tables
from schema.errors import ErrorCode

HEADER = ["公司名称", "联系人", "手机", "签约日期", "金额"]
DATA = [
    ["恒通科技有限公司", "张伟", 13800138000, dt.date(2021, 3, 2), 12.5],
    ["星辰贸易（上海）有限公司", "李娜", "021-12345678转8", dt.date(2022, 11, 30), 300],
]


def _openpyxl_book(path: Path, banner: bool = True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "客户"
    if banner:
        ws.append(["2021 年客户名单"])
        ws.merge_cells("A1:E1")
        ws.append([])
    ws.append(HEADER)
    for row in DATA:
        ws.append(row)
    hidden = wb.create_sheet("隐藏")
    hidden.append(["x", "y"])
    hidden.sheet_state = "hidden"
    wb.save(path)
    return path


def _xlsxwriter_book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Sheet1")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, 4, "Customers")
    for c, h in enumerate(HEADER):
        ws.write(2, c, h)
    for r, row in enumerate(DATA, start=3):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), fmt)
            else:
                ws.write(r, c, v)
    wb.add_worksheet("Empty")
    wb.close()
    return path


def _check(table_rows: list[list[object]]) -> None:
    assert table_rows[0][:3] == DATA[0][:3]
    assert table_rows[0][2] == 13800138000 and isinstance(table_rows[0][2], int)
    assert table_rows[0][3] in (dt.date(2021, 3, 2), dt.datetime(2021, 3, 2))
    assert table_rows[1][4] == 300 and isinstance(table_rows[1][4], int)
    assert table_rows[0][4] == 12.5


def test_xlsx_from_openpyxl_below_a_merged_banner(tmp_path: Path) -> None:
    tables = read_tables(_openpyxl_book(tmp_path / "a.xlsx"))
    assert [t.sheet for t in tables] == ["客户"]  # the hidden sheet is left out
    t = tables[0]
    assert (t.format, t.header_row, t.columns) == ("xlsx", 3, HEADER)
    assert t.row_numbers == [4, 5]
    _check(t.rows)


def test_xlsx_from_xlsxwriter_skips_empty_sheets(tmp_path: Path) -> None:
    tables = read_tables(_xlsxwriter_book(tmp_path / "b.xlsx"))
    assert [(t.sheet, t.header_row, t.columns) for t in tables] == [("Sheet1", 3, HEADER)]
    _check(tables[0].rows)


def test_a_renamed_file_is_read_as_what_it_is(tmp_path: Path) -> None:
    book = _openpyxl_book(tmp_path / "a.xlsx")
    renamed = tmp_path / "客户.csv"
    shutil.copy(book, renamed)
    assert read_tables(renamed)[0].format == "xlsx"
    text = tmp_path / "list.xlsx"
    text.write_text("公司名称,手机\n恒通公司,13800138000\n", encoding="utf-8")
    t = read_tables(text)[0]
    assert (t.format, t.columns, t.rows) == ("csv", ["公司名称", "手机"],
                                             [["恒通公司", "13800138000"]])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16",
                                      "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_text_encodings_and_delimiters(tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = [["客户名单（导出）"], ["公司名称", "联系人", "地址"],
            ["恒通科技有限公司", "张伟", "北京市朝阳区建国路 88 号"],
            ["星辰贸易", "李娜", "上海市浦东新区世纪大道 100 号，A 座"],
            ["華為技術", "王芳", "深圳市龙岗区坂田"]]
    lines = []
    for r in rows:
        lines.append(delimiter.join(f'"{c}"' if delimiter in c or "，" in c else c for c in r))
    path = tmp_path / "x.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    t = read_tables(path)[0]
    assert t.delimiter == delimiter
    assert t.columns == rows[1]
    assert t.header_row == 2
    assert t.rows == [r for r in rows[2:]]
    assert t.encoding is not None


def test_soffice_formats(tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    src = _openpyxl_book(tmp_path / "src.xlsx", banner=False)
    for fmt, filt in (("ods", "ods"), ("xls", "xls:MS Excel 97")):
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--convert-to", filt, "--outdir", str(tmp_path), str(src)],
                       check=True, capture_output=True, timeout=180)
        tables = read_tables(tmp_path / f"src.{fmt}")
        assert tables[0].format == fmt
        assert tables[0].columns == HEADER
        _check(tables[0].rows)


def test_an_empty_file_and_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(AddinError) as info:
        read_tables(tmp_path / "e.csv")
    assert info.value.code is ErrorCode.IMPORT_NO_TABLE
    with pytest.raises(AddinError) as info:
        read_tables(tmp_path / "nope.xlsx")
    assert info.value.code is ErrorCode.WORKBOOK_NOT_FOUND


def test_a_crm_workbook_xlsm_reads_below_its_hidden_key_row(tmp_path: Path) -> None:
    """The project's own .xlsm (VBA inside, hidden row 1 of field keys, labels in row 2)."""
    from addin.importing.mapping import suggest_mapping
    from addin.template import build_template
    from schema.dictionary import build_dictionary

    path = tmp_path / "crm.xlsm"
    path.write_bytes(build_template("zh"))
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb["客户"]
    keys = {c.value: c.column for c in ws[1] if c.value}
    ws.cell(row=3, column=keys["name"], value="恒通科技有限公司")
    ws.cell(row=3, column=keys["phone"], value="010-12345678")
    wb.save(path)
    tables = {t.sheet: t for t in read_tables(path)}
    customers = tables["客户"]
    assert customers.format == "xlsm" and customers.header_row == 2
    assert customers.row_numbers == [3]
    mapping = suggest_mapping(customers.columns, build_dictionary(), "customer")
    by_target = {t: c for c, t in mapping.columns.items()}
    row = customers.rows[0]
    assert row[customers.columns.index(by_target["customer.name"])] == "恒通科技有限公司"
    assert row[customers.columns.index(by_target["customer.phone"])] == "010-12345678"
