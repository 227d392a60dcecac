"""Checking staged source rows with the same rules as a push: known and writable fields,
then the dictionary's own validation (``schema.validation``), which gives each value its
canonical form. An invalid row gets ``ErrorItem``s naming the entity, the field and the
source row; nothing about it is written."""

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
from schema.values import is_blank
from schema.wire import ErrorItem

CHUNK = 20_000  # rows validated in one frame

Canonical = dict[str, dict[str, Any]]  # entity -> field -> canonical value


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
            s = part[int(e.row)]
            errors.setdefault(s.source_row, []).append(from_cell(e, s.source_row, None))
        frame = result.frame
        names = [c for c in frame.columns if c in codes]
        cols = [frame[c].tolist() for c in names]
        for i, (s, v) in enumerate(zip(part, vals, strict=True)):
            if s.source_row not in errors:
                out.setdefault(s.source_row, {})[entity.code] = {
                    c: col[i] for c, col in zip(names, cols, strict=True) if c in v}


def validate_rows(dictionary: Dictionary, user: User, main: str, rows: Sequence[Staged]
                  ) -> tuple[dict[int, Canonical], dict[int, list[ErrorItem]]]:
    """The canonical values of every valid row (by source row), and the errors of the
    others. A related entity (a row's contact) is checked only when the row carries it;
    its reference to the main record is the row's own record, filled in at confirm."""
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
            todo.append(s)
            name = s.values.get(main, {}).get(dictionary.entity(main).display_field)
            values.append({**v, **{r: name or "-" for r in refs}} if code != main else v)
        _frame_check(dictionary, entity, todo, values, errors, out)
    for n in errors:
        out.pop(n, None)
    return out, errors
