"""A workbook as the actions see it: every table read at the start (:func:`load`), worked
on in memory (including the bridge's verdict on pushed rows, :func:`apply_result`), and
written back in one pass at the end (:func:`finish`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from addin.cell_text import trimmed_text_warnings
from addin.changes import (
    RowPlan,
    SheetAnalysis,
    analyse,
    change_label,
    check_references,
    normalize,
    problems_to_marks,
    row_hash,
    same,
    status_texts,
)
from addin.port import WorkbookPort
from addin.restore import restore_layouts
from addin.sheets import (
    BaseStore,
    Conflict,
    Problem,
    SheetTable,
    as_int,
    entity_sheets,
    put_values,
    read_base,
    read_conflicts,
    read_sheet,
    require_crm,
    special_sheet,
    to_text,
    write_base,
    write_conflicts,
)
from schema.dictionary import Dictionary, build_dictionary
from schema.layout import (
    CHANGE,
    CONFLICTS_SHEET,
    ROW_HASH,
    ROW_ID,
    ROW_VERSION,
    STATUS,
    reference_list_name,
)
from schema.wire import RowResult


@dataclass
class Book:
    """Everything read from a workbook at the start of an action."""

    port: WorkbookPort
    dictionary: Dictionary
    meta: dict[str, str]
    lang: str
    tables: dict[str, SheetTable]
    base: BaseStore
    conflicts_sheet: str | None
    conflicts: list[Conflict]
    notes: list[Problem]

    def writable(self) -> dict[str, set[str]] | None:
        """Writable fields per entity as last told by ``GET /me`` (None: not known)."""
        try:
            raw = json.loads(self.meta.get("writable_fields") or "null")
            return {str(k): set(v) for k, v in raw.items()} if isinstance(raw, dict) else None
        except (ValueError, TypeError, AttributeError):
            return None


def load(port: WorkbookPort, dictionary: Dictionary | None = None) -> Book:
    """Read every entity sheet, ``_base`` and the Conflicts sheet (one call each)."""
    d = dictionary or build_dictionary()
    names = port.sheet_names()
    require_crm(names)
    meta = port.read_meta()
    lang = meta.get("lang") if meta.get("lang") in ("zh", "en") else "zh"
    sheets = entity_sheets(meta, names, d)
    tables = {code: read_sheet(port, sheet, d.entity(code)) for code, sheet in sheets.items()}
    notes = [p for t in tables.values() for p in t.problems]
    notes += [Problem.of("SHEET_MISSING", "warning", zh={"entity": e.zh}, en={"entity": e.en})
              for e in d if e.code not in sheets]
    csheet = special_sheet(meta, names, CONFLICTS_SHEET)
    conflicts = read_conflicts(port, csheet, d) if csheet else []
    return Book(port, d, meta, str(lang), tables, read_base(port), csheet, conflicts, notes)


def analyse_all(book: Book, writable: dict[str, set[str]] | None) -> dict[str, SheetAnalysis]:
    out = {code: analyse(t, book.dictionary, book.base,
                         None if writable is None else writable.get(code, set()))
           for code, t in book.tables.items()}
    check_references(out, book.dictionary)
    for an in out.values():
        an.warnings += trimmed_text_warnings(an)
    return out


def hold_conflicts(book: Book, analyses: dict[str, SheetAnalysis]) -> list[Problem]:
    """Rows with conflicts still waiting for a choice are not pushed."""
    out: list[Problem] = []
    waiting = {(c.entity, c.id) for c in book.conflicts if c.choice is None}
    for code, an in analyses.items():
        for plan in an.plans.values():
            if plan.id and (code, plan.id) in waiting:
                plan.op = None
                out.append(Problem.of("CONFLICT_UNRESOLVED", "error", sheet=an.table.sheet,
                                      row=plan.label, field=STATUS))
    return out


def resolve_conflicts(book: Book) -> int:
    """Apply the choices made on the Conflicts sheet; returns how many rows were resolved."""
    by_row: dict[tuple[str, str], list[Conflict]] = {}
    for c in book.conflicts:
        by_row.setdefault((c.entity, c.id), []).append(c)
    keep: list[Conflict] = []
    resolved = 0
    for (code, rid), items in by_row.items():
        table = book.tables.get(code)
        ids = table.column(ROW_ID).astype(str).str.strip() if table is not None else None
        labels = [] if ids is None else ids.index[ids == rid].tolist()
        if table is None or not labels:
            continue  # the row is gone: nothing left to resolve
        if any(c.choice is None for c in items):
            keep += items
            continue
        b = book.base.get(code, rid)
        theirs = {c.field: (b.values.get(c.field) if b else None) for c in items
                  if c.choice == "theirs"}
        put_values(table, labels[0], theirs, book.lang)
        resolved += 1
    book.conflicts = keep
    return resolved


def finish(book: Book, analyses: dict[str, SheetAnalysis], problems: list[Problem],
            statuses: dict[tuple[str, Any], str]) -> None:
    """Write Change/Status columns, every table, marks, ``_base`` and conflicts, then save."""
    port = book.port
    by_sheet: dict[str, list[Problem]] = {}
    for p in problems:
        if p.sheet is not None:
            by_sheet.setdefault(p.sheet, []).append(p)
    for code, an in analyses.items():
        table = an.table
        texts = status_texts(by_sheet.get(table.sheet, []), book.lang)
        labels = table.raw.index.tolist()
        plans: list[RowPlan | None] = [an.plans.get(lbl) for lbl in labels]
        table.assign(labels, CHANGE, [change_label(p, book.lang) if p else None for p in plans])
        table.assign(labels, STATUS, [texts.get(lbl, statuses.get((code, lbl))) for lbl in labels])
        stale = [p for p in plans if p is not None and p.stale_hash and p.label in table.raw.index]
        table.assign([p.label for p in stale], ROW_HASH,
                     [row_hash(p.current, table.field_codes) for p in stale])
        table.write(port)
        port.mark_cells(table.sheet, problems_to_marks(table, by_sheet.get(table.sheet, []),
                                                       book.lang))
    write_base(port, book.base)
    if book.conflicts_sheet is not None:
        where = {(code, p.id): p.label for code, an in analyses.items()
                 for p in an.plans.values() if p.id}
        for c in book.conflicts:
            t, label = book.tables.get(c.entity), where.get((c.entity, c.id))
            if t is not None and label in t.raw.index:
                c.row = t.sheet_row(label)
        write_conflicts(port, book.conflicts_sheet, book.conflicts, book.dictionary, book.lang)
    write_reference_lists(book, port)
    restore_layouts(port, book.dictionary, book.lang, book.tables, book.conflicts_sheet)


def write_reference_lists(book: Book, port: WorkbookPort) -> None:
    """Dropdown sources of reference fields: the display names now in each sheet."""
    targets = {f.ref for e in book.dictionary for f in e.fields if f.ref}
    for code in [c for c in book.tables if c in targets]:
        table = book.tables[code]
        names = {str(normalize(v)).strip() for v in table.column(table.entity.display_field)
                 if normalize(v) is not None}
        port.write_list(reference_list_name(code), sorted(n for n in names if n))


def rows_of(problems: list[Problem], book: Book) -> list[Problem]:
    """Problems with frame labels turned into the sheet rows the user will see."""
    sheets = {t.sheet: t for t in book.tables.values()}
    out = []
    for p in problems:
        t = sheets.get(p.sheet or "")
        if t is not None and p.row is not None and p.row in t.raw.index:
            p = Problem(p.code, p.message_zh, p.message_en, p.level, p.sheet, t.sheet_row(p.row),
                        p.field)
        out.append(p)
    return out


# push: write the bridge's verdict on every row back ---------------------------------------------
def apply_result(an: SheetAnalysis, plan: RowPlan, res: RowResult, base: BaseStore,
                 conflicts: list[Conflict], lang: str) -> tuple[str | None, list[Problem]]:
    """Update one row after a push; returns its Status text and any problems."""
    table, entity = an.table, an.table.entity
    codes, label, rid = table.field_codes, plan.label, str(plan.id)
    zh = lang == "zh"
    if res.status in ("applied", "merged"):
        if plan.op == "delete":
            table.drop([label])
            base.drop(entity.code, rid)
            return None, []
        values = dict(plan.current)
        server = {c: v for c, v in (res.server or {}).items() if c in codes}
        values.update(server)
        put_values(table, label, server, lang)
        version = res.version or as_int((res.server or {}).get("version")) or 1
        table.set(label, ROW_ID, rid)
        table.set(label, ROW_VERSION, version)
        table.set(label, ROW_HASH, row_hash(values, codes))
        base.put(entity.code, rid, version, values)
        plan.op, plan.dirty = None, False
        if res.status == "merged":
            return (f"已推送，并与他人的修改合并（版本 {version}）" if zh else
                    f"Pushed and merged with others' changes (version {version})"), []
        return (f"已推送（版本 {version}）" if zh else f"Pushed (version {version})"), []
    if res.status == "rejected":
        problems = [Problem(e.code, e.message_zh, e.message_en, "error", table.sheet, label,
                            e.field if e.field in table.cols else None) for e in res.errors]
        return None, problems
    # conflict: take theirs where only they changed, keep mine elsewhere, list the clashes
    b = base.get(entity.code, rid)
    old = dict(b.values) if b else {}
    fields = {fc.field for fc in res.conflicts}
    new_base = dict(old)
    version = b.version if b else (plan.base_version or 1)
    if res.server:
        theirs = {c: v for c, v in res.server.items() if c in codes}
        take = {c: v for c, v in theirs.items() if c not in fields
                and same(plan.current.get(c), old.get(c)) and not same(v, plan.current.get(c))}
        put_values(table, label, take, lang)
        new_base.update(theirs)
        version = as_int(res.server.get("version")) or res.version or version
    for fc in res.conflicts:
        new_base[fc.field] = fc.theirs
    base.put(entity.code, rid, version, new_base)
    table.set(label, ROW_VERSION, version)
    table.set(label, ROW_HASH, row_hash(new_base, codes))
    conflicts[:] = [c for c in conflicts if not (c.entity == entity.code and c.id == rid)]
    problems = [Problem(e.code, e.message_zh, e.message_en, "error", table.sheet, label,
                        e.field if e.field in table.cols else None) for e in res.errors]
    if not res.conflicts and not res.errors:  # e.g. a delete of a record changed since
        problems.append(Problem.of("SERVER_CHANGED_KEPT", "error", sheet=table.sheet,
                                   row=label, field=STATUS))
    for fc in res.conflicts:
        if not entity.has_field(fc.field):
            continue
        f = entity.field(fc.field)
        conflicts.append(Conflict(entity.code, rid, label, fc.field, to_text(fc.base, f, lang),
                                  to_text(fc.theirs, f, lang), to_text(fc.mine, f, lang)))
        problems.append(Problem.of("CONFLICT_UNRESOLVED", "error", sheet=table.sheet,
                                   row=label, field=fc.field))
    return None, problems
