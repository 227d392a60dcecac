"""What changed in a sheet since the last pull, worked out on DataFrames.

Every row carries ``_hash``, a hash of its canonical values as last pulled or pushed. At
Validate and Push a row is: *new* without ``_id``; *update* with ``_id`` when its hash
differs (the changed fields are found by comparing with the ``_base`` merge base);
*delete* only when the user picks 删除/delete in the Change column. Clearing a row never
deletes: it is reported and left alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import pandas as pd

from addin.port import CellMark
from addin.sheets import (
    BaseStore,
    Problem,
    SheetTable,
    as_int,
    norm_text,
    put_values,
    to_cell,
)
from schema.dictionary import Dictionary
from schema.layout import CHANGE, CHANGE_VALUES, ROW_HASH, ROW_ID, ROW_VERSION, STATUS
from schema.types import FieldType
from schema.validation import cell_error, validate_frame
from schema.values import is_blank
from schema.wire import EntityPull

Op = Literal["insert", "update", "delete", "drop"]
_DELETE = {norm_text(x) for x in ("delete", "del", *CHANGE_VALUES["delete"])}


class SortedFields(tuple[str, ...]):
    """Field codes already in hashing order (sort once per table, not once per row)."""

    @classmethod
    def of(cls, fields: Iterable[str]) -> SortedFields:
        return cls(sorted(fields))


def normalize(value: Any) -> Any:
    """A canonical value in the one form used for hashing and comparing."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if hasattr(value, "item"):
        return normalize(value.item())
    return value


def row_hash(values: Mapping[str, Any], fields: Iterable[str]) -> str:
    """Short stable hash of ``values`` over ``fields`` (blank and missing are the same)."""
    order = fields if isinstance(fields, SortedFields) else sorted(fields)
    payload = json.dumps([[f, normalize(values.get(f))] for f in order],
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=8).hexdigest()


def same(a: Any, b: Any) -> bool:
    return bool(normalize(a) == normalize(b))


def clean_id(value: Any) -> str | None:
    return None if is_blank(value) else str(value).strip()


@dataclass
class RowPlan:
    """What one row needs: ``op`` None means nothing to send."""

    label: Any
    op: Op | None
    id: str | None
    current: dict[str, Any]  # canonical values of every field column
    values: dict[str, Any] = field(default_factory=dict)  # what is sent
    base: dict[str, Any] = field(default_factory=dict)
    base_version: int | None = None
    dirty: bool = False  # differs from what was last pulled or pushed
    stale_hash: bool = False  # clean, but ``_hash`` needs rewriting
    cleared: bool = False  # every field blanked by the user (never a delete)


@dataclass
class SheetAnalysis:
    table: SheetTable
    plans: dict[Any, RowPlan]
    errors: list[Problem]  # block the push
    warnings: list[Problem]

    def names(self) -> set[str]:
        """Display names of the records in this sheet (for local reference checks)."""
        display = self.table.entity.display_field
        return {str(p.current.get(display)) for p in self.plans.values()
                if p.op not in ("delete", "drop") and p.current.get(display) is not None}


def _problem(e: Any, sheet: str, level: Literal["error", "warning"] = "error") -> Problem:
    return Problem(e.code, e.message_zh, e.message_en, level, sheet, e.row, e.field)


