"""What a host sends for an openpyxl workbook, and the actions that rebuild a sheet: values
as Office.js gives them, reads through the payload port equal to the file port's, a report
sheet rebuilt cell for cell; every port implements every method of the protocol."""

from __future__ import annotations

import io
import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin.payload.actions import OPS
from addin.payload.from_openpyxl import sheet_actions, snapshot_of
from addin.payload.replay_openpyxl import ReplayError, replay
from addin.port import WorkbookPort
from addin.port_openpyxl import OpenpyxlPort
from addin.port_payload import PayloadPort
from addin.port_xlwings import XlwingsPort
from addin.reportbook import build_report_sheets
from bridge.db import connect, create_schema
from bridge.reports.funnel import funnel
from bridge.reports.kpis import kpis
from bridge.reports.params import make_params
from bridge.reports.rfm import rfm
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from tests.addin.conftest import template
from tests.payload.hosts import payload_port
from tests.reports.conftest import REPORTS_ADMIN
from tests.reports.fixtures import seed_funnel, seed_sales

PROTOCOL_METHODS = sorted(n for n, v in vars(WorkbookPort).items()
                          if callable(v) and not n.startswith("_"))


@pytest.mark.parametrize("port_class", [OpenpyxlPort, XlwingsPort, PayloadPort])
def test_every_port_implements_every_method_of_the_protocol(port_class: type) -> None:
    missing = [m for m in PROTOCOL_METHODS if not callable(getattr(port_class, m, None))]
    assert PROTOCOL_METHODS and not missing


def _sheet(tmp: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["key", "when", "n", "text", "flag", "f"])
    ws.append(["a", datetime(2026, 3, 31, 10, 30), 5, "0123", True, "=1+1"])
    ws["F2"].data_type = "f"
    ws["D3"] = "=not a formula"
    ws["D3"].data_type = "s"
    ws["B4"] = 46112
    ws["B4"].number_format = "yyyy-mm-dd"
    ws["C5"] = "#N/A"
    ws["C5"].data_type = "e"
    ws.freeze_panes = "B2"
    path = tmp / "s.xlsx"
    wb.save(path)
    return path


def test_the_snapshot_holds_values_as_office_js_gives_them(tmp_path: Path) -> None:
    info, blocks, _notes = snapshot_of(openpyxl.load_workbook(_sheet(tmp_path)))
    assert info.sheets[0].freeze == (2, 2) and info.sheets[0].rows == 5
    (block,) = blocks
    assert block.values[1] == ["a", 46112.4375, 5, "0123", True, ""]  # no cached result
    assert block.values[2][3] == "=not a formula" and block.values[4][2] == "#N/A"
    assert block.values[0][5] == "f" and block.values[3][0] == ""
    assert [r.model_dump() for r in block.formats[1]] == [
        {"format": "yyyy-mm-dd h:mm:ss", "start": 1, "count": 1},
        {"format": "yyyy-mm-dd", "start": 3, "count": 1}]


def test_reads_over_the_payload_equal_reads_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsm"
    path.write_bytes(template("en"))
    file, payload = OpenpyxlPort.open(path), payload_port(path, rows_per_block=3)
    assert payload.sheet_names() == file.sheet_names()
    for sheet in file.sheet_names():
        keys, frame = file.read_table(sheet)
        got_keys, got = payload.read_table(sheet)
        # an empty string stored in a cell shows as an empty cell in Excel (and Office.js)
        want = [[None if v == "" else v for v in row] for row in frame.values.tolist()]
        assert got_keys == keys and list(got.index) == list(frame.index), sheet
        assert got.values.tolist() == want, sheet
    assert payload.read_meta() == file.read_meta()
    small = _sheet(tmp_path)
    keys, frame = OpenpyxlPort.open(small).read_table("Data")
    assert payload_port(small).read_table("Data")[1].equals(frame)


def _cells(ws: Any) -> dict[tuple[int, int], Any]:
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
            if c.value is not None}


def test_sheet_actions_rebuild_a_report_sheet(tmp_path: Path) -> None:
    funnel_rep, rfm_rep, kpis_rep = _reports()
    wb = openpyxl.Workbook()
    built = build_report_sheets(wb, funnel_rep, rfm_rep, kpis_rep, "zh")
    other = openpyxl.Workbook()
    for ws in built:
        replay(other, [{"op": "add_sheet", "sheet": ws.title, "before": None, "after": None},
                       *sheet_actions(ws)])
    buf = io.BytesIO()
    other.save(buf)
    back = openpyxl.load_workbook(buf)
    for ws in built:
        copy = back[ws.title]
        assert _cells(copy) == _cells(ws)
        assert len(copy._charts) == len(ws._charts)
        assert copy.freeze_panes == ws.freeze_panes
        assert {str(m) for m in copy.merged_cells.ranges} == {
            str(m) for m in ws.merged_cells.ranges}
        assert {(r, c): copy.cell(r, c).number_format for (r, c) in _cells(ws)} == {
            (r, c): ws.cell(r, c).number_format for (r, c) in _cells(ws)}


def _reports() -> tuple[dict[str, Any], ...]:
    """The three reports over the hand-made fixtures, as JSON (as the bridge sends them)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = build_dictionary()
        db = connect(Settings(database_url=f"sqlite:///{tmp}/r.db"), d)
        create_schema(db)
        seed_funnel(db)
        seed_sales(db)
        out = (funnel(db, d, REPORTS_ADMIN, make_params("2026-03-31")),
               rfm(db, d, REPORTS_ADMIN, make_params("2026-03-31", window_days=90)),
               kpis(db, d, REPORTS_ADMIN, make_params("2026-03-31", "2026-01-01",
                                                      "2026-03-31")))
        db.engine.dispose()
    return tuple(json.loads(json.dumps(r, default=str)) for r in out)


def test_the_reference_host_names_the_action_it_cannot_apply() -> None:
    wb = openpyxl.Workbook()
    with pytest.raises(ReplayError, match=r"action 1 \(set_values\)"):
        replay(wb, [{"op": "add_sheet", "sheet": "A", "before": None, "after": None},
                    {"op": "set_values", "sheet": "missing", "row": 1, "col": 1,
                     "values": [[1]]}])
    with pytest.raises(ReplayError, match="unknown op"):
        replay(wb, [{"op": "run_macro"}])
    assert "run_macro" not in OPS
