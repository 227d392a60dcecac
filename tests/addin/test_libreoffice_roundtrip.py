"""A workbook saved by LibreOffice keeps working (issue 16, item 7): LibreOffice cuts every
dropdown to row ~1000 and drops the frozen panes; the next pull or push puts them back over
the template's full range. Pull, save through LibreOffice, edit, push, pull again, checked
cell by cell."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.comments import Comment

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.restore import entity_spec
from addin.safety import package_problems
from addin.template.builder import VALIDATION_LAST_ROW
from schema.dictionary import build_dictionary
from schema.layout import FIRST_DATA_ROW, sheet_layout
from tests.addin.conftest import edit, fill, keys_of, rows, sheet_of
from tests.addin.test_e2e import pull, push, signed_in
from tests.addin.test_notes_survive import notes_by_row, user_notes, write_note
from tests.conftest import LiveBridge

SOFFICE = shutil.which("soffice")
pytestmark = [pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not on PATH"),
              pytest.mark.slow]
USCC = "91350100M000100Y43"


@pytest.fixture(scope="module")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One private LibreOffice profile for the module (the first start is the slow one)."""
    yield f"-env:UserInstallation={(tmp_path_factory.mktemp('lo') / 'profile').as_uri()}"


def libreoffice_save(path: Path, profile: str) -> None:
    """Open ``path`` in LibreOffice and save it back as .xlsm, as a user would."""
    out = path.parent / "lo-out"
    assert SOFFICE is not None
    subprocess.run([SOFFICE, profile, "--headless", "--convert-to", "xlsm", "--outdir",
                    str(out), str(path)], check=True, timeout=180, capture_output=True)
    shutil.move(out / path.name, path)


def dropdowns(path: Path, entity: str) -> dict[str, tuple[str | None, str, str | None]]:
    """Column key -> (type, range, list) of each validation on ``entity``'s sheet."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = {c: k for k, c in keys_of(ws).items()}
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[keys[rng.min_col]] = (dv.type, rng.coord, dv.formula1)
    return out


def expected_dropdowns(path: Path, entity: str) -> dict[str, tuple[str | None, str, str | None]]:
    d = build_dictionary()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    keys = keys_of(sheet_of(wb, entity))
    out = {}
    for c in sheet_layout(d.entity(entity), "zh").columns:
        if c.list_name or c.hint:
            letter = openpyxl.utils.get_column_letter(keys[c.key])
            out[c.key] = ("list" if c.list_name else None,
                          f"{letter}{FIRST_DATA_ROW}:{letter}{VALIDATION_LAST_ROW}", c.list_name)
    return out


def layout_state(path: Path, entity: str) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    return {"freeze": ws.freeze_panes, "key_row_hidden": bool(ws.row_dimensions[1].hidden),
            "hidden_cols": sorted(k for k, c in keys_of(ws).items()
                                  if _col_hidden(ws, c)),
            "hidden_sheets": sorted(w.title for w in wb.worksheets if w.sheet_state != "visible")}


def _col_hidden(ws: Any, col: int) -> bool:
    return any(d.hidden for d in ws.column_dimensions.values()
               if d.min is not None and d.max is not None and d.min <= col <= d.max)


def expected_state(path: Path, entity: str) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    cols = {k: c - 1 for k, c in keys_of(sheet_of(wb, entity)).items()}
    spec = entity_spec(entity, cols, build_dictionary(), "zh")
    assert spec.freeze is not None
    return {"freeze": openpyxl.utils.get_column_letter(spec.freeze[1]) + str(spec.freeze[0]),
            "key_row_hidden": True, "hidden_cols": sorted(["_id", "_version", "_hash"]),
            "hidden_sheets": ["_base", "_lists", "_meta"]}


def test_a_libreoffice_save_loses_nothing_across_pull_edit_push_pull(
        live_bridge_any: LiveBridge, tmp_path: Path, lo_profile: str) -> None:
    lb = live_bridge_any
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    fill(a, "customer", [
        {"name": "甲公司", "industry": "制造业", "region": "华东", "uscc": USCC},
        {"name": "乙公司", "region": "华东", "notes": "第一行\n第二行"},
        {"name": "丙公司", "region": "华东", "website": "www.example.com"}])
    fill(a, "contact", [{"customer": "甲公司", "name": "王经理", "mobile": "13812345678"}])
    assert push(a).ok
    write_note(a, "customer", "乙公司", "name", "老客户，别催")
    assert pull(a).ok
    assert dropdowns(a, "customer") == expected_dropdowns(a, "customer")
    before = {r["name"]: r for r in rows(a, "customer")}

    libreoffice_save(a, lo_profile)
    cut = dropdowns(a, "customer")  # what LibreOffice did (the finding): shown, not relied on
    print("after LibreOffice:", sorted({v[1] for v in cut.values()})[:3],
          layout_state(a, "customer"))

    edit(a, "customer", ("name", "丙公司"), {"address": "上海市浦东新区"})
    fill(a, "customer", [{"name": "丁公司", "region": "华东", "address": "\t杭州市"}])
    res = push(a)
    assert res.ok, res.lines()
    warned = [line for line in res.lines() if "制表符" in line]
    assert len(warned) == 1 and "客户" in warned[0] and "地址" in warned[0], res.lines()
    assert pull(a).ok

    assert dropdowns(a, "customer") == expected_dropdowns(a, "customer")
    assert dropdowns(a, "contact") == expected_dropdowns(a, "contact")
    assert layout_state(a, "customer") == expected_state(a, "customer")
    # LibreOffice drops every note's author (here " "); the note and its place are kept
    assert {k: v[1] for k, v in user_notes(a).items()} == {("乙公司", "name"): "老客户，别催"}
    after = {r["name"]: r for r in rows(a, "customer")}
    before["丙公司"]["address"] = "上海市浦东新区"
    for name, rec in before.items():
        for key in ("name", "industry", "region", "uscc", "notes", "website", "address",
                    "_id"):
            assert after[name][key] == rec[key], (name, key)
    assert after["丁公司"]["_id"] and after["丁公司"]["region"] == "华东"
    assert package_problems(a) == []


def test_marks_after_a_libreoffice_save_come_and_go_without_a_crash(
        tmp_path: Path, lo_profile: str) -> None:
    from tests.addin.conftest import new_workbook

    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司", "industry": "火星"}, {"name": "乙公司"}])
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, "customer")
    ws.cell(row=4, column=keys_of(ws)["name"]).comment = Comment("用户的批注", "张伟")
    wb.save(path)
    assert not commands.validate(OpenpyxlPort.open(path)).ok
    libreoffice_save(path, lo_profile)
    assert package_problems(path) == []
    edit(path, "customer", ("name", "甲公司"), {"industry": "制造业"})
    assert commands.validate(OpenpyxlPort.open(path)).ok  # our note goes, theirs stays
    assert package_problems(path) == []
    libreoffice_save(path, lo_profile)
    edit(path, "customer", ("name", "甲公司"), {"industry": "火星"})
    assert not commands.validate(OpenpyxlPort.open(path)).ok
    assert package_problems(path) == []
    shown = notes_by_row(path)
    assert shown[("乙公司", "name")][1] == "用户的批注"
    assert shown[("甲公司", "industry")][0] == "CRM"
    assert len(shown) == 2
