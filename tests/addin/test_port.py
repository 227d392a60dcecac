"""The file port on real files: round trips, text that looks like a formula, merged cells,
lying dimensions, marks and lists."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.port import CellMark, mark_part
from addin.port_openpyxl import OpenpyxlPort
from addin.sheets import to_cell
from schema.dictionary import build_dictionary
from schema.layout import FIRST_DATA_ROW
from schema.limits import unstorable_char
from schema.types import FieldType
from schema.values import parse_value
from tests.addin.conftest import template

CUSTOMER = "客户"
DICT = build_dictionary()

text_values = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
cell_values = st.one_of(
    st.none(), text_values, st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(min_value=-1e300, max_value=1e300, allow_nan=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)).map(
        lambda d: d.replace(microsecond=0)),
)


def _small_book() -> bytes:
    """A minimal two-sheet workbook: fast enough for many property examples."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = CUSTOMER
    for c, key in enumerate(["name", "notes", "phone"], start=1):
        ws.cell(row=1, column=c).value = key
    wb.create_sheet("_meta").append(["key", "value"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


SMALL = _small_book()


def _roundtrip(tmp: Path, grid: list[list[Any]]) -> pd.DataFrame:
    path = tmp / "rt.xlsx"
    port = OpenpyxlPort.from_bytes(SMALL, path)
    keys, _ = port.read_table(CUSTOMER)
    port.write_table(CUSTOMER, keys, pd.DataFrame(grid, dtype=object), FIRST_DATA_ROW)
    port.save()
    return OpenpyxlPort.open(path).read_table(CUSTOMER)[1]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell_values, min_size=3, max_size=3), min_size=1, max_size=6))
def test_any_cell_value_survives_a_file(tmp_path: Path, grid: list[list[Any]]) -> None:
    frame = _roundtrip(tmp_path, grid)
    last_filled = max((i for i, r in enumerate(grid) if any(v is not None for v in r)),
                      default=-1)
    for i, row in enumerate(grid[: last_filled + 1]):
        got = frame.loc[FIRST_DATA_ROW + i, [0, 1, 2]].tolist()
        for want, have in zip(row, got, strict=True):
            if isinstance(want, float):
                assert have == want or abs(have - want) <= abs(want) * 1e-15
            else:
                assert have == want and type(have) is type(want), (want, have)


canonical = {
    FieldType.TEXT: text_values.map(str.strip).filter(  # what the store can hold
        lambda s: bool(s) and unstorable_char(s) is None),
    FieldType.INTEGER: st.integers(min_value=-(10**14), max_value=10**14),
    FieldType.MONEY: st.integers(min_value=0, max_value=10**13).map(lambda c: c / 100),
    FieldType.DATE: st.dates(min_value=date(1900, 3, 1)).map(date.isoformat),
    FieldType.DATETIME: st.datetimes(min_value=datetime(1900, 3, 1)).map(
        lambda d: d.replace(microsecond=0).isoformat() + "+08:00"),
    FieldType.BOOLEAN: st.booleans(),
}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_canonical_values_come_back_canonical(tmp_path: Path, data: st.DataObject) -> None:
    """canonical -> cell (labels, dates) -> file -> cell -> parse == canonical."""
    fields = [f for e in DICT for f in e.fields if f.type in canonical or f.enum is not None]
    picked = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=5))
    values = []
    for f in picked:
        if f.type is FieldType.ENUM and f.enum is not None:
            values.append(data.draw(st.sampled_from(f.enum.codes())))
        elif f.type is FieldType.MULTI_ENUM and f.enum is not None:
            codes = data.draw(st.sets(st.sampled_from(f.enum.codes()), min_size=1))
            values.append(";".join(c for c in f.enum.codes() if c in codes))
        elif f.type in (FieldType.INTEGER, FieldType.MONEY):
            lo = int(f.min_value) if f.min_value is not None else -(10**12)
            hi = int(f.max_value) if f.max_value is not None else 10**12
            cents = data.draw(st.integers(min_value=lo * 100, max_value=hi * 100))
            values.append(cents // 100 if f.type is FieldType.INTEGER else cents / 100)
        else:
            values.append(data.draw(canonical[f.type]))
    lang = data.draw(st.sampled_from(["zh", "en"]))
    frame = _roundtrip(tmp_path, [[to_cell(v, f, lang) for v, f in zip(values, picked,
                                                                      strict=True)]])
    back = [parse_value(v, f) for v, f in zip(frame.loc[FIRST_DATA_ROW, range(len(picked))],
                                             picked, strict=True)]
    assert back == values


def test_formula_like_text_is_stored_as_text(tmp_path: Path) -> None:
    nasty = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"]
    _roundtrip(tmp_path, [[v] for v in nasty])
    with zipfile.ZipFile(tmp_path / "rt.xlsx") as zf:
        sheet = "xl/worksheets/sheet1.xml"
        xml = zf.read(sheet).decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml  # not one formula in the file
    wb = openpyxl.load_workbook(tmp_path / "rt.xlsx")
    cells = [wb[CUSTOMER].cell(row=FIRST_DATA_ROW + i, column=1) for i in range(len(nasty))]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert OpenpyxlPort.open(tmp_path / "rt.xlsx").read_table(CUSTOMER)[1][0].tolist()[
        1:] == nasty


def test_declared_dimension_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "dim.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "s"
    for r in range(1, 6):
        ws.cell(row=r, column=1).value = f"v{r}"
    wb.create_sheet("_meta")
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"',
                          parts[sheet])
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    keys, frame = OpenpyxlPort.open(path).read_table("s")
    assert keys == ["v1"] and frame.index.tolist() == [2, 3, 4, 5]


