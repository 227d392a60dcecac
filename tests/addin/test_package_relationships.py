"""The zip package after our marks come and go: every relationship points at a part (issue 16,
item 3: once the add-in had removed its own notes, the next save related a missing
``commentsDrawing1.vml`` and every later mark ended in ``KeyError``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from addin import commands
from addin.port import WorkbookError
from addin.port_openpyxl import OpenpyxlPort
from addin.safety import package_problems, repair_package
from tests.addin.conftest import edit, fill, keys_of, new_workbook, sheet_of


def validate(path: Path) -> commands.CommandResult:
    return commands.validate(OpenpyxlPort.open(path))


def user_save(path: Path) -> None:
    """The user opens the file and saves it (openpyxl, as another program would)."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb.save(path)


def assert_sound(path: Path) -> None:
    problems = package_problems(path)
    assert problems == [], [str(p) for p in problems]


def notes(path: Path, entity: str = "customer") -> dict[str, tuple[str, str]]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    return {c.coordinate: (c.comment.author, c.comment.text) for row in ws.iter_rows()
            for c in row if c.comment is not None}


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_marks_come_and_go_through_saves_without_a_dangling_part(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司", "industry": "火星"}])
    for _ in range(2):  # mark -> fix -> (user save) -> mark again, twice round
        res = validate(path)
        assert not res.ok and any("火星" in line for line in res.lines())
        assert_sound(path)
        assert any(a == "CRM" for a, _ in notes(path).values())
        user_save(path)
        assert_sound(path)
        edit(path, "customer", ("name", "甲公司"), {"industry": "制造业"})
        assert validate(path).ok  # the add-in removes its own note
        assert_sound(path)
        assert notes(path) == {}
        user_save(path)
        assert_sound(path)
        edit(path, "customer", ("name", "甲公司"), {"industry": "火星"})
    res = validate(path)  # was: KeyError 'xl/drawings/commentsDrawing1.vml', exit 1
    assert not res.ok
    assert_sound(path)


def _dangling_book(tmp_path: Path) -> Path:
    """What the old add-in left: a sheet related to a note drawing that is not in the file."""
    path = new_workbook(tmp_path / "old.xlsm")
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, "customer")
    ws["C3"].comment = Comment("old mark", "CRM")
    wb.save(path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    sheet_of(wb, "customer")["C3"].comment = None
    wb.save(path)  # openpyxl relates the drawing but does not write it
    return path


def test_a_file_with_a_dangling_drawing_is_repaired_when_opened(tmp_path: Path) -> None:
    path = _dangling_book(tmp_path)
    found = package_problems(path)
    assert [p.kind for p in found] == ["missing_part"]
    assert found[0].target.endswith("commentsDrawing1.vml")
    port = OpenpyxlPort.open(path)
    assert port.repairs and "commentsDrawing1.vml" in port.repairs[0]
    fill(path, "customer", [{"name": "乙公司", "industry": "火星"}])
    res = validate(path)
    assert not res.ok and any("火星" in line for line in res.lines())
    assert_sound(path)
    assert any(a == "CRM" for a, _ in notes(path).values())


def test_a_user_note_keeps_its_drawing_across_our_saves(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司"}])
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, "customer")
    ws.cell(row=3, column=keys_of(ws)["name"]).comment = Comment("大客户，别催", "张伟")
    wb.save(path)
    for _ in range(3):
        assert validate(path).ok
        user_save(path)
        assert_sound(path)
    assert list(notes(path).values()) == [("张伟", "大客户，别催")]


def test_a_package_that_cannot_be_repaired_is_refused_with_the_part_named(
        tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    del parts["xl/worksheets/sheet2.xml"]  # a whole sheet gone: nothing safe to drop
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, blob in parts.items():
            zf.writestr(name, blob)
    broken = tmp_path / "broken.xlsm"
    broken.write_bytes(out.getvalue())
    with pytest.raises(WorkbookError) as e:
        OpenpyxlPort.open(broken)
    assert e.value.code == "WORKBOOK_INVALID"
    assert "xl/worksheets/sheet2.xml" in e.value.message_en


def test_the_checker_sees_parts_without_a_content_type(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/media/stray.png", b"\x89PNG")
    problems = package_problems(out.getvalue())
    assert [(p.kind, p.part) for p in problems] == [("no_content_type", "xl/media/stray.png")]
    repaired, done = repair_package(out.getvalue())
    assert done and package_problems(repaired) == []
