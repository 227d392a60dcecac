"""Hostile and broken files, built at test time, are refused with a precise code BEFORE a
library parses them, and never take over 1 GiB or hang: every read runs in a child with
an address-space limit and a timeout (tests/addin/importing/sandbox.py)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from addin.importing.biff12 import xlsb_extent
from addin.importing.extent import SheetExtent, xlsx_extent, xlsx_extent_by_position
from addin.safety import DEFAULT_LIMITS, member_problem
from tests.addin.importing.sandbox import read_in_sandbox

SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode()
                     for i in range(1, 10)).replace(b"&lol0;", b"&lol;") + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _base(path: Path, rows: int = 3, cols: int = 3) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([f"列名{c}" for c in range(cols)])
    for r in range(rows):
        ws.append([f"v{r}-{c}" for c in range(cols)])
    wb.save(path)
    return path


def _repack(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None],
            extra: dict[str, bytes] | None = None) -> Path:
    """``src`` with each member passed through ``edit`` (None drops it), plus ``extra``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def _sheet_edit(fn: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda name, data: fn(data) if name == SHEET else data


def _with_prolog(prolog: bytes) -> Callable[[bytes], bytes]:
    return lambda data: prolog + re.sub(rb"^<\?xml[^>]*\?>", b"", data)


def _ods(path: Path, content: bytes, manifest_extra: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml",
                    b'<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                    b'"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                    + manifest_extra + b"</manifest:manifest>")
        zf.writestr("content.xml", content)
    return path


ODS_HEAD = (b'<?xml version="1.0"?><office:document-content '
            b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            b'<office:body><office:spreadsheet><table:table table:name="S">')
ODS_TAIL = b"</table:table></office:spreadsheet></office:body></office:document-content>"


XLSB = Path(__file__).resolve().parents[2] / "data" / "import_corpus" / "calamine" / "issues.xlsb"
XLSB_SHEET = "xl/worksheets/sheet1.bin"
END_SHEET_DATA = 146


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([byte])
        out += bytes([byte | 0x80])


def _record(kind: int, data: bytes) -> bytes:
    return _varint(kind) + _varint(len(data)) + data


def _far_xlsb(path: Path) -> Path:
    """calamine's issues.xlsb with a number at XFD1048576 (a row header and a BrtCellReal
    before BrtEndSheetData): calamine itself would abort the process on it."""
    far = (_record(0, struct.pack("<I", 1048575) + bytes(21))
           + _record(5, struct.pack("<I", 16383) + bytes(4) + struct.pack("<d", 1.5)))
    end = _varint(END_SHEET_DATA) + b"\x00"

    def edit(name: str, data: bytes) -> bytes:
        if name != XLSB_SHEET:
            return data
        assert data.count(end) == 1
        return data.replace(end, far + end)

    return _repack(XLSB, path, edit)


def test_xlsb_extent_across_chunks(tmp_path: Path) -> None:
    with zipfile.ZipFile(_far_xlsb(tmp_path / "f.xlsb")) as zf:
        data = zf.read(XLSB_SHEET)
    whole = xlsb_extent([data])
    assert (whole.rows, whole.cols) == (1048576, 16384) and whole.cells > 1
    for size in (1, 2, 3, 7, 64):
        assert xlsb_extent([data[i:i + size] for i in range(0, len(data), size)]) == whole


def _declare_size(src: Path, dst: Path, member: str, size: int) -> Path:
    """``src`` with ``member``'s uncompressed size set to ``size`` in its local header and
    in the central directory (the bytes stay as they are): a zip that lies."""
    data = bytearray(src.read_bytes())
    name = member.encode()
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        while pos != -1:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[pos + at:pos + at + 4] = struct.pack("<I", size)
            pos = data.find(sig, pos + 4)
    dst.write_bytes(bytes(data))
    return dst


def _build(tmp: Path) -> dict[str, tuple[Path, str, int]]:
    """name -> (file, expected code or "read", max_cells for the read, 0 = default)."""
    base = _base(tmp / "base.xlsx")
    big = _base(tmp / "big.xlsx", rows=50, cols=10)
    cases: dict[str, tuple[Path, str, int]] = {}

    def add(name: str, path: Path, code: str, max_cells: int = 0) -> None:
        cases[name] = (path, code, max_cells)

    add("zip bomb", _repack(base, tmp / "bomb.xlsx", lambda n, d: d,
                            {"xl/media/pad.bin": b"\0" * (20 * 1024 * 1024)}), "IMPORT_FILE_UNSAFE")
    laughs = _repack(base, tmp / "laughs.xlsx", _sheet_edit(_with_prolog(LAUGHS)))
    add("billion laughs in a sheet", laughs, "IMPORT_FILE_UNSAFE")
    add("external entity in the content types", _repack(
        base, tmp / "xxe.xlsx",
        lambda n, d: _with_prolog(XXE)(d) if n == "[Content_Types].xml" else d),
        "IMPORT_FILE_UNSAFE")
    for label, member in (("dot-dot slash", "../../evil.xml"),
                          ("dot-dot backslash", "..\\..\\evil.xml"),
                          ("absolute", "/etc/evil.xml"), ("drive letter", "C:evil.xml")):
        add(f"member name {label}", _repack(base, tmp / f"name-{len(cases)}.xlsx",
                                            lambda n, d: d, {member: b"<x/>"}),
            "IMPORT_FILE_UNSAFE")
    add("lying dimension", _repack(base, tmp / "dimension.xlsx", _sheet_edit(
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d))),
        "read")
    add("a lone cell at XFD1048576", _repack(base, tmp / "sparse.xlsx", _sheet_edit(
        lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" '
                            b't="inlineStr"><is><t>x</t></is></c></row></sheetData>'))),
        "IMPORT_TOO_MANY_CELLS")
    for label, tag in (("prefixed", b'<x:c r="XFD1048576" t="inlineStr" '
                                     b'xmlns:x="http://schemas.openxmlformats.org/'
                                     b'spreadsheetml/2006/main"><x:is><x:t>x</x:t></x:is></x:c>'),
                       ("reference last",
                        b'<c t="inlineStr" r="XFD1048576"><is><t>x</t></is></c>')):
        add(f"a far cell, {label}", _repack(base, tmp / f"far-{len(cases)}.xlsx", _sheet_edit(
            lambda d, tag=tag: d.replace(b"</sheetData>",
                                         b'<row r="1048576">' + tag + b"</row></sheetData>"))),
            "IMPORT_TOO_MANY_CELLS")
    padded = _repack(base, tmp / "padded.xlsx", _sheet_edit(
        lambda d: d.replace(b"</sheetData>", b"</sheetData>" + b" " * (8 * 1024 * 1024))))
    add("a sheet that declares 2 KiB and holds 8 MiB",
        _declare_size(padded, tmp / "lying.xlsx", SHEET, 2048), "IMPORT_FILE_UNSAFE")
    add("an xlsb with a far cell", _far_xlsb(tmp / "far.xlsb"), "IMPORT_TOO_MANY_CELLS")
    add("an xlsb as it is", XLSB, "read")
    add("too many cells", big, "IMPORT_TOO_MANY_CELLS", 100)
    add("as many cells as allowed", big, "read", 510)
    two = openpyxl.Workbook()
    for title in ("一月", "二月"):
        ws = two.create_sheet(title)
        ws.append([f"列名{c}" for c in range(10)])
        for r in range(29):
            ws.append([f"v{r}-{c}" for c in range(10)])
    del two["Sheet"]
    two.save(tmp / "two.xlsx")
    add("too many cells over two sheets", tmp / "two.xlsx", "IMPORT_TOO_MANY_CELLS", 500)
    add("two sheets within the limit", tmp / "two.xlsx", "read", 600)
    csv = tmp / "many.csv"
    csv.write_text("\n".join(",".join(f"c{r}{c}" for c in range(10)) for r in range(51)))
    add("too many cells in a csv", csv, "IMPORT_TOO_MANY_CELLS", 100)
    add("corrupt sheet XML", _repack(base, tmp / "corrupt.xlsx", _sheet_edit(
        lambda d: d.replace(b"</sheetData>", b"<row><c><v>1</sheetData>"))),
        "IMPORT_FILE_UNREADABLE")
    cut = tmp / "cut.xlsx"
    cut.write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    add("a download cut short", cut, "IMPORT_FILE_UNREADABLE")
    ole = tmp / "junk.xls"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20)
    add("OLE magic and junk", ole, "IMPORT_FILE_UNREADABLE")
    junk = tmp / "junk.xlsx"
    junk.write_bytes(bytes(range(256)) * 40)
    add("binary junk", junk, "IMPORT_FILE_UNREADABLE")
    html = tmp / "export.xls"
    html.write_text("<html><body><table><tr><td>公司名称</td></tr></table></body></html>",
                    encoding="utf-8")
    add("a web page named .xls", html, "IMPORT_FILE_UNREADABLE")
    field = tmp / "field.csv"
    field.write_text('公司名称,备注\nA,"' + "x" * (2 * 1024 * 1024) + '"\n', encoding="utf-8")
    add("a 2 MB field in a csv", field, "IMPORT_FILE_UNREADABLE")
    enc = tmp / "encrypted.xlsx"
    with base.open("rb") as fh, enc.open("wb") as out:
        OOXMLFile(fh).encrypt("secret", out)
    add("password-protected xlsx", enc, "IMPORT_FILE_ENCRYPTED")
    add("password-protected ods", _ods(tmp / "enc.ods", ODS_HEAD + ODS_TAIL,
                                       b"<manifest:encryption-data/>"), "IMPORT_FILE_ENCRYPTED")
    cell = (b'<table:table-cell office:value-type="string" '
            b'table:number-columns-repeated="16384"><text:p>x</text:p></table:table-cell>')
    add("ods repeated rows and columns", _ods(
        tmp / "repeat.ods", ODS_HEAD + b'<table:table-row table:number-rows-repeated="1048576">'
        + cell + b"</table:table-row>" + ODS_TAIL), "IMPORT_TOO_MANY_CELLS")
    add("ods entity declaration", _ods(tmp / "laughs.ods", LAUGHS + ODS_HEAD[21:] + ODS_TAIL),
        "IMPORT_FILE_UNSAFE")
    strict_ns = {b"http://schemas.openxmlformats.org/spreadsheetml/2006/main":
                 b"http://purl.oclc.org/ooxml/spreadsheetml/main",
                 b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
                 b"http://purl.oclc.org/ooxml/officeDocument/relationships"}

    def strict(_name: str, data: bytes) -> bytes:
        for old, new in strict_ns.items():
            data = data.replace(old, new)
        return data

    add("Strict Open XML", _repack(base, tmp / "strict.xlsx", strict), "read")
    return cases


