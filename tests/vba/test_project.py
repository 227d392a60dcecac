"""The assembled vbaProject.bin, read back with oletools' independent parser."""

from __future__ import annotations

import io
from pathlib import Path

import olefile
import pytest
import xlsxwriter
from oletools.olevba import VBA_Parser, decompress_stream

from addin.vba.build import RIBBON_DIR, build_crm_vba_project, crm_modules
from addin.vba.project import (
    PROJECT_ID,
    VBA_PROJECT_HEADER,
    VbaModule,
    build_vba_project,
    decrypt,
    encrypt,
    normalise_newlines,
    parse_bas,
)

SHEETS = ["Sheet1", "Sheet2", "shtContacts"]


def _extract(blob: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(blob)
    parser = VBA_Parser(str(path), relaxed=False)
    try:
        assert parser.detect_vba_macros()
        return {stream: code for _, stream, _, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def crm_bin() -> bytes:
    return build_crm_vba_project(SHEETS)


def test_olevba_extracts_every_module_verbatim(crm_bin: bytes, tmp_path: Path) -> None:
    code = _extract(crm_bin, tmp_path)
    expected = {"ThisWorkbook", *SHEETS, "xlwings", "CRMRibbon"}
    assert set(code) == {f"VBA/{name}" for name in expected}
    for name in ("xlwings.bas", "CRMRibbon.bas"):
        source = (RIBBON_DIR / name).read_bytes().decode("cp1252")
        module = name.removesuffix(".bas")
        assert normalise_newlines(code[f"VBA/{module}"]) == normalise_newlines(source)
    assert (
        'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"' in code["VBA/ThisWorkbook"]
    )
    for sheet in SHEETS:
        assert f'Attribute VB_Name = "{sheet}"' in code[f"VBA/{sheet}"]
        assert 'Attribute VB_Base = "0{00020820-' in code[f"VBA/{sheet}"]
        assert "Attribute VB_PredeclaredId = True" in code[f"VBA/{sheet}"]


def test_deterministic(crm_bin: bytes) -> None:
    assert build_crm_vba_project(SHEETS) == crm_bin
    assert build_crm_vba_project(["Sheet1"]) != crm_bin


def test_streams_and_project_text(crm_bin: bytes) -> None:
    ole = olefile.OleFileIO(crm_bin, raise_defects=olefile.DEFECT_INCORRECT)
    names = {"/".join(p) for p in ole.listdir()}
    modules = ["ThisWorkbook", *SHEETS, "xlwings", "CRMRibbon"]
    assert names == {"PROJECT", "PROJECTwm", "VBA/_VBA_PROJECT", "VBA/dir"} | {
        f"VBA/{m}" for m in modules
    }
    assert ole.openstream("VBA/_VBA_PROJECT").read() == VBA_PROJECT_HEADER
    text = ole.openstream("PROJECT").read().decode("cp1252")
    lines = text.split("\r\n")
    assert lines[0] == f'ID="{PROJECT_ID}"'
    assert "Document=ThisWorkbook/&H00000000" in lines
    assert "Module=xlwings" in lines and "Module=CRMRibbon" in lines
    assert 'Name="CRMWorkbook"' in lines
    fields = dict(
        line.split("=", 1) for line in lines if line.split("=")[0] in {"CMG", "DPB", "GC"}
    )
    key = sum(PROJECT_ID.encode()) & 0xFF
    assert decrypt(bytes.fromhex(fields["CMG"].strip('"'))) == (key, bytes(4))
    assert decrypt(bytes.fromhex(fields["DPB"].strip('"'))) == (key, b"\x00")
    assert decrypt(bytes.fromhex(fields["GC"].strip('"'))) == (key, b"\xff")
    wm = ole.openstream("PROJECTwm").read()
    assert wm.endswith(b"\x00\x00") and b"C\x00R\x00M\x00R\x00i\x00b\x00b\x00o\x00n\x00" in wm


def test_dir_stream_is_what_olevba_expects(crm_bin: bytes) -> None:
    ole = olefile.OleFileIO(crm_bin)
    raw = decompress_stream(bytearray(ole.openstream("VBA/dir").read()))
    assert raw.startswith(b"\x01\x00\x04\x00\x00\x00")  # PROJECTSYSKIND
    assert b"CRMWorkbook" in raw and raw.endswith(b"\x10\x00\x00\x00\x00\x00")


def test_encryption_matches_a_real_excel_project() -> None:
    # CMG value Excel wrote into xlwings' quickstart_standalone.xlsm for its project ID.
    project_id = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"
    key, data = decrypt(bytes.fromhex("8D8FA61394EA98EA98EA98EA98"))
    assert key == sum(project_id.encode()) & 0xFF and data == bytes(4)
    assert decrypt(encrypt(b"\x12\x34", project_id)) == (key, b"\x12\x34")


def test_custom_document_module_code_and_order(tmp_path: Path) -> None:
    blob = build_vba_project(
        [VbaModule("Helpers", "Sub A()\nEnd Sub\n"), VbaModule("ThisWorkbook", "' hi\n", True)],
        ["ThisWorkbook", "Sheet1"],
    )
    code = _extract(blob, tmp_path)
    assert list(code) == ["VBA/ThisWorkbook", "VBA/Sheet1", "VBA/Helpers"]
    assert code["VBA/ThisWorkbook"].endswith("Attribute VB_Customizable = True\r\n' hi\r\n")
    assert code["VBA/Helpers"] == 'Attribute VB_Name = "Helpers"\r\nSub A()\r\nEnd Sub\r\n'


@pytest.mark.parametrize(
    ("modules", "docs"),
    [
        ([VbaModule("Sheet1")], ["ThisWorkbook", "Sheet1"]),
        ([VbaModule("1bad")], ["ThisWorkbook"]),
        ([VbaModule("CRMWorkbook")], ["ThisWorkbook"]),
        ([], ["ThisWorkbook", "Sheet 1"]),
    ],
)
def test_rejects_bad_or_duplicate_names(modules: list[VbaModule], docs: list[str]) -> None:
    with pytest.raises(ValueError):
        build_vba_project(modules, docs)


def test_parse_bas() -> None:
    module = parse_bas('Attribute VB_Name = "Foo"\n\'Attribute VB_Name = "Bar"\nSub X()\nEnd Sub\n')
    assert module == VbaModule("Foo", '\'Attribute VB_Name = "Bar"\r\nSub X()\r\nEnd Sub\r\n')
    assert module.source().startswith('Attribute VB_Name = "Foo"\r\n\'Attribute')
    with pytest.raises(ValueError):
        parse_bas("Sub X()\nEnd Sub\n")


def test_crm_modules_and_thisworkbook_guard() -> None:
    assert [m.name for m in crm_modules()] == ["xlwings", "CRMRibbon"]
    with pytest.raises(ValueError):
        build_crm_vba_project(["ThisWorkbook"])


def test_embeds_in_an_xlsm_written_by_xlsxwriter() -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_vba_name("ThisWorkbook")
    workbook.add_worksheet("Contacts").set_vba_name("shtContacts")
    workbook.add_vba_project(io.BytesIO(build_crm_vba_project(["shtContacts"])), is_stream=True)
    workbook.close()
    parser = VBA_Parser("crm.xlsm", data=buffer.getvalue(), relaxed=False)
    try:
        streams = [stream for _, stream, _, _ in parser.extract_macros()]
    finally:
        parser.close()
    assert streams == ["VBA/ThisWorkbook", "VBA/shtContacts", "VBA/xlwings", "VBA/CRMRibbon"]
