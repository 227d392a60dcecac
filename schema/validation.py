"""Validate a frame of rows against the dictionary: parse every cell, then run pandera lazily.

The add-in runs this on sheet rows before a push and the bridge runs it again on what
arrives, so both sides report the same codes and words. All problems are collected at
once (pandera's ``lazy=True``); nothing stops at the first error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from schema.dictionary import Dictionary
from schema.errors import ErrorCode, Lang, render
from schema.types import Entity, Field, FieldType
from schema.values import ValueProblem, display_value, value_parser


@dataclass(frozen=True, slots=True)
class CellError:
    """One problem with one cell: where it is, its code, and what is allowed."""

    entity: str
    row: Any  # the frame's index label: a sheet row number or a push row position
    field: str | None
    code: ErrorCode
    value: Any = None
    allowed: tuple[str, ...] = ()
    message_zh: str = ""
    message_en: str = ""

    def message(self, lang: Lang) -> str:
        return self.message_zh if lang == "zh" else self.message_en


def cell_error(entity: Entity, row: Any, f: Field | None, code: ErrorCode, value: Any = None,
               **params: Any) -> CellError:
    """A :class:`CellError` with both messages rendered from the catalogue."""
    allowed: tuple[str, ...] = ()
    if f is not None and f.enum is not None and code == ErrorCode.INVALID_ENUM:
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


_SCHEMAS: dict[tuple[Any, ...], tuple[tuple[Field, ...], pa.DataFrameSchema]] = {}


def pandera_schema(entity: Entity, columns: list[str],
                   parsed: Collection[str] = ()) -> pa.DataFrameSchema:
    """The pandera schema of ``entity`` restricted to ``columns`` (canonical values).

    ``parsed``: columns whose every cell came out of ``parse_value``; they skip the checks
    parsing has already made, and are left out when nothing remains to check.
    Schemas are remembered by their fields (frozen: a changed field is a new object), since
    building one costs more than validating a small push with it.
    """
    fields = tuple(entity.field(code) for code in columns)
    key = (entity.code, *(id(f) for f in fields), frozenset(parsed) & set(columns))
    hit = _SCHEMAS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], fields, strict=True)):
        return hit[1]
    cols: dict[str, pa.Column] = {}
    for f in fields:
        checks = _value_checks(f, parsed=f.code in parsed)
        if checks or f.required or f.unique or f.code not in parsed:
            # no dtype: every column is object by construction, and checking it per column
            # cost a sixth of a small push
            cols[f.code] = pa.Column(None, nullable=not f.required, unique=f.unique,
                                     checks=checks, required=False)
    schema = pa.DataFrameSchema(cols, strict=False, name=entity.code)
    if len(_SCHEMAS) >= 512:
        _SCHEMAS.clear()
    _SCHEMAS[key] = (fields, schema)
    return schema


def _value_checks(f: Field, *, parsed: bool) -> list[pa.Check]:
    """The checks on one value of ``f``: enum code, length, range, canonical shape.

    With ``parsed``, only those ``parse_value`` does not already make.
    """
    checks: list[pa.Check] = []
    if f.type is FieldType.ENUM and f.enum is not None and not parsed:
        checks.append(pa.Check.isin(f.enum.codes(), name=ErrorCode.INVALID_ENUM))
    if f.max_length is not None and not (
            parsed and f.type in (FieldType.TEXT, FieldType.REFERENCE)):
        checks.append(pa.Check(lambda s, n=f.max_length: s.astype(str).str.len() <= n,
                               name=ErrorCode.TOO_LONG))
    if f.type in (FieldType.INTEGER, FieldType.MONEY) and not parsed and (
            f.min_value is not None or f.max_value is not None):
        lo = f.min_value if f.min_value is not None else float("-inf")
        hi = f.max_value if f.max_value is not None else float("inf")
        checks.append(pa.Check(
            lambda s, lo=lo, hi=hi: s.astype(float).between(lo, hi), name=ErrorCode.OUT_OF_RANGE))
    if f.type in _CANONICAL_CHECKS and not parsed:
        checks.append(pa.Check.str_matches(_CANONICAL_CHECKS[f.type],
                                           name=ErrorCode[f"INVALID_{f.type.upper()}"]))
    return checks


_PLAIN = {str, type(None)}  # cell types that never equal a value of another type


def _parse_column(values: list[Any], parse: Callable[[Any], Any],
                  skip: list[Any] | None) -> tuple[list[Any], dict[int, ValueProblem]]:
    """A column's canonical values (None where a cell is bad) and its problems by position.

    Cells marked in ``skip`` are kept as they are.
    """
    todo: Sequence[int]
    if skip is None:
        todo = range(len(values))
        out, failed = _parse_distinct(values, parse)
    else:
        todo = [i for i, s in enumerate(skip) if not s]
        done, failed = _parse_distinct([values[i] for i in todo], parse)
        out = list(values)
        for i, value in zip(todo, done, strict=True):
            out[i] = value
    problems: dict[int, ValueProblem] = {}
    if failed:
        for i in todo:
            if isinstance(out[i], ValueProblem):
                problems[i], out[i] = out[i], None
    return out, problems


def _parse_distinct(cells: list[Any], parse: Callable[[Any], Any]) -> tuple[list[Any], bool]:
    """``parse`` of every cell, a :class:`ValueProblem` where it fails, and whether any did.

    Columns repeat values: each distinct one (by type and value) is parsed once.
    """
    plain = set(map(type, cells)) <= _PLAIN  # then a value alone tells values apart
    keys: list[Any] = cells if plain else list(zip(map(type, cells), cells, strict=True))
    try:
        known = dict.fromkeys(keys)
    except TypeError:  # an unhashable value: cell by cell
        out = [_attempt(parse, v) for v in cells]
        return out, any(isinstance(v, ValueProblem) for v in out)
    for key in known:
        try:
            known[key] = parse(key if plain else key[1])
        except ValueProblem as p:
            known[key] = p
    return (list(map(known.__getitem__, keys)),
            any(isinstance(v, ValueProblem) for v in known.values()))


def _attempt(parse: Callable[[Any], Any], raw: Any) -> Any:
    try:
        return parse(raw)
    except ValueProblem as p:
        return p


_PANDERA_CODES = {"not_nullable": ErrorCode.REQUIRED, "field_uniqueness": ErrorCode.DUPLICATE_VALUE}


def _failed_check_code(check: str, f: Field) -> ErrorCode:
    """Our error code for a failed pandera check (its built-in checks report their own
    name, e.g. ``isin(...)``, not the name given to them)."""
    if check in _PANDERA_CODES:
        return _PANDERA_CODES[check]
    named = ErrorCode.known(check)  # our own checks are named by their code
    if named is not None:
        return named
    if check.startswith("isin"):
        return ErrorCode.INVALID_ENUM
    if check.startswith("str_matches") and f.type in _CANONICAL_CHECKS:
        return ErrorCode[f"INVALID_{f.type.upper()}"]
    return ErrorCode.REQUEST_INVALID


_Errors = dict[tuple[Any, str | None], CellError]  # (row label, field code) -> first error


def validate_frame(dictionary: Dictionary, entity_code: str, raw: pd.DataFrame,
                   *, require_all: bool = True,
                   trusted: pd.DataFrame | None = None) -> ValidationResult:
    """Parse and check every cell of ``raw`` (columns are field codes, index labels rows).

    ``require_all``: missing required columns are errors on every row (inserts, full
    sheets); with ``False`` only the columns present are checked.
    ``trusted``: a boolean frame like ``raw``; True cells already hold canonical values
    (a stored row's unchanged fields) and skip parsing, not the checks: a column holding
    one keeps every check, while a fully parsed one skips those parsing has made.
    Unknown columns are ignored here; the caller decides whether they are an error.
    """
    entity = dictionary.entity(entity_code)
    present = [c for c in raw.columns if entity.has_field(c)]
    errors: _Errors = {}
    frame, parsed = _parse_columns(entity, raw, present, trusted, errors)
    if require_all:
        _missing_required_columns(entity, frame, errors)
    _failed_checks(entity, frame, present, parsed, errors)
    _required_when(dictionary, entity, frame, errors)
    _required_one_of(dictionary, entity, frame, errors, require_all)
    ordered = sorted(errors.values(), key=lambda e: (str(e.row), str(e.field)))
    return ValidationResult(frame, ordered)


def _parse_columns(entity: Entity, raw: pd.DataFrame, present: list[str],
                   trusted: pd.DataFrame | None,
                   errors: _Errors) -> tuple[pd.DataFrame, set[str]]:
    """The canonical frame of the known columns, and the columns with no trusted cell."""
    data: dict[str, list[Any]] = {}
    parsed: set[str] = set()
    rows = list(raw.index)  # the labels as iterating yields them (Python ints, not numpy's)
    for code in present:
        f = entity.field(code)
        skip = trusted[code].tolist() if trusted is not None and code in trusted else None
        if skip is None or not any(skip):
            parsed.add(code)
            skip = None
        data[code], problems = _parse_column(raw[code].tolist(), value_parser(f), skip)
        for i, p in problems.items():
            errors[(rows[i], code)] = cell_error(entity, rows[i], f, p.code, p.value, **p.params)
    return pd.DataFrame(data, index=raw.index, columns=present, dtype=object), parsed


def _missing_required_columns(entity: Entity, frame: pd.DataFrame, errors: _Errors) -> None:
    for f in entity.fields:
        if f.required and f.code not in frame.columns:
            for row in frame.index:
                errors.setdefault((row, f.code), cell_error(entity, row, f, ErrorCode.REQUIRED))


def _failed_checks(entity: Entity, frame: pd.DataFrame, present: list[str], parsed: set[str],
                   errors: _Errors) -> None:
    """The dictionary's pandera checks, run lazily; the first problem of a cell stays."""
    try:
        pandera_schema(entity, present, parsed).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for case in exc.failure_cases.itertuples(index=False):
            col, check, row = case.column, str(case.check), case.index
            if col not in present or row is None or (isinstance(row, float) and pd.isna(row)):
                continue
            f = entity.field(col)
            if (row, col) not in errors:
                errors[(row, col)] = cell_error(entity, row, f, _failed_check_code(check, f),
                                                display_value(case.failure_case, f, "en"))


def _required_when(dictionary: Dictionary, entity: Entity, frame: pd.DataFrame,
                   errors: _Errors) -> None:
    """Fields required when another field holds a given value (e.g. a lost reason)."""
    for (ent, fcode), (other, other_value) in dictionary.required_when.items():
        if ent != entity.code or other not in frame.columns or not entity.has_field(fcode):
            continue
        f, of = entity.field(fcode), entity.field(other)
        mask = frame[other] == other_value
        blank = frame[fcode].isna() if fcode in frame.columns else pd.Series(True, frame.index)
        label = of.enum.value(other_value) if of.enum else None
        zh, en = render(
            ErrorCode.REQUIRED_WHEN,
            {"field": f.zh, "other": of.zh, "other_value": label.zh if label else other_value},
            {"field": f.en, "other": of.en, "other_value": label.en if label else other_value},
        )
        for row in frame.index[mask & blank]:
            errors.setdefault((row, fcode), CellError(entity.code, row, fcode,
                                                      ErrorCode.REQUIRED_WHEN,
                                                      None, (), zh, en))


def _required_one_of(dictionary: Dictionary, entity: Entity, frame: pd.DataFrame,
                     errors: _Errors, require_all: bool) -> None:
    """Rows that must hold at least one of two fields (an order or a customer): the error
    is on the first. A partial frame holding neither column is not checked."""
    pair = dictionary.required_one_of.get(entity.code)
    if pair is None or not all(entity.has_field(c) for c in pair):
        return
    if not require_all and not any(c in frame.columns for c in pair):
        return
    blank = pd.Series(True, frame.index)
    for c in pair:
        if c in frame.columns:
            blank &= frame[c].isna()
    f, of = entity.field(pair[0]), entity.field(pair[1])
    zh, en = render(ErrorCode.REQUIRED_ONE_OF, {"field": f.zh, "other": of.zh},
                    {"field": f.en, "other": of.en})
    for row in frame.index[blank]:
        errors.setdefault((row, f.code), CellError(entity.code, row, f.code,
                                                   ErrorCode.REQUIRED_ONE_OF, None, (), zh, en))
