"""The generated workbook template: reproducible, complete, macro-enabled, opens elsewhere."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from addin.template import build_template, list_sources
from addin.template.__main__ import TEMPLATE_FILES, TEMPLATES_DIR
from addin.template.builder import CONFLICTS_SHEET, SHEET_NAMES, VALIDATION_LAST_ROW
from addin.template.package import CUSTOM_UI_PART, CUSTOM_UI_REL_TYPE
from schema.dictionary import DICTIONARY_VERSION, build_dictionary
from schema.layout import (
    CHANGE_VALUES,
    FIRST_DATA_ROW,
    HEADER_ROW,
    KEY_ROW,
    LISTS_SHEET,
    META_SHEET,
    SYSTEM_KEYS,
    SheetLayout,
    workbook_layout,
)
from schema.types import Field, FieldType

LANGS = sorted(TEMPLATE_FILES)
REBUILD = "run `python -m addin.template` to rebuild the committed templates"


@pytest.fixture(scope="module", params=LANGS)
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_built: dict[str, bytes] = {}


def built(lang: str) -> bytes:
    if lang not in _built:
        _built[lang] = build_template(lang)
    return _built[lang]


@pytest.fixture(scope="module")
def book(lang: str) -> Iterator[Workbook]:
    wb = openpyxl.load_workbook(io.BytesIO(built(lang)), keep_vba=True)
    yield wb
    wb.close()


def _meta(wb: Workbook) -> dict[str, str]:
    rows = wb[META_SHEET].iter_rows(min_row=2, values_only=True)
    return {str(k): "" if v is None else str(v) for k, v, *_ in rows}


def _row(ws: Worksheet, row: int, width: int) -> list[object]:
    return [ws.cell(row, c).value for c in range(1, width + 1)]


def _column_hidden(ws: Worksheet, col: int) -> bool:
    return any(d.min <= col <= d.max and d.hidden for d in ws.column_dimensions.values())


# (1) reproducible and committed
def test_same_input_same_bytes_and_committed(lang: str) -> None:
    data = built(lang)
    assert build_template(lang) == data
    path = TEMPLATES_DIR / TEMPLATE_FILES[lang]
    assert path.exists(), f"{path.name} missing: {REBUILD}"
    assert path.read_bytes() == data, f"{path.name} is stale: {REBUILD}"


def test_rejects_unknown_language() -> None:
    with pytest.raises(ValueError):
        build_template("fr")


# (2) sheets, keys, labels, hidden parts, validations, lists, _meta
def test_every_field_has_key_and_label(book: Workbook, lang: str) -> None:
    layouts = workbook_layout(build_dictionary(), lang)
    for layout in layouts:
        ws = book[layout.name]
        keys = _row(ws, KEY_ROW, len(layout.columns))
        labels = _row(ws, HEADER_ROW, len(layout.columns))
        assert keys == layout.keys()
        assert labels == [c.header for c in layout.columns]
        entity = build_dictionary().entity(layout.entity)
        assert set(entity.field_codes()) <= set(keys)
        assert ws.row_dimensions[KEY_ROW].hidden
        assert ws.freeze_panes == f"C{FIRST_DATA_ROW}"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A2:")
        for i, col in enumerate(layout.columns, start=1):
            assert _column_hidden(ws, i) == col.hidden, (layout.name, col.key)
        assert [c.key for c in layout.columns if c.hidden] == list(SYSTEM_KEYS[2:])


def _validations(ws: Worksheet) -> dict[int, tuple[str | None, str | None, str | None]]:
    """Column index -> (type, formula1, error style) of validations starting on row 3."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert rng.min_row == FIRST_DATA_ROW and rng.max_row == VALIDATION_LAST_ROW
            out[rng.min_col] = (dv.type, dv.formula1, dv.errorStyle)
    return out


def _check_validations(ws: Worksheet, layout: SheetLayout) -> None:
    found = _validations(ws)
    for i, col in enumerate(layout.columns, start=1):
        if col.list_name is None:
            assert found.get(i, (None,))[0] in (None, "any"), col.key
            continue
        kind, formula, style = found[i]
        assert (kind, formula) == ("list", col.list_name), col.key
        is_ref = col.field is not None and col.field.type is FieldType.REFERENCE
        assert style == ("information" if is_ref else None), col.key  # None means "stop"


def test_list_columns_have_dropdowns(book: Workbook, lang: str) -> None:
    layouts = workbook_layout(build_dictionary(), lang)
    enum_columns = 0
    for layout in layouts:
        _check_validations(book[layout.name], layout)
        enum_columns += sum(1 for c in layout.columns
                            if c.field is not None and c.field.type is FieldType.ENUM)
    assert enum_columns > 20


def test_input_messages_carry_hints(book: Workbook, lang: str) -> None:
    layout = workbook_layout(build_dictionary(), lang)[0]
    prompts = {rng.min_col: (dv.promptTitle, dv.prompt)
               for dv in book[layout.name].data_validations.dataValidation
               for rng in dv.sqref.ranges}
    for i, col in enumerate(layout.columns, start=1):
        if col.hint:
            assert prompts[i] == (col.header[:32], col.hint[:255])


def _resolve(wb: Workbook, name: str) -> list[object]:
    dests = list(wb.defined_names[name].destinations)
    assert len(dests) == 1
    sheet, ref = dests[0]
    assert sheet == LISTS_SHEET
    cells = wb[sheet][ref.replace("$", "")]
    return [c.value for row in cells for c in row]


