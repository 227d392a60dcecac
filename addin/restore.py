"""What every pull, push and report refresh puts back in a workbook another program
saved: the template's data validations over its full row range, frozen panes and hidden
state (LibreOffice, for one, cuts dropdowns to row ~1000 and drops frozen panes).
Everything is derived from the workbook layout (``schema.layout``), the template builder
and the report sheets' header block, never written twice."""

from __future__ import annotations

import re

from addin.port import Dropdown, SheetSpec, WorkbookPort
from addin.reportbook import SHEET_NAMES
from addin.reportbook.header import HEADER_ROWS
from addin.sheets import SheetTable, special_sheet
from addin.template.builder import (
    _CHOICE_HINT,
    _CONFLICT_LABELS,
    CONFLICT_CHOICE_LIST,
    CONFLICT_KEYS,
    VALIDATION_LAST_ROW,
    VOCABULARY_SHEET,
    _validation,
)
from schema.dictionary import Dictionary
from schema.errors import Lang
from schema.layout import (
    BASE_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    KEY_ROW,
    LISTS_SHEET,
    META_SHEET,
    REPORT_SETTINGS_SHEET,
    STATUS,
    SheetColumn,
    sheet_layout,
)

HIDDEN_SHEETS = (META_SHEET, LISTS_SHEET, BASE_SHEET)
FROZEN_SHEETS = {REPORT_SETTINGS_SHEET: (HEADER_ROW + 1, 1), VOCABULARY_SHEET: (2, 1),
                 INSTRUCTIONS_SHEET: (2, 1)}
REPORT_FREEZE = (HEADER_ROWS + 1, 1)  # report sheets and their dated copies: the header block


def report_sheet_names(names: list[str]) -> list[str]:
    """The report sheets among ``names`` and their dated copies (``RFM 2026-12-01``)."""
    live = {n for kinds in SHEET_NAMES.values() for n in kinds.values()}
    dated = re.compile(r"^(" + "|".join(map(re.escape, sorted(live))) + r") \d{4}-\d{2}-\d{2}$")
    return [n for n in names if n in live or dated.match(n)]


def dropdown(col: int, column: SheetColumn, lang: Lang) -> Dropdown | None:
    """The validation the builder gives ``column``, placed at sheet column ``col``."""
    opts = _validation(column, lang)
    if opts is None:
        return None
    source = str(opts.get("source") or "")
    return Dropdown(col, source.lstrip("=") or None, opts.get("error_type", "stop") == "stop",
                    str(opts.get("error_title", "")), str(opts.get("error_message", "")),
                    str(opts.get("input_title", "")), str(opts.get("input_message", "")))


def entity_spec(entity_code: str, cols: dict[str, int], dictionary: Dictionary,
                lang: Lang) -> SheetSpec:
    """An entity sheet's spec, its columns found where their keys are now (``cols``: key ->
    0-based position)."""
    layout = sheet_layout(dictionary.entity(entity_code), lang)
    drops = [d for c in layout.columns if c.key in cols
             if (d := dropdown(cols[c.key] + 1, c, lang)) is not None]
    frozen = layout.keys().index(STATUS) + 1  # the builder freezes up to the Status column
    return SheetSpec(FIRST_DATA_ROW, VALIDATION_LAST_ROW, tuple(drops),
                     (HEADER_ROW + 1, frozen + 1), (KEY_ROW,),
                     tuple(cols[c.key] + 1 for c in layout.columns if c.hidden and c.key in cols))


def conflicts_spec(lang: Lang) -> SheetSpec:
    """The Conflicts sheet's: the choice dropdown, frozen headers, hidden key row."""
    choice = CONFLICT_KEYS.index("choice")
    column = SheetColumn("choice", _CONFLICT_LABELS[lang][choice], False, 14.0,
                         list_name=CONFLICT_CHOICE_LIST, hint=_CHOICE_HINT[lang])
    drop = dropdown(choice + 1, column, lang)
    return SheetSpec(FIRST_DATA_ROW, VALIDATION_LAST_ROW, (drop,) if drop else (),
                     (HEADER_ROW + 1, 1), (KEY_ROW,))


def restore_layouts(port: WorkbookPort, dictionary: Dictionary, lang: Lang,
                    tables: dict[str, SheetTable], conflicts_sheet: str | None) -> None:
    """Restore every entity sheet (its columns where their keys are now), the Conflicts
    sheet and the hidden sheets."""
    for code, table in tables.items():
        port.restore_layout(table.sheet, entity_spec(code, table.cols, dictionary, lang))
    if conflicts_sheet is not None:
        port.restore_layout(conflicts_sheet, conflicts_spec(lang))
    names, meta = port.sheet_names(), port.read_meta()
    for code, freeze in FROZEN_SHEETS.items():  # the builder freezes their header rows
        sheet = special_sheet(meta, names, code)
        if sheet is not None:
            port.restore_layout(sheet, SheetSpec(freeze=freeze))
    for sheet in report_sheet_names(names):
        port.restore_layout(sheet, SheetSpec(freeze=REPORT_FREEZE))
    for sheet in HIDDEN_SHEETS:
        if sheet in names:
            port.restore_layout(sheet, SheetSpec(hidden=True))
