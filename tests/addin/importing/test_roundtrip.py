"""Property: a random table written as xlsx (openpyxl, XlsxWriter) or as text in several
encodings and delimiters is read back with the same header and the same cells."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
import xlsxwriter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from addin.importing.files import read_tables
from addin.importing.header import fold_label, known_labels
from addin.importing.source import Cell
from schema.synonyms import FIELD_SYNONYMS

LABELS = sorted({s for syns in FIELD_SYNONYMS.values() for s in syns})
# characters every tested encoding (GBK included) can hold; no delimiter, quote or break
ALPHABET = "abcXYZ019 -_.()@#恒通科技有限公司北京上海深圳张伟李娜王芳市区路号（）、·"
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"]

texts = st.text(ALPHABET, min_size=1, max_size=12).map(str.strip).filter(
    lambda t: bool(t) and fold_label(t) not in known_labels() and not t.startswith("="))
# Excel keeps 15 significant digits: amounts with cents, and a few with many decimals
numbers = st.one_of(st.integers(-(10**12), 10**12),
                    st.integers(-(10**11), 10**11).map(lambda i: i / 100).filter(
                        lambda f: not f.is_integer()),
                    st.floats(1e-6, 1e6).map(lambda f: float(f"{f:.12g}")).filter(
                        lambda f: not f.is_integer()))
dates = st.dates(dt.date(1950, 1, 1), dt.date(2090, 12, 31))
stamps = st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2090, 12, 31)).map(
    lambda d: d.replace(microsecond=0))
book_cells = st.one_of(st.none(), texts, numbers, dates, stamps, st.booleans())


@st.composite
def tables(draw: st.DrawFn, cells: st.SearchStrategy[Cell]) -> tuple[list[str], list[list[Cell]]]:
    width = draw(st.integers(2, 6))
    header = draw(st.lists(st.sampled_from(LABELS), min_size=width, max_size=width,
                           unique_by=fold_label))
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width).filter(
        lambda r: any(c is not None for c in r)), min_size=1, max_size=8))
    return header, rows


def _write_openpyxl(path: Path, header: list[str], rows: list[list[Cell]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)


def _write_xlsxwriter(path: Path, header: list[str], rows: list[list[Cell]]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, stamp_fmt)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif v is not None:
                ws.write(r, c, v)
    wb.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(book_cells), st.sampled_from(["openpyxl", "xlsxwriter"]))
def test_xlsx_round_trip(table: tuple[list[str], list[list[Cell]]], writer: str) -> None:
    header, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xlsx"
        (_write_openpyxl if writer == "openpyxl" else _write_xlsxwriter)(path, header, rows)
        [got] = read_tables(path)
    assert got.columns == header
    assert got.header_row == 1
    assert got.row_numbers == [i + 2 for i in range(len(rows))]
    for got_row, want_row in zip(got.rows, rows, strict=True):
        for g, w in zip(got_row, want_row, strict=True):
            if isinstance(w, dt.datetime) and w.time() == dt.time():
                assert g in (w, w.date()), (g, w)  # calamine gives midnight as a date
            elif isinstance(w, dt.datetime):
                assert g == w, (g, w)
            else:
                assert type(g) is type(w) and g == w, (g, w)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(st.one_of(st.none(), texts)), st.sampled_from(ENCODINGS),
       st.sampled_from([",", ";", "\t", "|"]))
def test_text_round_trip(table: tuple[list[str], list[list[Cell]]], encoding: str,
                         delimiter: str) -> None:
    header, rows = table
    assume(len(rows) >= 2 or any(c is not None for c in rows[0]))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if c is None else c for c in row])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(buf.getvalue().encode(encoding))
        [got] = read_tables(path)
    assert got.columns == header
    assert got.delimiter == delimiter
    assert got.rows == [[None if c is None else c for c in row] for row in rows]