def test_defined_lists_hold_labels(book: Workbook, lang: str) -> None:
    d = build_dictionary()
    sources = dict(list_sources(d, lang))
    for e in d.enums.values():
        assert _resolve(book, f"list_{e.code}") == [v.label(lang) for v in e.values]
    change = [zh if lang == "zh" else en for zh, en in CHANGE_VALUES.values()]
    assert _resolve(book, "list_change") == change
    assert _resolve(book, "list_boolean") == (["是", "否"] if lang == "zh" else ["Yes", "No"])
    for entity in d:
        assert _resolve(book, f"ref_{entity.code}") == [None]  # one-row placeholder
    ws = book[LISTS_SHEET]
    for col, (name, values) in enumerate(sources.items(), start=1):
        assert ws.cell(1, col).value == name
        if values:
            assert _resolve(book, name) == values
    # every list a sheet validates against is defined
    used = {c.list_name for lay in workbook_layout(d, lang) for c in lay.columns if c.list_name}
    assert used <= set(book.defined_names)


def test_meta_and_system_sheets(book: Workbook, lang: str) -> None:
    meta = _meta(book)
    assert meta["template_version"] == DICTIONARY_VERSION
    assert meta["lang"] == lang
    assert meta["server_url"] == "" and meta["cursor"] == ""
    assert not any("token" in (k + v).lower() for k, v in meta.items())
    for layout in workbook_layout(build_dictionary(), lang):
        assert meta[f"sheet:{layout.name}"] == layout.entity
    conflicts = SHEET_NAMES[CONFLICTS_SHEET][0 if lang == "zh" else 1]
    assert meta[f"sheet:{conflicts}"] == CONFLICTS_SHEET
    for name in (META_SHEET, LISTS_SHEET, "_base"):
        assert book[name].sheet_state == "hidden"
    assert _row(book["_base"], 1, 4) == ["entity", "id", "version", "values_json"]
    ws = book[conflicts]
    assert _row(ws, KEY_ROW, 8) == ["entity", "id", "row", "field", "base", "theirs", "mine",
                                    "choice"]
    assert _validations(ws)[8][:2] == ("list", "list_conflict_choice")
    assert book.sheetnames[0] == SHEET_NAMES["instructions"][0 if lang == "zh" else 1]


def test_vocabulary_sheet_lists_customer_enums(book: Workbook, lang: str) -> None:
    ws = book[SHEET_NAMES["vocabularies"][0 if lang == "zh" else 1]]
    rows = {(r[1], r[2], r[3]) for r in ws.iter_rows(min_row=2, values_only=True)}
    customer = build_dictionary().entity("customer")
    for f in customer.fields:
        if f.enum is not None:
            assert {(v.code, v.zh, v.en) for v in f.enum.values} <= rows
    assert ws.protection.sheet


# (3) macros and ribbon
def test_package_has_vba_and_ribbon(lang: str) -> None:
    with zipfile.ZipFile(io.BytesIO(built(lang))) as zf:
        names = zf.namelist()
        assert "xl/vbaProject.bin" in names and CUSTOM_UI_PART in names
        assert zf.read(CUSTOM_UI_PART).startswith(b"<?xml")
        rels = zf.read("_rels/.rels").decode()
        assert CUSTOM_UI_REL_TYPE in rels and f'Target="{CUSTOM_UI_PART}"' in rels
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert "macroEnabled" in zf.read("[Content_Types].xml").decode()


def test_olevba_finds_ribbon_module(lang: str) -> None:
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser("template.xlsm", data=built(lang))
    try:
        modules = {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert any(n.startswith("CRMRibbon") for n in modules), sorted(modules)
    assert "CRM_OnAction" in "".join(modules.values())
    assert any(n.startswith("shCustomer") for n in modules)


# (4) the xlwings VBA module matches the installed xlwings
def test_xlwings_version_matches_installed(book: Workbook) -> None:
    xlwings = pytest.importorskip("xlwings")
    assert _meta(book)["xlwings_version"] == xlwings.__version__, REBUILD


# (5) LibreOffice opens and converts a copy
@pytest.mark.slow  # LibreOffice: ~15-25 s a language
def test_libreoffice_converts_a_copy(tmp_path: Path, lang: str) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not on PATH")
    copy = tmp_path / "template.xlsm"
    copy.write_bytes(built(lang))
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}"
    for fmt in ("xlsx", "pdf"):
        subprocess.run([soffice, profile, "--headless", "--convert-to", fmt, "--outdir",
                        str(out), str(copy)], check=True, timeout=120, capture_output=True)
        assert (out / f"template.{fmt}").stat().st_size > 0, fmt
    wb = openpyxl.load_workbook(out / "template.xlsx")
    try:
        for layout in workbook_layout(build_dictionary(), lang):
            labels = _row(wb[layout.name], HEADER_ROW, len(layout.columns))
            assert labels == [c.header for c in layout.columns]
    finally:
        wb.close()


def test_custom_fields_flow_in_and_formula_like_text_stays_text() -> None:
    d = build_dictionary()
    d.add_custom_field("customer", Field("score_note", FieldType.TEXT, "=SUM(A1)", "@cmd"))
    data = build_template("zh", d)
    wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=True)
    try:
        ws = wb[d.entity("customer").zh]
        keys = _row(ws, KEY_ROW, ws.max_column)
        col = keys.index("score_note") + 1
        assert ws.cell(HEADER_ROW, col).value == "=SUM(A1)"
        assert ws.cell(HEADER_ROW, col).data_type == "s"
    finally:
        wb.close()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in zf.read(n) for n in sheets)