def analyse(table: SheetTable, dictionary: Dictionary, base: BaseStore,
            writable: set[str] | None = None) -> SheetAnalysis:
    """Parse, validate and classify every row of ``table``."""
    entity, sheet = table.entity, table.sheet
    raw = table.fields_frame()
    blank = raw.map(is_blank).all(axis=1) if raw.shape[1] else pd.Series(True, raw.index)
    result = validate_frame(dictionary, entity.code, raw.loc[~blank])
    canon = result.frame
    codes = table.field_codes
    order = SortedFields.of(codes)
    ids = {label: clean_id(v) for label, v in table.column(ROW_ID).items()}
    deletes = {label: not is_blank(v) and norm_text(v) in _DELETE
               for label, v in table.column(CHANGE).items()}
    hashes, versions = table.column(ROW_HASH), table.column(ROW_VERSION)
    errors_by_row: dict[Any, list[Problem]] = {}
    for e in result.errors:
        errors_by_row.setdefault(e.row, []).append(_problem(e, sheet))
    plans: dict[Any, RowPlan] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    seen: set[str] = set()
    records = canon.to_dict("index")
    for label in raw.index:
        current = {c: records[label][c] for c in codes} if label in records else dict.fromkeys(
            codes)
        rid = ids[label]
        if rid is not None and (rid in seen or table.missing_id):
            warnings.append(Problem.of("ROW_DUPLICATE_ID", "warning", sheet=sheet, row=label,
                                       field=ROW_ID))
            rid = None
        if rid is not None:
            seen.add(rid)
        plan = RowPlan(label, None, rid, current)
        plans[label] = plan
        b = base.get(entity.code, rid) if rid else None
        if deletes[label]:
            plan.op, plan.dirty = ("delete", True) if rid else ("drop", True)
            plan.base_version = as_int(versions[label]) or (b.version if b else None)
            continue
        if blank[label]:
            plan.cleared = rid is not None
            if rid is not None:
                warnings.append(Problem.of("ROW_CLEARED", "warning", sheet=sheet, row=label,
                                           field=STATUS))
            continue
        if rid is None:
            plan.op, plan.dirty, plan.id = "insert", True, None
            plan.values = {c: v for c, v in current.items() if v is not None}
            row_errors = errors_by_row.get(label, [])
        else:
            if str(hashes[label] or "") == row_hash(current, order):
                continue
            old = b.values if b else {}
            changed = [c for c in codes if not same(current[c], old.get(c))]
            plan.stale_hash = not changed
            if not changed:
                continue
            plan.op, plan.dirty = "update", True
            plan.values = {c: current[c] for c in changed}
            plan.base = {c: normalize(old.get(c)) for c in changed}
            plan.base_version = as_int(versions[label]) or (b.version if b else None)
            row_errors = [p for p in errors_by_row.get(label, [])
                          if p.field is None or p.field in changed]
        errors += row_errors
        if writable is not None:
            for c in [c for c in plan.values if c not in writable]:
                warnings.append(Problem.of("FIELD_READ_ONLY", "warning", sheet=sheet,
                                           row=label, field=c, zh={"field": entity.field(c).zh},
                                           en={"field": entity.field(c).en}))
                plan.values.pop(c)
                plan.base.pop(c, None)
            if plan.op == "update" and not plan.values:
                plan.op = None
    return SheetAnalysis(table, plans, errors, warnings)


def check_references(analyses: dict[str, SheetAnalysis], dictionary: Dictionary) -> None:
    """Flag references to names that exist in no sheet (the bridge would refuse them)."""
    names = {code: a.names() for code, a in analyses.items()}
    for a in analyses.values():
        entity = a.table.entity
        refs = [f for f in entity.fields if f.type is FieldType.REFERENCE and f.ref in names
                and f.code in a.table.cols]
        for plan in a.plans.values():
            if plan.op not in ("insert", "update"):
                continue
            for f in refs:
                value = plan.values.get(f.code)
                if value is not None and str(value) not in names[str(f.ref)]:
                    e = cell_error(entity, plan.label, f, "REFERENCE_NOT_FOUND", value)
                    a.errors.append(_problem(e, a.table.sheet))


def change_label(plan: RowPlan, lang: str) -> str | None:
    """The Change column text of a row: 新增/修改/删除 or blank."""
    idx = 0 if lang == "zh" else 1
    kind = {"insert": "new", "update": "update", "delete": "delete", "drop": "delete"}.get(
        plan.op or "")
    if kind is None and plan.dirty:
        kind = "update"
    return CHANGE_VALUES[kind][idx] if kind else None


MAX_MARKS = 1000  # per sheet: every problem is in the Status column; this many get a note


def problems_to_marks(table: SheetTable, problems: list[Problem], lang: str) -> list[CellMark]:
    """Cell marks for problems whose row is still in the table (labels -> sheet rows),
    errors first, at most :data:`MAX_MARKS`."""
    marks: list[CellMark] = []
    problems = sorted(problems, key=lambda p: p.level != "error")
    status_col = table.col_number(STATUS) or 1
    for p in problems:
        if p.row is None or p.row not in table.raw.index:
            continue
        col = table.col_number(p.field) if p.field else None
        kind: Literal["error", "conflict", "warning"] = (
            "conflict" if p.code == "CONFLICT_UNRESOLVED" else
            "error" if p.level == "error" else "warning")
        marks.append(CellMark(table.sheet_row(p.row), col or status_col, kind, p.message(lang)))
        if len(marks) >= MAX_MARKS:
            break
    return marks


def status_texts(problems: list[Problem], lang: str) -> dict[Any, str]:
    """Per row label, the problems joined for the Status column."""
    out: dict[Any, list[str]] = {}
    for p in problems:
        if p.row is not None:
            text = p.message(lang)
            if text not in out.setdefault(p.row, []):
                out[p.row].append(text)
    return {k: "；".join(v) if lang == "zh" else "; ".join(v) for k, v in out.items()}


