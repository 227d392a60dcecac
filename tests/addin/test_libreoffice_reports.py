"""A workbook refreshed, saved by LibreOffice and refreshed again keeps its page set-up,
frozen panes and dropdowns (issue 13, Must show): LibreOffice drops every frozen pane; the
next refresh puts them back, on data sheets, report sheets and their dated copies alike."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin.cli import app
from tests.addin.test_libreoffice_roundtrip import (
    dropdowns,
    expected_dropdowns,
    libreoffice_save,
    lo_profile,
)
from tests.reports.test_refresh_cli import demo_book, runner

SOFFICE = shutil.which("soffice")
pytestmark = [pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not on PATH"),
              pytest.mark.slow]
__all__ = ["demo_book", "lo_profile"]  # fixtures used here


def page_state(path: Path) -> dict[str, tuple[Any, ...]]:
    """Per visible sheet: paper, orientation, fit wide/tall, print titles, footer, frozen."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {}
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        ps = ws.page_setup
        out[ws.title] = (ps.paperSize, ps.orientation, ps.fitToWidth or 1, ps.fitToHeight,
                         ws.sheet_properties.pageSetUpPr.fitToPage, ws.print_title_rows,
                         ws.oddFooter.left.text, ws.oddFooter.right.text, ws.freeze_panes)
    return out


def settings_dropdowns(path: Path) -> list[tuple[str, str | None, str | None, str | None]]:
    ws = openpyxl.load_workbook(path, keep_vba=True)["报表参数"]
    return sorted((str(dv.sqref), dv.type, dv.formula1, dv.errorStyle or "stop")
                  for dv in ws.data_validations.dataValidation)


def test_refresh_libreoffice_refresh_keeps_page_setup_panes_and_dropdowns(
        demo_book: tuple[Path, str], lo_profile: str) -> None:
    path, token = demo_book
    for extra in ([], ["--snapshot"]):  # the second keeps a dated copy
        res = runner.invoke(app, ["refresh", str(path), "--token", token, *extra])
        assert res.exit_code == 0, res.output
    before = page_state(path)
    settings = settings_dropdowns(path)
    customer = dropdowns(path, "customer")
    assert customer == expected_dropdowns(path, "customer")
    assert len(before) >= 17 and all(s[0] == 9 and s[1] == "landscape" and s[8]
                                     for s in before.values()), before
    assert any(" 20" in name for name in before)  # a dated copy
    libreoffice_save(path, lo_profile)
    lost = page_state(path)
    assert all(s[8] is None for s in lost.values())  # LibreOffice dropped every frozen pane
    res = runner.invoke(app, ["refresh", str(path), "--token", token])
    assert res.exit_code == 0, res.output
    assert page_state(path) == before
    assert settings_dropdowns(path) == settings
    assert dropdowns(path, "customer") == customer