def test_hostile_files_are_refused_with_their_code(tmp_path: Path) -> None:
    cases = _build(tmp_path)
    by_cells: dict[int, list[Path]] = {}
    for path, _code, max_cells in cases.values():
        by_cells.setdefault(max_cells, []).append(path)
    results: dict[tuple[str, int], dict[str, object]] = {}
    for max_cells, paths in by_cells.items():
        for name, r in read_in_sandbox(paths, max_cells).items():
            results[(name, max_cells)] = r
    got = {}
    for label, (path, _code, max_cells) in cases.items():
        r = results[(str(path), max_cells)]
        got[label] = r.get("code", "read")
        if "code" in r:
            assert path.name in str(r["en"]) and path.name in str(r["zh"]), r
    assert got == {label: code for label, (_p, code, _m) in cases.items()}


def test_a_lying_dimension_reads_the_real_cells(tmp_path: Path) -> None:
    from addin.importing.files import read_tables

    base = _base(tmp_path / "b.xlsx")
    lying = _repack(base, tmp_path / "d.xlsx", _sheet_edit(
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d)))
    assert read_tables(lying)[0].rows == read_tables(base)[0].rows


@pytest.mark.parametrize(("xml", "extent"), [
    (b'<sheetData><row r="2"><c r="B2"><v>1</v></c><c r="D2" s="1"/></row></sheetData>',
     SheetExtent(1, 2, 2)),
    (b"<sheetData><row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>"
     b"</sheetData>", SheetExtent(3, 2, 2)),
    (b'<x:sheetData><x:row r="7"><x:c r="AA7" t="s"><x:v>0</x:v></x:c></x:row>',
     SheetExtent(1, 7, 27)),
])
def test_xlsx_extent_counts_valued_cells_across_chunks(xml: bytes, extent: SheetExtent) -> None:
    assert xlsx_extent(lambda: iter([xml])) == extent
    assert xlsx_extent(lambda: iter([xml[i:i + 5] for i in range(0, len(xml), 5)])) == extent
    assert xlsx_extent_by_position(iter([xml[i:i + 7] for i in range(0, len(xml), 7)])) == extent