# pull: bring server rows into a sheet, keeping unpushed edits ---------------------------------
def merge_pull(an: SheetAnalysis, ep: EntityPull, full: bool, base: BaseStore,
               lang: str) -> tuple[dict[str, int], list[Problem]]:
    """Update clean rows, add new ones, drop removed ones; dirty rows are kept and marked."""
    table, entity = an.table, an.table.entity
    codes = table.field_codes
    n = len(ep.data.get("id", []))
    server = pd.DataFrame({c: ep.data.get(c, [None] * n) for c in ("id", "version", *codes)},
                          dtype=object)
    server["id"] = server["id"].map(str)
    server = server.drop_duplicates("id", keep="last").set_index("id")
    records = cast(dict[str, dict[str, Any]], server[codes].to_dict("index")) if codes else {
        str(rid): {} for rid in server.index}
    versions = {rid: as_int(v) or 1 for rid, v in server["version"].items()}
    fields = {c: entity.field(c) for c in codes}
    display = pd.DataFrame({c: [to_cell(v, fields[c], lang) for v in server[c]] for c in codes},
                           index=server.index, dtype=object)
    local = {p.id: label for label, p in an.plans.items() if p.id}
    dirty = {p.id for p in an.plans.values() if p.id and p.dirty}
    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    problems: list[Problem] = []
    order = SortedFields.of(codes)
    hashes = {rid: row_hash(records[rid], order) for rid in server.index}
    matched = [rid for rid in server.index if rid in local and rid not in dirty]
    for rid in [r for r in server.index if r in dirty]:
        b = base.get(entity.code, rid)
        if b is None or versions[rid] > b.version:
            counts["kept"] += 1
            problems.append(Problem.of("SERVER_CHANGED_KEPT", "warning", sheet=table.sheet,
                                       row=local[rid], field=STATUS))
    changed = [r for r in matched if hashes[r] != row_hash(an.plans[local[r]].current, order)
               or versions[r] != as_int(table.get(local[r], ROW_VERSION))]
    counts["updated"] = len(changed)
    labels = [local[r] for r in matched]
    for label in labels:
        an.plans[label].stale_hash = False
    for c in codes:
        table.assign(labels, c, display.loc[matched, c].tolist())
    table.assign(labels, ROW_VERSION, [versions[r] for r in matched])
    table.assign(labels, ROW_HASH, [hashes[r] for r in matched])
    added = [r for r in server.index if r not in local]
    counts["added"] = len(added)
    rows = cast(dict[str, dict[str, Any]], display.loc[added].to_dict("index")) if codes else {
        r: {} for r in added}
    table.append_rows([{**rows[r], ROW_ID: r, ROW_VERSION: versions[r], ROW_HASH: hashes[r]}
                       for r in added])
    for rid in (*matched, *added):
        base.put(entity.code, rid, versions[rid], records[rid])
    removed = {str(r) for r in ep.removed}
    if full:
        removed |= set(local) - set(server.index)
    problems += _restore(an, base, set(server.index) | removed, lang, order)
    drop: list[Any] = []
    for rid in sorted(removed):
        if rid in dirty and rid in local:
            counts["kept"] += 1
            problems.append(Problem.of("REMOVED_KEPT", "warning", sheet=table.sheet,
                                       row=local[rid], field=STATUS))
            continue
        if rid in local:
            drop.append(local[rid])
            counts["removed"] += 1
        base.drop(entity.code, rid)
    table.drop(drop)
    for label in drop:
        an.plans.pop(label, None)
    return counts, problems


def _restore(an: SheetAnalysis, base: BaseStore, handled: set[str], lang: str,
             order: SortedFields) -> list[Problem]:
    """Put back, from ``_base``, records the user cleared or deleted from the sheet: only
    the Change column deletes."""
    table, code = an.table, an.table.entity.code
    cleared = {p.id: p.label for p in an.plans.values() if p.cleared and p.id}
    present = {p.id for p in an.plans.values() if p.id}
    problems: list[Problem] = []
    for rid, label in cleared.items():
        b = base.get(code, rid)
        if b is not None and rid not in handled:
            put_values(table, label, b.values, lang)
            table.set(label, ROW_HASH, row_hash(b.values, order))
            problems.append(Problem.of("ROW_RESTORED", "warning", sheet=table.sheet, row=label,
                                       field=STATUS))
    gone = [] if table.missing_id else [(rid, b) for (e, rid), b in base.rows.items()
                                        if e == code and rid not in present
                                        and rid not in handled]
    fields = {c: table.entity.field(c) for c in table.field_codes}
    labels = table.append_rows([{**{c: to_cell(b.values.get(c), f, lang)
                                    for c, f in fields.items()},
                                 ROW_ID: rid, ROW_VERSION: b.version,
                                 ROW_HASH: row_hash(b.values, order)} for rid, b in gone])
    problems += [Problem.of("ROW_RESTORED", "warning", sheet=table.sheet, row=label,
                            field=STATUS) for label in labels]
    return problems
