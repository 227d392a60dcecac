"""Every file of the real-file corpus (tests/data/import_corpus, see SOURCES.md) is read
under a 1 GiB address-space limit and a timeout: tables found, or refused with the code
named here. A file added to the corpus without an expectation fails the test."""

from __future__ import annotations

from pathlib import Path

from tests.addin.importing.sandbox import read_in_sandbox

CORPUS = Path(__file__).resolve().parents[2] / "data" / "import_corpus"
READ = "read"
# file -> (READ, real format, tables) or the refusal's code
EXPECTED: dict[str, tuple[str, str, int] | str] = {
    "calamine/OOM_alloc3.xls": "IMPORT_FILE_UNREADABLE",  # fuzzer output: a broken CFB
    "calamine/any_sheets.ods": "IMPORT_NO_HEADER",  # one value per sheet
    "calamine/biff5_write.xls": (READ, "xls", 1),
    "calamine/covered.ods": (READ, "ods", 1),
    "calamine/date_1904.xls": "IMPORT_NO_HEADER",  # dates only
    "calamine/header-row.xlsx": (READ, "xlsx", 1),
    "calamine/issue_594_dos.ods": "IMPORT_TOO_MANY_CELLS",  # 10^18 repeated cells
    "calamine/issue_666_panic.xlsb": "IMPORT_NO_TABLE",
    "calamine/issues.xlsb": (READ, "xlsb", 1),
    "calamine/malformed_format.xls": (READ, "xls", 1),
    "calamine/merged_range.xls": (READ, "xls", 2),
    "calamine/nonstandard-xml-ns-prefix.xlsx": (READ, "xlsx", 1),
    "calamine/number_rows_repeated.ods": (READ, "ods", 3),
    "calamine/pass_protected.ods": "IMPORT_FILE_ENCRYPTED",
    "calamine/pass_protected.xlsb": "IMPORT_FILE_ENCRYPTED",
    "calamine/pass_protected.xlsx": "IMPORT_FILE_ENCRYPTED",
    "calamine/ptgexp-truncated-operand.xls": (READ, "xls", 1),
    "calamine/strict_iso_paths.xlsx": (READ, "xlsx", 1),  # Strict Open XML, read
    "calamine/temperature-in-middle.xlsx": (READ, "xlsx", 1),
    "calamine/too_small.xls": "IMPORT_NO_HEADER",  # a line of text named .xls
    "calamine/vba.xlsm": "IMPORT_NO_TABLE",
    "phpspreadsheet/HiddenSheet.gnumeric": "IMPORT_FILE_UNREADABLE",  # gzip XML
    "phpspreadsheet/HiddenSheet.xls": "IMPORT_NO_TABLE",  # its data is on hidden sheets
    "phpspreadsheet/RepeatedCells.ods": (READ, "ods", 1),
    "phpspreadsheet/WholeRowAndColumn.xls": "IMPORT_NO_HEADER",
    "phpspreadsheet/Zip-Windows-Directory-Separator.xlsx": (READ, "xlsx", 1),  # a\\b names
    "phpspreadsheet/corruptMeta.ods": (READ, "ods", 1),
    "phpspreadsheet/issue.2450.xlsx": (READ, "xlsx", 1),
    "phpspreadsheet/issue.3613.xlsx": (READ, "xlsx", 6),  # WPS Office
    "phpspreadsheet/line_break_in_enclosure.csv": (READ, "csv", 1),
    "phpspreadsheet/linend.mac.csv": "IMPORT_NO_HEADER",  # two rows of numbers
    "phpspreadsheet/namespaces.openpyxl35.xlsx": (READ, "xlsx", 3),
    "phpspreadsheet/no_delimiter.csv": (READ, "csv", 1),
    "phpspreadsheet/nomimetype.ods": "IMPORT_FILE_UNREADABLE",  # calamine needs mimetype
    "phpspreadsheet/premiere.utf16be.csv": (READ, "csv", 1),
    "phpspreadsheet/premiere.utf16lebom.csv": (READ, "csv", 1),
    "phpspreadsheet/premiere.utf32bebom.csv": (READ, "csv", 1),
    "phpspreadsheet/premiere.utf32le.csv": (READ, "csv", 1),
    "phpspreadsheet/premiere.utf8bom.csv": (READ, "csv", 1),
    "phpspreadsheet/premiere.win1252.csv": (READ, "csv", 1),
    "phpspreadsheet/rootZipFiles.xlsx": (READ, "xlsx", 1),  # workbook at the zip root
    "phpspreadsheet/semicolon_separated.csv": (READ, "csv", 1),
    "phpspreadsheet/without_cell_reference.xlsx": "IMPORT_NO_HEADER",  # numbers only
    "roo/1904_base.xlsx": "IMPORT_NO_HEADER",
    "roo/Pfand_from_windows_phone.xlsx": "IMPORT_FILE_UNREADABLE",
    "roo/boolean-from-google-sheets.ods": "IMPORT_NO_HEADER",  # booleans only
    "roo/boolean-from-google-sheets.xlsx": "IMPORT_NO_HEADER",
    "roo/encrypted-letmein.ods": "IMPORT_FILE_ENCRYPTED",
    "roo/header_offset.xlsx": (READ, "xlsx", 1),
    "roo/hidden_sheets.xlsx": (READ, "xlsx", 1),  # the hidden sheets left out
    "roo/implicit_coordinates.xlsx": (READ, "xlsx", 1),
    "roo/iso_8859_1.csv": (READ, "csv", 1),
    "roo/numbers-export.xlsx": (READ, "xlsx", 2),
    "roo/simple_spreadsheet_from_italo.ods": (READ, "ods", 1),
    "roo/strict.xlsx": (READ, "xlsx", 2),  # Strict Open XML from Mac Excel, read
    "roo/type_excel.xlsx": (READ, "xls", 1),  # an .xls renamed .xlsx
    "roo/type_openoffice.xlsx": (READ, "ods", 1),  # an .ods renamed .xlsx
    "roo/wrong_coordinates.xlsx": (READ, "xlsx", 1),
    "xlrd/Formate.xls": "IMPORT_NO_HEADER",
    "xlrd/biff4_no_format_no_window2.xls": "IMPORT_FILE_UNREADABLE",  # Excel 4.0
    "xlrd/namesdemo.xls": (READ, "xls", 1),
    "xlrd/profiles.xls": (READ, "xls", 5),
    "xlrd/ragged.xls": (READ, "xls", 1),
    "xlrd/sample.ods": "IMPORT_NO_TABLE",
}


