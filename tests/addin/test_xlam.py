"""The CRM ribbon as an ``.xlam`` add-in: built from the same customUI and VBA as the
template, typed as an add-in, reproducible and committed; LibreOffice opens it."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree

from addin.ribbon.render import render_callback_module, render_custom_ui
from addin.ribbon.vba_support import ADDIN_FILE, ADDIN_WORKBOOK_MODULE
from addin.template.__main__ import TEMPLATES_DIR, built_files
from addin.template.package import CUSTOM_UI_PART, CUSTOM_UI_REL_TYPE
from addin.template.xlam import ADDIN_CONTENT_TYPE, as_addin, build_addin
from addin.vba.build import RIBBON_DIR

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


@pytest.fixture(scope="module")
def xlam() -> bytes:
    return build_addin()


def _content_types(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        root = ElementTree.fromstring(zf.read("[Content_Types].xml"))
    return {o.get("PartName"): o.get("ContentType") for o in root.iter(f"{CT_NS}Override")}


def test_same_code_same_bytes_and_committed(xlam: bytes) -> None:
    assert build_addin() == xlam
    path = TEMPLATES_DIR / ADDIN_FILE
    assert path.read_bytes() == xlam == built_files()[ADDIN_FILE], \
        "run `python -m addin.template` to rebuild templates/crm_addin.xlam"


def test_package_parts_and_content_types(xlam: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(xlam)) as zf:
        names = zf.namelist()
        assert names[:2] == ["[Content_Types].xml", "_rels/.rels"]
        assert {"xl/workbook.xml", "xl/vbaProject.bin", CUSTOM_UI_PART} <= set(names)
        rels = zf.read("_rels/.rels").decode()
        assert CUSTOM_UI_REL_TYPE in rels and f'Target="{CUSTOM_UI_PART}"' in rels
        assert zf.read(CUSTOM_UI_PART).decode() == render_custom_ui()
        workbook_rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        assert "vbaProject.bin" in workbook_rels
    types = _content_types(xlam)
    assert types["/xl/workbook.xml"] == ADDIN_CONTENT_TYPE
    assert "macroEnabled.main" in ADDIN_CONTENT_TYPE and "addin" in ADDIN_CONTENT_TYPE
    assert not any("sheet.macroEnabled" in t for t in types.values())


def test_as_addin_refuses_a_workbook_without_macros() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types><Override PartName="/xl/workbook.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.'
                    'spreadsheetml.sheet.main+xml"/></Types>')
    with pytest.raises(ValueError, match="macro-enabled"):
        as_addin(out.getvalue())


def test_the_vba_project_holds_the_ribbon_and_the_event_module(xlam: bytes) -> None:
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser(ADDIN_FILE, data=xlam)
    try:
        modules = {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert set(modules) == {"ThisWorkbook", "shAbout", "xlwings", "CRMRibbon"}
    body = render_callback_module().split("\r\n", 1)[1]
    assert modules["CRMRibbon"].replace("\r\n", "\n").endswith(body.replace("\r\n", "\n"))
    xlwings_bas = (RIBBON_DIR / "xlwings.bas").read_bytes().decode("cp1252").split("\r\n", 1)[1]
    assert xlwings_bas.replace("\r\n", "\n").strip() in modules["xlwings"].replace("\r\n", "\n")
    assert ADDIN_WORKBOOK_MODULE.replace("\r\n", "\n").strip() in modules[
        "ThisWorkbook"].replace("\r\n", "\n")


def test_the_about_sheet_says_how_to_install(xlam: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(xlam)) as zf:
        strings = zf.read("xl/sharedStrings.xml").decode()
        assert zf.read("xl/workbook.xml").count(b"<sheet ") == 1
    assert "crm-sheet setup-excel" in strings and "CRM ribbon add-in" in strings


def test_libreoffice_opens_the_addin(tmp_path: Path, xlam: bytes) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not on PATH")
    copy = tmp_path / ADDIN_FILE
    copy.write_bytes(xlam)
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}"
    # LibreOffice's type detection does not know the add-in content type: name the filter
    subprocess.run([soffice, profile, "--headless", "--infilter=Calc MS Excel 2007 VBA XML",
                    "--convert-to", "xlsx", "--outdir", str(out), str(copy)],
                   check=True, timeout=120, capture_output=True)
    converted = out / "crm_addin.xlsx"
    wb = openpyxl.load_workbook(converted)
    try:
        assert wb.sheetnames == ["CRM"]
        assert "setup-excel" in str(wb["CRM"]["A3"].value)
    finally:
        wb.close()
