"""A workbook as the actions see it: every table read through the port at the start
(:func:`load`), worked on in memory (each :class:`~addin.sheets.Sheet` holds its rows'
plans, problems and Status texts), and written back in one pass at the end
(:func:`finish`). The data sheets, ``_base`` and the Conflicts sheet are read and written
here only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from addin.cell_text import trimmed_text_warnings
from addin.changes import analyse, check_references, normalize, row_hash
from addin.port import CellMark, WorkbookPort, row_moves
from addin.restore import restore_layouts
from addin.sheets import (
    BASE_KEYS,
    CONFLICT_KEYS,
    BaseStore,
    Conflict,
    Problem,
    RowPlan,
    Sheet,
    base_frame,
    conflicts_frame,
    entity_sheets,
    parse_base,
    parse_conflicts,
    parse_sheet,
    put_values,
    require_crm,
    special_sheet,
)
from addin.types import EntityCode, FrameLabel, RecordId
from schema.dictionary import Dictionary, build_dictionary
from schema.errors import ErrorCode, Lang, as_lang
from schema.layout import (
    BASE_SHEET,
    CHANGE,
    CHANGE_VALUES,
    CONFLICTS_SHEET,
    FIRST_DATA_ROW,
    ROW_HASH,
    ROW_ID,
    STATUS,
    reference_list_name,
)


@dataclass
class Book:
    """Everything read from a workbook at the start of an action."""

    port: WorkbookPort
    dictionary: Dictionary
    meta: dict[str, str]
    lang: Lang
    tables: dict[EntityCode, Sheet]  # the entity sheets, in dictionary order
    base: BaseStore
    conflicts_sheet: str | None
    conflicts: list[Conflict]
    notes: list[Problem]  # about the workbook and its sheets as read

    def writable(self) -> dict[str, set[str]] | None:
        """Writable fields per entity as last told by ``GET /me`` (None: not known)."""
        try:
            raw = json.loads(self.meta.get("writable_fields") or "null")
            return {str(k): set(v) for k, v in raw.items()} if isinstance(raw, dict) else None
        except (ValueError, TypeError, AttributeError):
            return None

    def problems(self) -> list[Problem]:
        """Every sheet's row problems, pointing at the sheet rows the user will see."""
        out = []
        for sheet in self.tables.values():
            for p in sheet.problems:
                if p.row is not None and p.row in sheet.raw.index:
                    p = Problem(p.code, p.message_zh, p.message_en, p.level, p.sheet,
                                sheet.sheet_row(p.row), p.field)
                out.append(p)
        return out


def load(port: WorkbookPort, dictionary: Dictionary | None = None) -> Book:
    """Read every entity sheet, ``_base`` and the Conflicts sheet (one call each)."""
    d = dictionary or build_dictionary()
    names = port.sheet_names()
    require_crm(names)
    meta = port.read_meta()
    lang = meta.get("lang") if meta.get("lang") in ("zh", "en") else "zh"
    sheets = entity_sheets(meta, names, d)
    tables = {code: parse_sheet(sheet, d.entity(code), *port.read_table(sheet))
              for code, sheet in sheets.items()}
    notes = [p for t in tables.values() for p in t.notes]
    notes += [Problem.of(ErrorCode.SHEET_MISSING, "warning", zh={"entity": e.zh},
                         en={"entity": e.en})
              for e in d if e.code not in sheets]
    csheet = special_sheet(meta, names, CONFLICTS_SHEET)
    conflicts = parse_conflicts(*port.read_table(csheet), d) if csheet else []
    base = parse_base(port.read_table(BASE_SHEET)[1])
    return Book(port, d, meta, as_lang(lang), tables, base, csheet, conflicts, notes)


# working on the book in memory ------------------------------------------------------------------
def analyse_all(book: Book, writable: dict[str, set[str]] | None) -> None:
    """Plan every row of every sheet and note its problems (references across sheets too;
    text whose edge tab or line break the parsers drop is a warning)."""
    for code, sheet in book.tables.items():
        analyse(sheet, book.dictionary, book.base,
                None if writable is None else writable.get(code, set()))
    check_references(book.tables)
    for sheet in book.tables.values():
        sheet.problems += trimmed_text_warnings(sheet)


def resolve_conflicts(book: Book) -> int:
    """Apply the choices made on the Conflicts sheet; returns how many rows were resolved."""
    by_row: dict[tuple[EntityCode, RecordId], list[Conflict]] = {}
    for c in book.conflicts:
        by_row.setdefault((c.entity, c.id), []).append(c)
    keep: list[Conflict] = []
    resolved = 0
    for (code, rid), items in by_row.items():
        sheet = book.tables.get(code)
        ids = sheet.column(ROW_ID).astype(str).str.strip() if sheet is not None else None
        labels = [] if ids is None else ids.index[ids == rid].tolist()
        if sheet is None or not labels:
            continue  # the row is gone: nothing left to resolve
        if any(c.choice is None for c in items):
            keep += items
            continue
        b = book.base.get(code, rid)
        theirs = {c.field: (b.values.get(c.field) if b else None) for c in items
                  if c.choice == "theirs"}
        put_values(sheet, labels[0], theirs, book.lang)
        resolved += 1
    book.conflicts = keep
    return resolved