def test_merged_cells_show_their_value_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsm"
    OpenpyxlPort.from_bytes(template(), path).save()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb[CUSTOMER]
    ws["C3"] = "同一家"
    ws.merge_cells("C3:C5")
    wb.save(path)
    frame = OpenpyxlPort.open(path).read_table(CUSTOMER)[1]
    assert frame.loc[[3, 4, 5], 2].tolist() == ["同一家"] * 3


def test_marks_replace_old_marks_and_lists_move_their_name(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsm"
    port = OpenpyxlPort.from_bytes(template(), path)
    port.mark_cells(CUSTOMER, [CellMark(3, 3, "error", "坏"), CellMark(3, 3, "warning", "再")])
    port.mark_cells(CUSTOMER, [CellMark(4, 5, "conflict", "冲突")])
    port.write_list("ref_customer", ["甲", "乙", "丙"])
    port.write_meta({"cursor": "9", "server_url": None})
    port.save()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb[CUSTOMER]
    assert ws["C3"].comment is None and ws["C3"].fill.fill_type is None
    assert mark_part(ws["E4"].comment.text) == "冲突"
    assert ws["E4"].fill.fgColor.rgb.endswith("FFEB9C")
    ref = wb.defined_names["ref_customer"].attr_text
    col = ref.split("!")[1].split("$")[1]
    assert ref.endswith("$4") and [wb["_lists"][f"{col}{r}"].value for r in (2, 3, 4)] == [
        "甲", "乙", "丙"]
    meta = OpenpyxlPort.open(path).read_meta()
    assert meta["cursor"] == "9" and "server_url" not in meta
    with zipfile.ZipFile(path) as zf:  # macros and the ribbon survive a save
        assert {"xl/vbaProject.bin", "customUI/customUI.xml"} <= set(zf.namelist())


def test_write_table_clears_rows_below(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsm"
    port = OpenpyxlPort.from_bytes(template(), path)
    keys, _ = port.read_table(CUSTOMER)
    port.write_table(CUSTOMER, keys, pd.DataFrame([["a"], ["b"], ["c"]]), FIRST_DATA_ROW)
    port.write_table(CUSTOMER, keys, pd.DataFrame([["x"]]), FIRST_DATA_ROW)
    port.save()
    frame = OpenpyxlPort.open(path).read_table(CUSTOMER)[1]
    assert frame.index.tolist() == [2, 3] and frame.loc[3, 0] == "x"


def test_save_keeps_the_files_permissions(tmp_path: Path) -> None:
    import os
    import shutil
    import stat

    from addin.port_openpyxl import OpenpyxlPort

    path = tmp_path / "book.xlsm"
    shutil.copy(Path(__file__).resolve().parents[2] / "templates" / "crm_workbook.xlsm", path)
    os.chmod(path, 0o640)
    port = OpenpyxlPort.open(path)
    port.write_meta({"cursor": "7"})
    port.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
