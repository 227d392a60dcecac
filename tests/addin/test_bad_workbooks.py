"""Broken, hostile and hand-mangled workbooks: a clear message (sheet, row, field) and
nothing lost."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from addin import commands
from addin.port import WorkbookError
from addin.port_openpyxl import OpenpyxlPort
from addin.safety import Limits, check_workbook_file
from tests.addin.conftest import fill, keys_of, rows, sheet_of
from tests.conftest import LiveBridge


def _validate(path: Path) -> commands.CommandResult:
    return commands.validate(OpenpyxlPort.open(path))


def test_not_a_workbook_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsm"
    path.write_text("just text", encoding="utf-8")
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(path)
    assert e.value.code == "WORKBOOK_INVALID" and "notes.xlsm" in e.value.message_en
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(tmp_path / "missing.xlsm")
    assert e.value.code == "WORKBOOK_NOT_FOUND"


def test_truncated_and_partless_zips(tmp_path: Path, book: Path) -> None:
    cut = tmp_path / "cut.xlsm"
    cut.write_bytes(book.read_bytes()[: book.stat().st_size // 2])
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(cut)
    assert e.value.code == "WORKBOOK_INVALID"
    bare = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(bare, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(bare)
    assert "xl/workbook.xml" in e.value.message_en


def test_zip_bombs_and_size_limits_are_refused_before_opening(tmp_path: Path,
                                                              book: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(io.BytesIO(book.read_bytes())) as src, zipfile.ZipFile(
            bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/media/zeros.bin", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(WorkbookError) as e:
        check_workbook_file(bomb)
    assert e.value.code == "WORKBOOK_TOO_LARGE" and "expands" in e.value.message_en
    for limits in (Limits(max_file_bytes=1000), Limits(max_unpacked_bytes=10_000)):
        with pytest.raises(WorkbookError) as e:
            OpenpyxlPort.open(book, limits=limits)
        assert e.value.code == "WORKBOOK_TOO_LARGE"
    fill(book, "customer", [{"name": f"c{i}"} for i in range(6)])
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(book, limits=Limits(max_rows=5))
    assert e.value.code == "WORKBOOK_TOO_MANY_ROWS"


def test_a_workbook_that_is_not_a_crm_workbook(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookError) as e:
        _validate(path)
    assert e.value.code == "WORKBOOK_NOT_CRM" and "_meta" in e.value.message_en
    assert path.read_bytes() == before


def test_cleared_key_row_stops_with_the_sheet_named_and_touches_nothing(book: Path) -> None:
    fill(book, "customer", [{"name": "甲公司"}])
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = sheet_of(wb, "customer")
    for cell in ws[1]:
        cell.value = None
    for cell in ws[2]:
        cell.value = None
    wb.save(book)
    before = book.read_bytes()
    with pytest.raises(WorkbookError) as e:
        _validate(book)
    assert e.value.code == "SHEET_KEYS_MISSING" and "客户" in e.value.message_zh
    assert book.read_bytes() == before


def test_user_mangling_is_tolerated_and_reported(book: Path) -> None:
    fill(book, "customer", [
        {"name": "甲公司", "phone": "０２１-６２３４５６７８", "company_size": "100-499人"},
        {"name": "乙公司", "industry": "火星"},
        {"name": "丙公司", "website": "jia.com"},
    ])
    fill(book, "opportunity", [{"name": "一期", "customer": "甲公司", "stage": "赢单",
                                "amount": "１２３４.５", "expected_close": "2026年3月31日"}])
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = sheet_of(wb, "customer")
    keys = keys_of(ws)
    ws.cell(row=2, column=keys["name"]).value = "客户全称"  # renamed header: key still maps
    ws.cell(row=1, column=keys["website"]).value = None  # key cleared: the header maps
    ws.move_range(f"{_col(keys['notes'])}1:{_col(keys['notes'])}10", cols=30)  # moved column
    ws.cell(row=2, column=40).value = "我的备注"  # an extra column of the user's own
    ws.cell(row=3, column=40).value = "保留我"
    ws.cell(row=5, column=keys["phone"]).value = "#N/A"
    ws.cell(row=5, column=keys["phone"]).data_type = "e"
    wb.save(book)
    res = _validate(book)
    assert not res.ok
    text = "\n".join(res.lines())
    assert "[客户 4]" in text and "“行业”不接受“火星”" in text
    assert "[客户 5]" in text and "“总机”包含 Excel 错误值 #N/A" in text
    assert "第 40 列“我的备注”不属于模板" in text
    assert res.counts["errors"] == 2 and res.counts["new"] == 4
    got = rows(book, "customer")
    assert got[0]["phone"] == "０２１-６２３４５６７８" and got[2]["website"] == "jia.com"
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = sheet_of(wb, "customer")
    assert ws.cell(row=3, column=40).value == "保留我"  # nothing lost
    assert ws.cell(row=1, column=keys["website"]).value == "website"  # key repaired
    assert ws.cell(row=4, column=keys["industry"]).comment is not None


def test_deleted_id_column_means_new_rows_and_a_warning(book: Path) -> None:
    fill(book, "customer", [{"name": "甲公司", "_id": "3f1c5a1e-0000-4000-8000-000000000001",
                             "_hash": "x", "_version": 1}])
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = sheet_of(wb, "customer")
    ws.delete_cols(keys_of(ws)["_id"])
    wb.save(book)
    res = _validate(book)
    assert res.counts["new"] == 1
    assert any(m.code == "SHEET_ID_COLUMN_MISSING" for m in res.messages)
    wb = openpyxl.load_workbook(book, keep_vba=True)
    assert "_id" in keys_of(sheet_of(wb, "customer"))  # restored at the end


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _row_of(path: Path, name: str) -> int:
    return next(i for i, r in enumerate(rows(path, "customer"), start=3) if r["name"] == name)


def test_clearing_or_deleting_rows_never_deletes_records(live_bridge: LiveBridge,
                                                         tmp_path: Path) -> None:
    from addin.client import BridgeClient
    from tests.addin.fakes import RecordPushes

    token = live_bridge.make_user("alice", "sales", "t1", "east")
    seed = tmp_path / "seed.xlsm"
    OpenpyxlPort.from_bytes(commands.template_bytes("zh"), seed).save()
    fill(seed, "customer", [{"name": f"客户{i:05d}", "region": "华东"} for i in range(4)])
    with BridgeClient(live_bridge.url, token) as client:
        assert commands.push(OpenpyxlPort.open(seed), client).counts["inserted"] == 4
    book = tmp_path / "book.xlsm"
    OpenpyxlPort.from_bytes(commands.template_bytes("zh"), book).save()
    seen = RecordPushes()
    with BridgeClient(live_bridge.url, token, transport=seen) as client:
        assert commands.pull(OpenpyxlPort.open(book), client).counts["added"] == 4
        wb = openpyxl.load_workbook(book, keep_vba=True)
        ws = sheet_of(wb, "customer")
        keys = keys_of(ws)
        ws.delete_rows(_row_of(book, "客户00001"))  # deleted as an Excel row
        wb.save(book)
        cleared = _row_of(book, "客户00002")
        wb = openpyxl.load_workbook(book, keep_vba=True)
        ws = sheet_of(wb, "customer")
        for key, col in keys.items():  # cleared by hand
            if not key.startswith("_"):
                ws.cell(row=cleared, column=col).value = None
        wb.save(book)
        res = _validate(book)
        assert res.ok and res.counts["delete"] == 0 and res.counts["update"] == 0
        assert any(m.code == "ROW_CLEARED" and m.row == cleared for m in res.messages)
        res = commands.push(OpenpyxlPort.open(book), client)
        assert res.ok and seen.sent == []  # nothing sent: no delete, no blanking
        res = commands.pull(OpenpyxlPort.open(book), client)
        assert sum(m.code == "ROW_RESTORED" for m in res.messages) == 2
    with live_bridge.client(token) as c:
        stored = c.get("/pull").json()["entities"]["customer"]["data"]
    assert sorted(stored["name"]) == ["客户00000", "客户00001", "客户00002", "客户00003"]
    assert stored["version"] == [1, 1, 1, 1]
    assert sorted(r["name"] for r in rows(book, "customer")) == [
        "客户00000", "客户00001", "客户00002", "客户00003"]
    assert commands.validate(OpenpyxlPort.open(book)).counts == {
        "new": 0, "update": 0, "delete": 0, "errors": 0, "warnings": 0}
