"""Validate a frame of rows against the dictionary: parse every cell, then run pandera lazily.

The add-in runs this on sheet rows before a push and the bridge runs it again on what
arrives, so both sides report the same codes and words. All problems are collected at
once (pandera's ``lazy=True``); nothing stops at the first error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from schema.dictionary import Dictionary
from schema.errors import render
from schema.types import Entity, Field, FieldType
from schema.values import ValueProblem, display_value, parse_value


@dataclass(frozen=True, slots=True)
class CellError:
    """One problem with one cell: where it is, its code, and what is allowed."""

    entity: str
    row: Any  # the frame's index label: a sheet row number or a push row position
    field: str | None
    code: str
    value: Any = None
    allowed: tuple[str, ...] = ()
    message_zh: str = ""
    message_en: str = ""

    def message(self, lang: str) -> str:
        return self.message_zh if lang == "zh" else self.message_en


def cell_error(entity: Entity, row: Any, f: Field | None, code: str, value: Any = None,
               **params: Any) -> CellError:
    """A :class:`CellError` with both messages rendered from the catalogue."""
    allowed: tuple[str, ...] = ()
    if f is not None and f.enum is not None and code == "INVALID_ENUM":
        allowed = tuple(f.enum.codes())
    shown = "" if value is None else str(value)
    zh: dict[str, Any] = {"field": f.zh if f else ""}
    en: dict[str, Any] = {"field": f.en if f else ""}
    if f is not None and f.enum is not None and allowed:
        zh["allowed"] = "、".join(v.zh for v in f.enum.values)
        en["allowed"] = ", ".join(v.en for v in f.enum.values)
    mzh, men = render(code, zh, en, value=shown, **params)
    return CellError(entity.code, row, f.code if f else None, code, value, allowed, mzh, men)


@dataclass
class ValidationResult:
    frame: pd.DataFrame  # canonical values; invalid cells are None
    errors: list[CellError] = field(default_factory=list)

    def bad_rows(self) -> set[Any]:
        return {e.row for e in self.errors}

    @property
    def ok(self) -> bool:
        return not self.errors


_CANONICAL_CHECKS: dict[FieldType, str] = {
    FieldType.DATE: r"^\d{4}-\d{2}-\d{2}$",
    FieldType.DATETIME: r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$",
    FieldType.USCC: r"^[0-9A-HJ-NPQRTUWXY]{18}$",
}


def pandera_schema(entity: Entity, columns: list[str]) -> pa.DataFrameSchema:
    """The pandera schema of ``entity`` restricted to ``columns`` (canonical values)."""
    cols: dict[str, pa.Column] = {}
    for code in columns:
        f = entity.field(code)
        checks: list[pa.Check] = []
        if f.type is FieldType.ENUM and f.enum is not None:
            checks.append(pa.Check.isin(f.enum.codes(), name="INVALID_ENUM"))
        if f.max_length is not None:
            checks.append(pa.Check(lambda s, n=f.max_length: s.astype(str).str.len() <= n,
                                   name="TOO_LONG"))
        if f.type in (FieldType.INTEGER, FieldType.MONEY) and (
                f.min_value is not None or f.max_value is not None):
            lo = f.min_value if f.min_value is not None else float("-inf")
            hi = f.max_value if f.max_value is not None else float("inf")
            checks.append(pa.Check(
                lambda s, lo=lo, hi=hi: s.astype(float).between(lo, hi), name="OUT_OF_RANGE"))
        if f.type in _CANONICAL_CHECKS:
            checks.append(pa.Check.str_matches(_CANONICAL_CHECKS[f.type],
                                               name=f"INVALID_{f.type.upper()}"))
        cols[code] = pa.Column(object, nullable=not f.required, unique=f.unique, checks=checks,
                               required=False)
    return pa.DataFrameSchema(cols, strict=False, name=entity.code)


_PANDERA_CODES = {"not_nullable": "REQUIRED", "field_uniqueness": "DUPLICATE_VALUE"}


def validate_frame(dictionary: Dictionary, entity_code: str, raw: pd.DataFrame,
                   *, require_all: bool = True,
                   trusted: pd.DataFrame | None = None) -> ValidationResult:
    """Parse and check every cell of ``raw`` (columns are field codes, index labels rows).

    ``require_all``: missing required columns are errors on every row (inserts, full
    sheets); with ``False`` only the columns present are checked.
    ``trusted``: a boolean frame like ``raw``; True cells already hold canonical values
    (a stored row's unchanged fields) and skip parsing, not the checks.
    Unknown columns are ignored here; the caller decides whether they are an error.
    """
    entity = dictionary.entity(entity_code)
    present = [c for c in raw.columns if entity.has_field(c)]
    errors: dict[tuple[Any, str | None], CellError] = {}
    data: dict[str, list[Any]] = {}
    for code in present:
        f = entity.field(code)
        out: list[Any] = []
        seen: dict[tuple[type, Any], Any] = {}  # columns repeat values: parse each once
        skip = trusted[code].tolist() if trusted is not None and code in trusted else None
        for i, (row, rawv) in enumerate(zip(raw.index, raw[code].tolist(), strict=True)):
            if skip is not None and skip[i]:
                out.append(rawv)
                continue
            key = (type(rawv), rawv)
            try:
                parsed = seen[key]
            except KeyError:
                try:
                    parsed = seen[key] = parse_value(rawv, f)
                except ValueProblem as p:
                    parsed = seen[key] = p
            except TypeError:  # unhashable raw value
                try:
                    parsed = parse_value(rawv, f)
                except ValueProblem as p:
                    parsed = p
            if isinstance(parsed, ValueProblem):
                out.append(None)
                errors[(row, code)] = cell_error(entity, row, f, parsed.code, parsed.value,
                                                 **parsed.params)
            else:
                out.append(parsed)
        data[code] = out
    frame = pd.DataFrame(data, index=raw.index, columns=present, dtype=object)

    if require_all:
        for f in entity.fields:
            if f.required and f.code not in frame.columns:
                for row in frame.index:
                    errors.setdefault((row, f.code), cell_error(entity, row, f, "REQUIRED"))

    try:
        pandera_schema(entity, present).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples(index=False):
            col, check, row = case.column, str(case.check), case.index
            if col not in present or row is None or (isinstance(row, float) and pd.isna(row)):
                continue
            code = _PANDERA_CODES.get(check, check if check.isupper() else "REQUEST_INVALID")
            f = entity.field(col)
            if (row, col) not in errors:
                errors[(row, col)] = cell_error(entity, row, f, code,
                                                display_value(case.failure_case, f, "en"))

    for (ent, fcode), (other, other_value) in dictionary.required_when.items():
        if ent != entity_code or other not in frame.columns or not entity.has_field(fcode):
            continue
        f, of = entity.field(fcode), entity.field(other)
        mask = frame[other] == other_value
        blank = frame[fcode].isna() if fcode in frame.columns else pd.Series(True, frame.index)
        for row in frame.index[mask & blank]:
            label = of.enum.value(other_value) if of.enum else None
            zh, en = render(
                "REQUIRED_WHEN",
                {"field": f.zh, "other": of.zh, "other_value": label.zh if label else other_value},
                {"field": f.en, "other": of.en, "other_value": label.en if label else other_value},
            )
            errors.setdefault((row, fcode), CellError(entity.code, row, fcode, "REQUIRED_WHEN",
                                                      None, (), zh, en))
    ordered = sorted(errors.values(), key=lambda e: (str(e.row), str(e.field)))
    return ValidationResult(frame, ordered)
