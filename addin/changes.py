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
from dataclasses import dataclass
from typing import Any, Literal, cast

import pandas as pd

from addin.sheets import BaseRow, BaseStore, Problem, RowPlan, Sheet, as_int, norm_text
from addin.types import FrameLabel, RecordId
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.layout import CHANGE, CHANGE_VALUES, ROW_HASH, ROW_ID, ROW_VERSION, STATUS
from schema.names import name_key
from schema.types import FieldType
from schema.validation import cell_error, validate_frame
from schema.values import is_blank

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


def clean_id(value: Any) -> RecordId | None:
    return None if is_blank(value) else str(value).strip()


def _problem(e: Any, sheet: str, level: Literal["error", "warning"] = "error") -> Problem:
    return Problem(e.code, e.message_zh, e.message_en, level, sheet, e.row, e.field)


@dataclass
class _Cells:
    """The system columns of a sheet, read once for every row."""

    ids: dict[FrameLabel, RecordId | None]
    deletes: dict[FrameLabel, bool]
    hashes: pd.Series
    versions: pd.Series

    @classmethod
    def of(cls, sheet: Sheet) -> _Cells:
        return cls({cast(FrameLabel, label): clean_id(v)
                    for label, v in sheet.column(ROW_ID).items()},
                   {cast(FrameLabel, label): not is_blank(v) and norm_text(v) in _DELETE
                    for label, v in sheet.column(CHANGE).items()},
                   sheet.column(ROW_HASH), sheet.column(ROW_VERSION))

    def base_version(self, label: FrameLabel, b: BaseRow | None) -> int | None:
        return as_int(self.versions[label]) or (b.version if b else None)


def analyse(sheet: Sheet, dictionary: Dictionary, base: BaseStore,
            writable: set[str] | None = None) -> None:
    """Parse, validate and classify every row of ``sheet``: fills its plans, and its
    problems with what would keep a row from being sent (errors) or should be known."""
    entity = sheet.entity
    raw = sheet.fields_frame()
    blank = raw.map(is_blank).all(axis=1) if raw.shape[1] else pd.Series(True, raw.index)
    result = validate_frame(dictionary, entity.code, raw.loc[~blank])
    errors_by_row: dict[FrameLabel, list[Problem]] = {}
    for e in result.errors:
        errors_by_row.setdefault(e.row, []).append(_problem(e, sheet.sheet))
    cells, codes = _Cells.of(sheet), sheet.field_codes
    order = SortedFields.of(codes)
    records = result.frame.to_dict("index")
    seen: set[RecordId] = set()
    sheet.plans = {}
    for label in raw.index:
        current = ({c: records[label][c] for c in codes} if label in records
                   else dict.fromkeys(codes))
        plan = RowPlan(label, None, _unique_id(sheet, label, cells.ids[label], seen), current)
        sheet.plans[label] = plan
        b = base.get(entity.code, plan.id) if plan.id else None
        if cells.deletes[label]:
            plan.op, plan.dirty = ("delete", True) if plan.id else ("drop", True)
            plan.base_version = cells.base_version(label, b)
        elif blank[label]:
            _plan_cleared(sheet, plan)
        elif plan.id is None:
            _plan_insert(plan)
            sheet.problems += errors_by_row.get(label, [])
        elif _plan_update(plan, str(cells.hashes[label] or ""), order, b,
                          {p.field for p in errors_by_row.get(label, []) if p.field}):
            plan.base_version = cells.base_version(label, b)
            sheet.problems += [p for p in errors_by_row.get(label, [])
                               if p.field is None or p.field in plan.values]
        if writable is not None:
            _drop_read_only(sheet, plan, writable)


def _unique_id(sheet: Sheet, label: FrameLabel, rid: RecordId | None,
               seen: set[RecordId]) -> RecordId | None:
    """The row's record id, or None when another row (or a lost ``_id`` column) has it."""
    if rid is None:
        return None
    if rid in seen or sheet.missing_id:
        sheet.problems.append(Problem.of(ErrorCode.ROW_DUPLICATE_ID, "warning", sheet=sheet.sheet,
                                         row=label, field=ROW_ID))
        return None
    seen.add(rid)
    return rid


def _plan_cleared(sheet: Sheet, plan: RowPlan) -> None:
    """Every field blanked: never a delete; a stored record's row is reported."""
    plan.cleared = plan.id is not None
    if plan.cleared:
        sheet.problems.append(Problem.of(ErrorCode.ROW_CLEARED, "warning", sheet=sheet.sheet,
                                         row=plan.label, field=STATUS))


def _plan_insert(plan: RowPlan) -> None:
    plan.op, plan.dirty = "insert", True
    plan.values = {c: v for c, v in plan.current.items() if v is not None}


def _plan_update(plan: RowPlan, stored_hash: str, order: SortedFields,
                 b: BaseRow | None, invalid: set[str]) -> bool:
    """An update of the fields that differ from ``_base``; False when nothing changed
    (a row whose ``_hash`` alone is out of date is only marked for rewriting). A field in
    ``invalid`` (its cell failed validation) counts as changed even though its parsed value
    is empty: the user typed something there, and the row is held with the error."""
    if not invalid and stored_hash == row_hash(plan.current, order):
        return False
    old = b.values if b else {}
    changed = [c for c, v in plan.current.items() if not same(v, old.get(c)) or c in invalid]
    plan.stale_hash = not changed
    if not changed:
        return False
    plan.op, plan.dirty = "update", True
    plan.values = {c: plan.current[c] for c in changed}
    plan.base = {c: normalize(old.get(c)) for c in changed}
    return True


def _drop_read_only(sheet: Sheet, plan: RowPlan, writable: set[str]) -> None:
    """Fields the user may not change are not sent (each one is reported)."""
    entity = sheet.entity
    for c in [c for c in plan.values if c not in writable]:
        sheet.problems.append(Problem.of(ErrorCode.FIELD_READ_ONLY, "warning", sheet=sheet.sheet,
                                         row=plan.label, field=c,
                                         zh={"field": entity.field(c).zh},
                                         en={"field": entity.field(c).en}))
        plan.values.pop(c)
        plan.base.pop(c, None)
        plan.unsent.add(c)
    if plan.op == "update" and not plan.values:
        plan.op = None


def check_references(sheets: dict[str, Sheet]) -> None:
    """Flag references to names that exist in no sheet (the bridge would refuse them)."""
    names = {code: s.names() for code, s in sheets.items()}
    for sheet in sheets.values():
        entity = sheet.entity
        refs = [f for f in entity.fields if f.type is FieldType.REFERENCE and f.ref in names
                and f.code in sheet.cols]
        for plan in sheet.plans.values():
            if plan.op not in ("insert", "update"):
                continue
            for f in refs:
                value = plan.values.get(f.code)
                if value is not None and name_key(str(value)) not in names[str(f.ref)]:
                    e = cell_error(entity, plan.label, f, ErrorCode.REFERENCE_NOT_FOUND, value)
                    sheet.problems.append(_problem(e, sheet.sheet))
