"""Users' cell notes survive the add-in's marks, pull, push and upgrade (issue 16, item 4:
``crm-sheet upgrade`` kept 2 notes of 2 before... 0 after, and dropped the ``marks:``)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment

from addin import commands
from addin.port import MARK_SEPARATOR, user_part
from addin.port_openpyxl import OpenpyxlPort
from addin.safety import package_problems
from tests.addin.conftest import edit, fill, keys_of, new_workbook, sheet_of, table
from tests.addin.test_e2e import pull, push, signed_in
from tests.conftest import LiveBridge

Notes = dict[tuple[str, str], tuple[str, str]]  # (name of the row, key) -> (author, text)


def write_note(path: Path, entity: str, name: str, key: str, text: str,
               author: str = "张伟") -> None:
    """The user right-clicks a cell of the row showing ``name`` and types a note."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = keys_of(ws)
    row = next(r for r in range(3, ws.max_row + 1)
               if ws.cell(row=r, column=keys["name"]).value == name)
    ws.cell(row=row, column=keys[key]).comment = Comment(text, author)
    wb.save(path)


def notes_by_row(path: Path, entity: str = "customer") -> Notes:
    """Every note, placed by the name on its row and the key of its column."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = {c: k for k, c in keys_of(ws).items()}
    name_col = keys_of(ws)["name"]
    out: Notes = {}
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if c.comment is not None:
                who = ws.cell(row=c.row, column=name_col).value
                key = keys.get(c.column or 0, ws.cell(row=2, column=c.column or 0).value)
                out[(str(who), str(key))] = (c.comment.author, c.comment.text)
    return out


def user_notes(path: Path, entity: str = "customer") -> Notes:
    """The users' notes, their text without any mark of ours below it."""
    out = {}
    for k, (author, text) in notes_by_row(path, entity).items():
        user = user_part(text, author == "CRM")
        if user is not None:
            out[k] = (author, user)
    return out


def validate(path: Path) -> commands.CommandResult:
    return commands.validate(OpenpyxlPort.open(path))


def test_a_mark_on_a_noted_cell_keeps_the_note_and_gives_it_back(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司", "industry": "火星"}, {"name": "乙公司"}])
    write_note(path, "customer", "甲公司", "industry", "客户自己说是火星产业")
    write_note(path, "customer", "乙公司", "name", "老客户", "李娜")
    before = user_notes(path)
    assert len(before) == 2
    assert not validate(path).ok
    shown = notes_by_row(path)
    author, text = shown[("甲公司", "industry")]
    assert shown[("乙公司", "name")] == ("李娜", "老客户")
    assert author == "张伟" and text.startswith("客户自己说是火星产业\n\n" + MARK_SEPARATOR)
    assert "火星" in text.split(MARK_SEPARATOR)[1]
    assert shown[("乙公司", "name")] == ("李娜", "老客户")
    edit(path, "customer", ("name", "甲公司"), {"industry": "制造业"})
    assert validate(path).ok
    assert notes_by_row(path) == before  # our part gone, the user's note as it was
    assert package_problems(path) == []


def test_upgrade_keeps_every_note_and_the_marks(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司", "industry": "火星"}, {"name": "乙公司"}])
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, "customer")
    ws.cell(row=2, column=40).value = "我的列"  # a column of the user's own, with a note
    ws.cell(row=3, column=40).value = "自有数据"
    ws.cell(row=3, column=40).comment = Comment("我自己的列", "张伟")
    wb.save(path)
    write_note(path, "customer", "乙公司", "name", "老客户", "李娜")
    assert not validate(path).ok
    before_notes = notes_by_row(path)
    old_meta = dict(table(path, "_meta"))
    old_marks = {k: v for k, v in old_meta.items() if str(k).startswith("marks:")}
    assert old_marks
    out = tmp_path / "upgraded.xlsm"
    res = commands.upgrade(OpenpyxlPort.open(path),
                           OpenpyxlPort.from_bytes(commands.template_bytes("zh"), out))
    assert res.counts["notes"] == 2
    assert notes_by_row(out) == before_notes  # users' notes and our mark, by row and column
    new_meta = dict(table(out, "_meta"))
    assert {k: v for k, v in new_meta.items() if str(k).startswith("marks:")} == old_marks
    assert package_problems(out) == []
    edit(out, "customer", ("name", "甲公司"), {"industry": "制造业"})
    assert validate(out).ok  # the carried mark is ours: it is cleared like any other
    assert {k: v for k, v in notes_by_row(out).items()} == {
        k: v for k, v in before_notes.items() if v[0] != "CRM"}


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_notes_stay_on_their_rows_through_push_and_pull(live_bridge_any: LiveBridge,
                                                        tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    b = signed_in(tmp_path, "b", lb, lb.make_user("bob", "sales", "t1", "east"))
    fill(a, "customer", [{"name": "甲公司", "region": "华东"},
                         {"name": "乙公司", "region": "华东", "industry": "火星"}])
    write_note(a, "customer", "甲公司", "name", "重点客户")
    write_note(a, "customer", "乙公司", "industry", "待确认")
    assert not push(a).ok  # 乙公司 is marked (or held back): its note is kept under the mark
    edit(a, "customer", ("name", "乙公司"), {"industry": "制造业"})
    assert push(a).ok
    assert user_notes(a) == {("甲公司", "name"): ("张伟", "重点客户"),
                             ("乙公司", "industry"): ("张伟", "待确认")}
    assert pull(a).ok and pull(b).ok
    edit(a, "customer", ("name", "甲公司"), {"notes": "本地修改"})
    assert pull(a, full=True).ok
    assert user_notes(a) == {("甲公司", "name"): ("张伟", "重点客户"),
                             ("乙公司", "industry"): ("张伟", "待确认")}
    assert package_problems(a) == [] and package_problems(b) == []


def test_notes_move_with_their_rows_when_rows_above_go(live_bridge_any: LiveBridge,
                                                      tmp_path: Path) -> None:
    lb = live_bridge_any
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    b = signed_in(tmp_path, "b", lb, lb.make_user("bob", "manager", None, "east"))
    fill(a, "customer", [{"name": n, "region": "华东"} for n in ("甲公司", "乙公司", "丙公司")])
    assert push(a).ok
    write_note(a, "customer", "乙公司", "name", "乙的批注")
    write_note(a, "customer", "丙公司", "address", "丙的批注", "李娜")
    assert pull(b).ok
    edit(b, "customer", ("name", "甲公司"), {"_change": "删除"})
    assert push(b).ok
    res = pull(a)  # 甲公司 leaves the sheet: the rows below move up, their notes with them
    assert res.counts["removed"] == 1, res.lines()
    assert user_notes(a) == {("乙公司", "name"): ("张伟", "乙的批注"),
                             ("丙公司", "address"): ("李娜", "丙的批注")}
    assert package_problems(a) == []