def test_member_problem_caps_the_unpacked_total() -> None:
    infos = []
    for i in range(3):
        info = zipfile.ZipInfo(f"xl/part{i}.xml")
        info.file_size, info.compress_size = 400 * 1024 * 1024, 300 * 1024 * 1024
        infos.append(info)
    problem = member_problem(infos, DEFAULT_LIMITS)
    assert problem is not None and problem.kind == "too_large"
    assert member_problem(infos[:2], DEFAULT_LIMITS) is None


def test_an_xls_with_a_far_cell_is_refused_before_calamine_allocates(tmp_path: Path) -> None:
    """One value at IV65536 of an .xls: 16.7 million cells in calamine's rectangle, which
    aborts the process under a 1 GiB limit; the BIFF record scan refuses it first."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["公司名称", "手机"])
    ws.append(["恒通科技", "13800138000"])
    ws["IV65536"] = "far"
    wb.save(tmp_path / "far.xlsx")
    near = _base(tmp_path / "near.xlsx")
    for src in (tmp_path / "far.xlsx", near):
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--convert-to", "xls", "--outdir", str(tmp_path), str(src)],
                       check=True, capture_output=True, timeout=180)
    results = read_in_sandbox([tmp_path / "far.xls", tmp_path / "near.xls"])
    assert results[str(tmp_path / "far.xls")]["code"] == "IMPORT_TOO_MANY_CELLS"
    assert "65536" in str(results[str(tmp_path / "far.xls")]["en"])
    assert results[str(tmp_path / "near.xls")]["tables"][0]["rows"] == 3
