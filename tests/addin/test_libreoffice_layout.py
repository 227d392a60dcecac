"""What another program may cut or drop comes back on the next validate, pull or push
(issue 16, item 7), shown here on a file edited the way LibreOffice leaves it, without
LibreOffice: dropdowns cut to row 1072, frozen panes gone, hidden things shown."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.safety import package_problems
from tests.addin.conftest import fill, keys_of, new_workbook, sheet_of
from tests.addin.test_libreoffice_roundtrip import (
    dropdowns,
    expected_dropdowns,
    expected_state,
    layout_state,
)


def mangle(path: Path) -> None:
    """Cut every validation to row 1072, unfreeze, unhide the key row, ``_id`` and ``_meta``."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            dv.sqref = openpyxl.worksheet.cell_range.MultiCellRange(
                " ".join(f"{r.coord.split(':')[0]}:{openpyxl.utils.get_column_letter(r.min_col)}"
                         f"1072" for r in dv.sqref.ranges))
        ws.freeze_panes = None
    ws = sheet_of(wb, "customer")
    ws.row_dimensions[1].hidden = False
    ws.column_dimensions[openpyxl.utils.get_column_letter(keys_of(ws)["_id"])].hidden = False
    wb["_meta"].sheet_state = "visible"
    wb.save(path)


def test_validate_puts_back_dropdowns_frozen_panes_and_hidden_state(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    fill(path, "customer", [{"name": "甲公司", "region": "华东"}])
    full = {e: dropdowns(path, e) for e in ("customer", "contact", "invoice")}
    mangle(path)
    assert dropdowns(path, "customer") != full["customer"]
    assert layout_state(path, "customer") != expected_state(path, "customer")
    assert commands.validate(OpenpyxlPort.open(path)).ok
    for entity, before in full.items():
        assert dropdowns(path, entity) == before == expected_dropdowns(path, entity)
    assert layout_state(path, "customer") == expected_state(path, "customer")
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb["冲突"].freeze_panes == "A3" and wb["报表参数"].freeze_panes == "A3"
    choice = [dv for dv in wb["冲突"].data_validations.dataValidation]
    assert [(dv.formula1, str(dv.sqref)) for dv in choice] == [
        ("list_conflict_choice", "H3:H50002")]
    assert package_problems(path) == []


def test_restoring_twice_changes_nothing_more(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    assert commands.validate(OpenpyxlPort.open(path)).ok
    once = {e: dropdowns(path, e) for e in ("customer", "payment")}, layout_state(
        path, "customer")
    assert commands.validate(OpenpyxlPort.open(path)).ok
    assert ({e: dropdowns(path, e) for e in ("customer", "payment")},
            layout_state(path, "customer")) == once
