"""The xlwings port on Linux, over a strict stand-in built from xlwings' own classes: the
commands leave the same cells in it as the openpyxl port leaves in a file, against one live
bridge; anything xlwings lacks (or has only on Windows, like ``.api``) fails here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlwings as xw

from addin import commands
from addin.port import WorkbookPort
from addin.port_openpyxl import OpenpyxlPort
from addin.port_xlwings import XlwingsPort
from schema.layout import META_SHEET, STATUS
from tests.addin import xlwings_standin as standin
from tests.addin.conftest import fill, new_workbook
from tests.conftest import LiveBridge

USCC = "91350100M000100Y43"
PROTOCOL_METHODS = sorted(n for n, v in vars(WorkbookPort).items()
                          if callable(v) and not n.startswith("_"))


@pytest.mark.parametrize("port_class", [OpenpyxlPort, XlwingsPort])
def test_every_port_implements_every_method_of_the_protocol(port_class: type) -> None:
    missing = [m for m in PROTOCOL_METHODS if not callable(getattr(port_class, m, None))]
    assert PROTOCOL_METHODS and not missing


def test_the_standin_refuses_what_xlwings_does_not_have() -> None:
    book = standin.Book()
    sheet = book.sheets.add("Data")
    cell = sheet.range((1, 1))
    with pytest.raises(AttributeError):
        _ = sheet.api  # type: ignore[attr-defined]  # Windows-only COM object
    with pytest.raises(AttributeError):
        _ = book.app.api  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="does not take"):
        cell.add_note(text="x", author="CRM")  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        cell.comment_text = "x"  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match="has no 'set_note'"):
        standin.standin_for(xw.Range)(type("R", (), {"set_note": lambda self: None}))
    with pytest.raises(AssertionError, match="read-only"):
        standin.standin_for(xw.Range)(type("R", (), {"last_cell": property(
            lambda self: None, lambda self, v: None)}))


def test_the_standin_stores_what_excel_stores() -> None:
    sheet = standin.Book().sheets.add("Data")
    sheet.range((1, 1)).value = [["0123", "'0123", "=1+1", 7, "2026-03-31", ""]]
    assert sheet.range((1, 1), (1, 6)).options(ndim=2, err_to_str=True).value == [
        [123.0, "0123", "#NAME?", 7.0, datetime(2026, 3, 31), None]]


def _signed_in_pair(lb: LiveBridge, tmp: Path, token: str) -> tuple[Path, standin.Book]:
    """The same template as a file (openpyxl) and open in "Excel" (the stand-in)."""
    path = new_workbook(tmp / "file.xlsm", "zh")
    book = standin.open_book(new_workbook(tmp / "excel.xlsm", "zh"))
    assert commands.sign_in(OpenpyxlPort.open(path), lb.url, token).ok
    assert commands.sign_in(XlwingsPort(book), lb.url, token).ok
    return path, book


def _run(port: WorkbookPort, token: str, command: str) -> commands.CommandResult:
    with commands.connect(port, token=token) as client:
        result: commands.CommandResult = getattr(commands, command)(port, client)
    port.save()
    return result


def _both(path: Path, book: standin.Book, token: str, command: str) -> None:
    for port in (OpenpyxlPort.open(path), XlwingsPort(book)):
        res = _run(port, token, command)
        assert res.ok, res.lines()


def _file_values(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    return {ws.title: {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
                       if c.value is not None} for ws in wb.worksheets}


def _marks_in_file(path: Path, sheet: str) -> set[tuple[int, int]]:
    ws = openpyxl.load_workbook(path, keep_vba=True)[sheet]
    return {(c.row, c.column) for row in ws.iter_rows() for c in row if c.comment is not None}


def _assert_same_cells(path: Path, book: standin.Book, skip: tuple[str, ...] = ()) -> None:
    """Every sheet holds the same values in both, but the columns keyed ``skip``."""
    in_file = _file_values(path)
    assert [s.name for s in book.sheets] == list(in_file)
    for name, cells in in_file.items():
        in_excel = standin.values(book, name)
        if name == META_SHEET:  # times differ by the clock; a push leaves its own keys
            own = {"audit_head", "last_push"}
            keys = {v for (r, c), v in cells.items() if c == 1} - own
            assert keys == {v for (r, c), v in in_excel.items() if c == 1} - own
            continue
        skipped = {c for (r, c), v in cells.items() if r == 1 and v in skip}
        assert ({rc: v for rc, v in in_excel.items() if rc[1] not in skipped}
                == {rc: v for rc, v in cells.items() if rc[1] not in skipped}), name


def _customer_sheet(book: standin.Book) -> str:
    return next(k[6:] for k, v in XlwingsPort(book).read_meta().items()
                if k.startswith("sheet:") and v == "customer")


def _type_row(path: Path, book: standin.Book, sheet: str, row: dict[str, Any]) -> int:
    """Type the same new row into the file and into Excel; returns its sheet row."""
    (at,) = fill(path, "customer", [row])
    keys = XlwingsPort(book).read_table(sheet)[0]
    for code, value in row.items():
        book.sheets[sheet].range((at, keys.index(code) + 1)).value = value
    return at


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_pull_validate_push_leave_the_same_cells_in_excel_as_in_a_file(
        live_bridge: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge
    token = lb.make_user("wang.fang", "sales", "east-1", "east")
    seed = new_workbook(tmp_path / "seed.xlsm", "zh")
    assert commands.sign_in(OpenpyxlPort.open(seed), lb.url, token).ok
    fill(seed, "customer", [
        {"name": "甲公司", "industry": "制造业", "region": "华东", "uscc": USCC,
         "phone": "021-62345678转123", "website": "https://jia.example.cn"},
        {"name": "=HYPERLINK(\"x\")", "region": "华东", "phone": "13812345678"}])
    fill(seed, "contact", [{"customer": "甲公司", "name": "王经理", "mobile": "13812345678"}])
    assert _run(OpenpyxlPort.open(seed), token, "push").ok

    path, book = _signed_in_pair(lb, tmp_path, token)
    _both(path, book, token, "pull")
    _assert_same_cells(path, book)

    # the same bad cells typed into both: the same cells are marked, with the same notes
    sheet = _customer_sheet(book)
    at = _type_row(path, book, sheet, {"name": "乙公司", "industry": "火星",
                                       "uscc": "91350100M000100Y44"})
    for port in (OpenpyxlPort.open(path), XlwingsPort(book)):
        assert not commands.validate(port).ok
        port.save()
    marked = _marks_in_file(path, sheet)
    assert set(standin.notes(book, sheet)) == marked and len(marked) == 2
    assert set(standin.colours(book, sheet)) == marked

    # fixed in Excel and pushed from there: marks gone, ids and versions written back
    keys = XlwingsPort(book).read_table(sheet)[0]
    book.sheets[sheet].range((at, keys.index("industry") + 1)).value = "制造业"
    book.sheets[sheet].range((at, keys.index("uscc") + 1)).value = None
    res = _run(XlwingsPort(book), token, "push")
    assert res.ok and res.counts.get("inserted") == 1, res.lines()
    assert standin.notes(book, sheet) == {} and standin.colours(book, sheet) == {}

    # the file drops its own unpushed copy and pulls: it now holds what Excel holds
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb[sheet].delete_rows(at)
    wb.save(path)
    assert _run(OpenpyxlPort.open(path), token, "pull").ok
    _assert_same_cells(path, book, skip=(STATUS,))  # Excel's says what it pushed


def test_layouts_are_restored_through_xlwings_own_api(live_bridge: LiveBridge,
                                                      tmp_path: Path) -> None:
    """What another program cut comes back over xlwings as over openpyxl: the same columns
    get list dropdowns over the same rows, the key row is hidden, panes are frozen."""
    token = live_bridge.make_user("li.na", "sales", "east-1", "east")
    path, book = _signed_in_pair(live_bridge, tmp_path, token)
    _both(path, book, token, "pull")
    sheet = _customer_sheet(book)
    hidden_rows, _cols, validations, frozen = standin.layout(book, sheet)
    ws = openpyxl.load_workbook(path, keep_vba=True)[sheet]
    in_file: dict[int, int] = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            for rng in dv.sqref.ranges:
                in_file.update(dict.fromkeys(range(rng.min_col, rng.max_col + 1), rng.max_row))
    assert in_file and {c: last for c, (_first, last, _src) in validations.items()} == in_file
    assert 1 in hidden_rows and frozen is not None
