"""Two-row headers: a merged banner over sub-headers ("联系人" over "姓名 / 手机") and cells
merged down both rows read as combined labels the mapping suggests correctly; files written
at test time by openpyxl and, when it is installed, converted by LibreOffice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from addin.importing.files import read_tables
from addin.importing.mapping import suggest_mapping
from schema.dictionary import build_dictionary

D = build_dictionary()
WANT = {"公司名称": "customer.name", "联系人 姓名": "contact.name",
        "联系人 手机": "contact.mobile", "地址": "customer.address"}


def _book(path: Path, *, title: bool) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    top = 1
    if title:  # a title merged over the whole table stays a title, not a banner
        ws["B1"] = "客户名单（2024）"
        ws.merge_cells("B1:E1")
        top = 2
    ws.cell(top, 2, "公司名称")
    ws.merge_cells(start_row=top, start_column=2, end_row=top + 1, end_column=2)
    ws.cell(top, 3, "联系人")
    ws.merge_cells(start_row=top, start_column=3, end_row=top, end_column=4)
    ws.cell(top + 1, 3, "姓名")
    ws.cell(top + 1, 4, "手机")
    ws.cell(top, 5, "地址")
    ws.merge_cells(start_row=top, start_column=5, end_row=top + 1, end_column=5)
    for i, row in enumerate([("恒通科技有限公司", "张三", "13800138000", "北京"),
                             ("星辰贸易有限公司", "李四", "13900139000", "上海")]):
        for j, v in enumerate(row):
            ws.cell(top + 2 + i, 2 + j, v)
    wb.save(path)
    return path


def _check(path: Path, data_line: int) -> None:
    [t] = read_tables(path)
    assert t.columns == list(WANT)
    assert t.row_numbers == [data_line, data_line + 1]
    assert t.rows[0] == ["恒通科技有限公司", "张三", "13800138000", "北京"]
    assert suggest_mapping(t.columns, D, "customer").columns == WANT


@pytest.mark.parametrize("title", [False, True])
def test_openpyxl_two_row_header(tmp_path: Path, title: bool) -> None:
    _check(_book(tmp_path / "客户.xlsx", title=title), 4 if title else 3)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_libreoffice_two_row_header(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "src").mkdir()
    src = _book(tmp_path / "src" / "客户.xlsx", title=True)
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/prof",
                    "--convert-to", fmt, "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=120)
    _check(out / f"客户.{fmt}", 4)


def test_without_merges_the_lower_row_is_the_header(tmp_path: Path) -> None:
    """A CSV has no merged ranges: its header is one row, as before."""
    path = tmp_path / "客户.csv"
    path.write_text("公司名称,联系人,,地址\n,姓名,手机,\n恒通公司,张三,13800138000,北京\n",
                    encoding="utf-8")
    [t] = read_tables(path)
    assert t.columns[0] == "公司名称"
