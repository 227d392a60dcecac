"""Every sheet a manager prints has its page set-up from the template (A4 landscape, one
page wide, header row repeated, sheet name and page in the footer, frozen panes), and it
survives the add-in's own writes; data columns widen to their text (names not cut)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.reportbook.printing import MAX_WIDTH, text_width
from tests.addin.conftest import fill, keys_of, new_workbook, sheet_of
from tests.addin.test_libreoffice_reports import page_state

LONG_NAME = "上海浦东新区张江高科技园区启明星辰信息技术股份有限公司"


def test_template_sheets_print_a4_landscape_one_page_wide(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        path = new_workbook(tmp_path / f"crm.{lang}.xlsm", lang)
        state = page_state(path)
        assert len(state) >= 13, state  # instructions, 9 entities, tags, conflicts, settings
        for name, (paper, orient, wide, tall, fit, titles, left, right, frozen) in \
                state.items():
            assert (paper, orient, wide, tall, fit) == (9, "landscape", 1, 0, True), name
            assert titles in ("$1:$1", "$2:$2") and frozen, (name, titles, frozen)
            assert (left, right) == ("&A", "&P / &N"), name


def test_page_set_up_survives_a_validate_and_names_are_not_cut(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "crm.xlsm")
    before = page_state(path)
    fill(path, "customer", [{"name": LONG_NAME, "region": "华东"}])
    assert commands.validate(OpenpyxlPort.open(path)).ok
    assert page_state(path) == before
    ws = sheet_of(openpyxl.load_workbook(path, keep_vba=True), "customer")
    letter = openpyxl.utils.get_column_letter(keys_of(ws)["name"])
    assert ws.column_dimensions[letter].width >= min(text_width(LONG_NAME), MAX_WIDTH)
    hidden = openpyxl.utils.get_column_letter(keys_of(ws)["_id"])
    assert ws.column_dimensions[hidden].hidden