def _files() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*") if "LICENSE" not in p.name)


def test_the_corpus_is_small_and_every_file_has_its_source() -> None:
    files = _files()
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    assert len(files) >= 30
    assert sum(p.stat().st_size for p in files) < 5 * 1024 * 1024
    for p in files:
        assert p.stat().st_size < 200 * 1024, p.name
        assert f"`{p.parent.name}/{p.name}`" in sources, p.name
    for repo in {p.parent for p in files}:
        assert any("LICENSE" in q.name for q in repo.iterdir()), repo.name
    assert sorted(EXPECTED) == [f"{p.parent.name}/{p.name}" for p in files]


def test_every_corpus_file_is_read_or_refused_precisely() -> None:
    files = _files()
    results = read_in_sandbox(files)
    got: dict[str, tuple[str, str, int] | str] = {}
    for p in files:
        r = results[str(p)]
        if "code" in r:
            assert r["code"].startswith("IMPORT_"), r
            assert p.name in r["en"] and p.name in r["zh"], r  # the message names the file
            assert "Traceback" not in r["en"]
            got[f"{p.parent.name}/{p.name}"] = r["code"]
        else:
            tables = r["tables"]
            assert all(t["columns"] and len(set(t["columns"])) == len(t["columns"])
                       for t in tables), r
            got[f"{p.parent.name}/{p.name}"] = (READ, tables[0]["format"], len(tables))
    assert got == EXPECTED
    for p in files:  # one text in six encodings, with and without BOMs
        if p.name.startswith("premiere."):
            assert results[str(p)]["tables"][0]["columns"] == ["première", "second",
                                                                "troisième"], p.name
    wps = results[str(CORPUS / "phpspreadsheet" / "issue.3613.xlsx")]["tables"][0]
    assert (wps["sheet"], wps["columns"][:2]) == ("1月", ["员工姓名", "身份证号码"])
