"""Checking staged source rows with the same rules as a push: known and writable fields,
then the dictionary's own validation (``schema.validation``), which gives each value its
canonical form. An invalid row gets ``ErrorItem``s naming the entity, the field and the
source row; nothing about it is written.

Two rules differ from a push, since an import's rows are decided together:

- a unique value (the USCC) shared by rows of one file is not a clash here: rows of one
  cluster are one legal entity and fold into one record; the dry run reports a value
  shared by rows of two different clusters (``unique_clashes``);
- a USCC with a bad check character is a hint for matching, not a reason to refuse the
  row: the row is imported without it, with the warning ``IMPORT_USCC_DROPPED``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from bridge.auth import User
from bridge.errors import from_cell, item
from bridge.imports.store import IMPORTABLE, Staged
from bridge.sync.batch import scope_default
from schema.dictionary import Dictionary
from schema.errors import ErrorCode
from schema.permissions import writable_fields
from schema.types import SCOPE_FIELDS, Entity, FieldType
from schema.validation import validate_frame
from schema.values import ValueProblem, is_blank, value_parser
from schema.wire import ErrorItem, WarningItem

CHUNK = 20_000  # rows validated in one frame

Canonical = dict[str, dict[str, Any]]  # entity -> field -> canonical value
HINT_TYPES = frozenset({FieldType.USCC})  # a bad value of these is dropped with a warning


def present(values: dict[str, Any]) -> bool:
    """Whether a row carries any non-blank value for an entity."""
    return any(not is_blank(v) for v in values.values())


def _shape(entity: Entity, user: User, writable: set[str], s: Staged,
           values: dict[str, Any]) -> list[ErrorItem]:
    """Unknown fields and fields the user may not write (a blank or own scope value is
    allowed, as in a push)."""
    errs: list[ErrorItem] = []
    if values.keys() <= writable:
        return errs
    for code, v in values.items():
        if not entity.has_field(code):
            errs.append(item(ErrorCode.UNKNOWN_FIELD, entity=entity.code, row=s.source_row,
                             field=code))
        elif code not in writable and not (code in SCOPE_FIELDS and (
                is_blank(v) or v == scope_default(user, code))):
            errs.append(item(ErrorCode.FIELD_READ_ONLY, entity=entity.code, row=s.source_row,
                             field=entity.field(code)))
    return errs


def _frame_check(dictionary: Dictionary, entity: Entity, rows: Sequence[Staged],
                 values: list[dict[str, Any]], errors: dict[int, list[ErrorItem]],
                 out: dict[int, Canonical]) -> None:
    """Validate ``values`` (one per staged row) as inserts of ``entity``; fill ``out``
    with the canonical values of the fields each row sent, ``errors`` with the problems."""
    # the fields sent and the required ones (a missing required field is an error)
    sent = {c for v in values for c in v} | {f.code for f in entity.fields if f.required}
    codes = [c for c in entity.field_codes() if c in sent]
    for start in range(0, len(rows), CHUNK):
        part, vals = rows[start:start + CHUNK], values[start:start + CHUNK]
        raw = pd.DataFrame({c: [v.get(c) for v in vals] for c in codes},
                           index=pd.RangeIndex(len(part)), dtype=object)
        result = validate_frame(dictionary, entity.code, raw)
        for e in result.errors:
            if e.code is ErrorCode.DUPLICATE_VALUE:  # decided per cluster by the dry run
                continue
            s = part[int(e.row)]
            errors.setdefault(s.source_row, []).append(from_cell(e, s.source_row, None))
        frame = result.frame
        names = [c for c in frame.columns if c in codes]
        cols = [frame[c].tolist() for c in names]
        for i, (s, v) in enumerate(zip(part, vals, strict=True)):
            if s.source_row not in errors:
                out.setdefault(s.source_row, {})[entity.code] = {
                    c: col[i] for c, col in zip(names, cols, strict=True) if c in v}


def _drop_hints(entity: Entity, s: Staged, values: dict[str, Any],
                warnings: dict[int, list[WarningItem]]) -> dict[str, Any]:
    """``values`` without the hint-only fields whose value does not parse (a USCC with a
    wrong check character), each dropped one a warning naming the field and the value."""
    bad: list[str] = []
    for f in entity.fields:
        v = values.get(f.code)
        if f.type not in HINT_TYPES or is_blank(v):
            continue
        try:
            value_parser(f)(v)
        except ValueProblem:
            bad.append(f.code)
            said = item(ErrorCode.IMPORT_USCC_DROPPED, entity=entity.code, row=s.source_row,
                        field=f, value=str(v), row_no=s.source_row)
            warnings.setdefault(s.source_row, []).append(
                WarningItem(**said.model_dump(), params={"value": str(v)}))
    return {k: v for k, v in values.items() if k not in bad} if bad else values


def validate_rows(dictionary: Dictionary, user: User, main: str, rows: Sequence[Staged],
                  warnings: dict[int, list[WarningItem]] | None = None,
                  ) -> tuple[dict[int, Canonical], dict[int, list[ErrorItem]]]:
    """The canonical values of every valid row (by source row), and the errors of the
    others. A related entity (a row's contact) is checked only when the row carries it;
    its reference to the main record is the row's own record, filled in at confirm.
    ``warnings`` (when given) gets the advice on rows still imported (a dropped USCC)."""
    warnings = {} if warnings is None else warnings
    errors: dict[int, list[ErrorItem]] = {}
    out: dict[int, Canonical] = {}
    for code in (main, *IMPORTABLE[main]):
        entity = dictionary.entity(code)
        refs = [f.code for f in entity.fields if f.type is FieldType.REFERENCE and f.ref == main]
        writable = writable_fields(user.role, entity)
        todo: list[Staged] = []
        values: list[dict[str, Any]] = []
        for s in rows:
            v = s.values.get(code, {})
            if code != main and not present(v):
                continue
            if shape := _shape(entity, user, writable, s, v):
                errors.setdefault(s.source_row, []).extend(shape)
                continue
            v = _drop_hints(entity, s, v, warnings)
            todo.append(s)
            name = s.values.get(main, {}).get(dictionary.entity(main).display_field)
            values.append({**v, **{r: name or "-" for r in refs}} if code != main else v)
        _frame_check(dictionary, entity, todo, values, errors, out)
    for n in errors:
        out.pop(n, None)
    return out, errors


def unique_clashes(entity: Entity, rows: Sequence[Staged], canonical: dict[int, Canonical],
                   cluster_of: dict[int, Any]) -> dict[int, list[ErrorItem]]:
    """Rows whose unique value (the USCC) is also held by a row of another cluster: the
    rows of every cluster but the first to hold it, each naming the field and the row
    that holds it first. Rows of one cluster sharing a value are one record."""
    out: dict[int, list[ErrorItem]] = {}
    for f in (f for f in entity.fields if f.unique):
        first: dict[Any, tuple[Any, int]] = {}  # value -> (cluster, source row)
        for s in rows:
            v = canonical.get(s.source_row, {}).get(entity.code, {}).get(f.code)
            if is_blank(v):
                continue
            held = first.setdefault(v, (cluster_of.get(s.source_row), s.source_row))
            if held[0] != cluster_of.get(s.source_row):
                out.setdefault(s.source_row, []).append(item(
                    ErrorCode.IMPORT_UNIQUE_CLASH, entity=entity.code, row=s.source_row,
                    field=f, value=str(v), other=held[1], row_no=s.source_row))
    return out