def hold_conflicts(book: Book) -> int:
    """Rows with conflicts still waiting for a choice are not pushed; returns how many."""
    waiting = {(c.entity, c.id) for c in book.conflicts if c.choice is None}
    held = 0
    for code, sheet in book.tables.items():
        for plan in sheet.plans.values():
            if plan.id and (code, plan.id) in waiting:
                plan.op = None
                held += 1
                sheet.problems.append(Problem.of(ErrorCode.CONFLICT_UNRESOLVED, "error",
                                                 sheet=sheet.sheet, row=plan.label,
                                                 field=STATUS))
    return held


# writing the book -------------------------------------------------------------------------------
def finish(book: Book) -> None:
    """Write Change/Status columns, every sheet, marks, ``_base`` and conflicts (the caller
    saves)."""
    for sheet in book.tables.values():
        write_sheet(book.port, sheet, book.lang)
    write_base(book.port, book.base)
    if book.conflicts_sheet is not None:
        rows = {code: s.labels_by_id() for code, s in book.tables.items()}
        for c in book.conflicts:
            label = rows.get(c.entity, {}).get(c.id)
            if label is not None and label in book.tables[c.entity].raw.index:
                c.row = book.tables[c.entity].sheet_row(label)
        write_conflicts(book.port, book.conflicts_sheet, book.conflicts, book.dictionary,
                        book.lang)
    write_reference_lists(book, book.port)
    restore_layouts(book.port, book.dictionary, book.lang, book.tables, book.conflicts_sheet)


def write_sheet(port: WorkbookPort, sheet: Sheet, lang: Lang) -> None:
    """One sheet's Change, Status and stale ``_hash`` cells, its table and its marks."""
    texts = status_texts(sheet, lang)
    labels = sheet.raw.index.tolist()
    plans: list[RowPlan | None] = [sheet.plans.get(lbl) for lbl in labels]
    sheet.assign(labels, CHANGE, [change_label(p, lang) if p else None for p in plans])
    sheet.assign(labels, STATUS, [texts.get(lbl) for lbl in labels])
    stale = [p for p in plans if p is not None and p.stale_hash]
    sheet.assign([p.label for p in stale], ROW_HASH,
                 [row_hash(p.current, sheet.field_codes) for p in stale])
    if sheet.changed():
        port.write_table(sheet.sheet, sheet.keys, sheet.raw, FIRST_DATA_ROW)
        _move_notes(port, sheet)
    port.mark_cells(sheet.sheet, problems_to_marks(sheet, lang))


def _move_notes(port: WorkbookPort, sheet: Sheet) -> None:
    """Users' notes go with their rows when rows above them left the sheet."""
    if sheet.original is not None:
        moves = row_moves(sheet.original.index, sheet.raw.index, FIRST_DATA_ROW)
        if moves:
            port.move_notes(sheet.sheet, moves)


def write_base(port: WorkbookPort, store: BaseStore) -> None:
    """Rewrite ``_base`` whole."""
    port.write_table(BASE_SHEET, BASE_KEYS, base_frame(store), 2)


def write_conflicts(port: WorkbookPort, sheet: str, conflicts: list[Conflict],
                    dictionary: Dictionary, lang: Lang) -> None:
    """Rewrite the Conflicts sheet's rows."""
    port.write_table(sheet, CONFLICT_KEYS, conflicts_frame(conflicts, dictionary, lang),
                     FIRST_DATA_ROW)


def write_reference_lists(book: Book, port: WorkbookPort) -> None:
    """Dropdown sources of reference fields: the display names now in each sheet."""
    targets = {f.ref for e in book.dictionary for f in e.fields if f.ref}
    for code in [c for c in book.tables if c in targets]:
        table = book.tables[code]
        names = {str(normalize(v)).strip() for v in table.column(table.entity.display_field)
                 if normalize(v) is not None}
        port.write_list(reference_list_name(code), sorted(n for n in names if n))


def change_label(plan: RowPlan, lang: Lang) -> str | None:
    """The Change column text of a row: 新增/修改/删除 or blank."""
    idx = 0 if lang == "zh" else 1
    kind = {"insert": "new", "update": "update", "delete": "delete", "drop": "delete"}.get(
        plan.op or "")
    if kind is None and plan.dirty:
        kind = "update"
    return CHANGE_VALUES[kind][idx] if kind else None


MAX_MARKS = 1000  # per sheet: every problem is in the Status column; this many get a note


def problems_to_marks(sheet: Sheet, lang: Lang) -> list[CellMark]:
    """Cell marks for problems whose row is still in the sheet (labels -> sheet rows),
    errors first, at most :data:`MAX_MARKS`."""
    marks: list[CellMark] = []
    problems = sorted(sheet.problems, key=lambda p: p.level != "error")
    status_col = sheet.col_number(STATUS) or 1
    for p in problems:
        if p.row is None or p.row not in sheet.raw.index:
            continue
        col = sheet.col_number(p.field) if p.field else None
        kind: Literal["error", "conflict", "warning"] = (
            "conflict" if p.code == ErrorCode.CONFLICT_UNRESOLVED else
            "error" if p.level == "error" else "warning")
        marks.append(CellMark(sheet.sheet_row(p.row), col or status_col, kind, p.message(lang)))
        if len(marks) >= MAX_MARKS:
            break
    return marks


def status_texts(sheet: Sheet, lang: Lang) -> dict[FrameLabel, str]:
    """Per row label, the Status column: what happened to it, then its problems."""
    out: dict[FrameLabel, list[str]] = {label: [text] for label, text in sheet.statuses.items()}
    for p in sheet.problems:
        if p.row is not None:
            text = p.message(lang)
            if text not in out.setdefault(p.row, []):
                out[p.row].append(text)
    return {k: "；".join(v) if lang == "zh" else "; ".join(v) for k, v in out.items() if v}
