"""Map a foreign table's columns to dictionary fields: suggest, override, check, apply.

``suggest_mapping`` matches each column label against the targets of an import: the main
entity's fields and, for a customer import, its contact's (one source row may carry a
customer and its contact, imported together and linked). A label matches a target by its
dictionary labels (zh and en) and ``schema.synonyms.FIELD_SYNONYMS``, first exactly after
folding (``addin.importing.header.fold_label``: width, case, brackets, spaces, a trailing
``(必填)``/``*``), then with rapidfuzz for near labels; each target is used once, the main
entity's fields first. Other entities name their customer (or order) by its display name,
so a ``客户`` column of an opportunity import maps to ``opportunity.customer``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz

from addin.errors import AddinError
from addin.importing.header import fold_label
from addin.importing.source import IGNORED, Cell, Mapping, SourceTable
from schema.dictionary import Dictionary
from schema.errors import ErrorCode, Lang
from schema.synonyms import FIELD_SYNONYMS, HISTORY_FIELDS
from schema.wire import RowHistory, Scalar
from schema.wire_import import VERIFIED_ON, ImportRow

RIDERS: dict[str, tuple[str, ...]] = {"customer": ("contact",)}  # entities a row may carry
FUZZY_CUTOFF = 82.0
_IGNORE_WORDS = {"", "-", "ignore", "none", "忽略", "不导入"}


def riders(entity: str) -> tuple[str, ...]:
    """The entities a source row of ``entity`` may carry besides its own."""
    return RIDERS.get(entity, ())


def targets(dictionary: Dictionary, entity: str, *, history: bool = False) -> list[str]:
    """Every ``entity.field`` an import of ``entity`` may fill, in priority order."""
    out: list[str] = []
    for ent_code in (entity, *riders(entity)):
        ent = dictionary.entity(ent_code)
        for f in ent.fields:
            if ent_code != entity and f.code == ent.parent:
                continue  # the rider's link to the main row is made by the import itself
            out.append(f"{ent_code}.{f.code}")
        if history:
            out += [f"{ent_code}.{h}" for h in HISTORY_FIELDS]
        if ent_code == entity and entity in RIDERS:  # an importable entity's rows' date
            out.append(f"{entity}.{VERIFIED_ON}")
    return out


def _labels(dictionary: Dictionary, target: str) -> list[str]:
    ent_code, _, code = target.partition(".")
    ent = dictionary.entity(ent_code)
    own = [ent.field(code).zh, ent.field(code).en] if ent.has_field(code) else []
    return [fold_label(s) for s in (*own, *FIELD_SYNONYMS.get(target, ()))]


def _fuzzy(label: str, candidate: str) -> float:
    score = fuzz.ratio(label, candidate)
    shorter = min(len(label), len(candidate))
    if shorter >= 2:  # "备注说明" holds "备注"; a short label weighs a little less
        score = max(score, (0.9 if shorter >= 3 else 0.85) * fuzz.partial_ratio(label, candidate))
    return score


def suggest_mapping(columns: Sequence[str], dictionary: Dictionary, entity: str, *,
                    history: bool = False) -> Mapping:
    """A mapping of every column (``IGNORED`` when nothing fits); see the module docstring.
    ``history``: also offer the dated history an admin's import may carry (created-at,
    closed-at)."""
    dictionary.entity(entity)  # KeyError for an unknown entity, before anything else
    order = targets(dictionary, entity, history=history)
    labels = {t: _labels(dictionary, t) for t in order}
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:  # exact labels first, for every column
        key = fold_label(col)
        hit = next((t for t in order if t not in used and key in labels[t]), None)
        if hit is not None:
            chosen[col] = hit
            used.add(hit)
    for col in columns:  # then near labels for the columns left
        if col in chosen or not fold_label(col):
            continue
        key = fold_label(col)
        scored = [(max(_fuzzy(key, lab) for lab in labels[t]), -i, t)
                  for i, t in enumerate(order) if t not in used and labels[t]]
        best = max(scored, default=None)
        if best is not None and best[0] >= FUZZY_CUTOFF:
            chosen[col] = best[2]
            used.add(best[2])
    return Mapping(entity=entity, columns={c: chosen.get(c, IGNORED) for c in columns})


def guess_entity(columns: Sequence[str], dictionary: Dictionary) -> str:
    """The entity a table most likely holds, when the user names none: the one whose
    suggested mapping fills all its required fields, then the most columns matched exactly
    and the most columns at all (its riders' included: a customer row carrying its
    contact); customer first among equals, the dictionary's order after it."""
    best, best_key = "customer", (-1, -1, -1, 0)
    for order, ent in enumerate(dictionary):
        m = suggest_mapping(columns, dictionary, ent.code)
        mapped = [(c, t) for c, t in m.columns.items() if t != IGNORED]
        exact = sum(1 for c, t in mapped if fold_label(c) in _labels(dictionary, t))
        complete = not any(t.startswith(f"{ent.code}.") for t in missing_required(m, dictionary))
        key = (int(complete), exact, len(mapped), -order)
        if key > best_key:
            best, best_key = ent.code, key
    return best


def _allowed_text(items: Iterable[str], limit: int = 40) -> str:
    items = list(items)
    return "、".join(items[:limit]) + (" …" if len(items) > limit else "")


def _resolve_target(text: str, mapping: Mapping, allowed: list[str]) -> str:
    """``customer.name``, a bare field of the main entity (``name``), or an ignore word."""
    text = text.strip()
    if text.casefold() in _IGNORE_WORDS:
        return IGNORED
    target = text if "." in text else f"{mapping.entity}.{text}"
    if target not in allowed:
        raise AddinError(ErrorCode.IMPORT_MAPPING_UNKNOWN_FIELD, field=text,
                         allowed=_allowed_text(allowed))
    return target


def apply_overrides(mapping: Mapping, overrides: Sequence[str], dictionary: Dictionary, *,
                    history: bool = False) -> Mapping:
    """``mapping`` with ``COLUMN=FIELD`` overrides applied (``COLUMN=`` ignores a column).
    A field taken from another column leaves that column ignored; an unknown column or
    field, or one field given twice, is an ``AddinError`` naming it and what is allowed."""
    allowed = targets(dictionary, mapping.entity, history=history)
    columns = dict(mapping.columns)
    given: dict[str, str] = {}
    for item in overrides:
        col, sep, text = item.rpartition("=")
        col = col.strip()
        if not sep or not col:
            raise AddinError(ErrorCode.IMPORT_MAPPING_SYNTAX, value=item)
        if col not in columns:
            raise AddinError(ErrorCode.IMPORT_MAPPING_UNKNOWN_COLUMN, column=col,
                             allowed=_allowed_text(columns))
        target = _resolve_target(text, mapping, allowed)
        if target != IGNORED and target in given and given[target] != col:
            raise AddinError(ErrorCode.IMPORT_MAPPING_DUPLICATE, field=target, column=col,
                             other=given[target])
        for other, t in columns.items():
            if target != IGNORED and t == target and other != col:
                columns[other] = IGNORED
        columns[col] = target
        if target != IGNORED:
            given[target] = col
    return Mapping(entity=mapping.entity, columns=columns, name=mapping.name)


def missing_required(mapping: Mapping, dictionary: Dictionary) -> list[str]:
    """Required ``entity.field``\\ s no column fills: the main entity's, and a rider's
    when any of its fields is mapped (its link to the main row excepted)."""
    mapped = set(mapping.columns.values())
    out: list[str] = []
    for ent_code in (mapping.entity, *riders(mapping.entity)):
        ent = dictionary.entity(ent_code)
        if ent_code != mapping.entity and not any(t.startswith(f"{ent_code}.") for t in mapped):
            continue
        out += [f"{ent_code}.{f.code}" for f in ent.fields if f.required
                and not (ent_code != mapping.entity and f.code == ent.parent)
                and f"{ent_code}.{f.code}" not in mapped]
    return out


def require_complete(mapping: Mapping, dictionary: Dictionary, lang: Lang = "zh") -> None:
    """Raise ``IMPORT_MAPPING_MISSING`` for the first required field no column fills."""
    missing = missing_required(mapping, dictionary)
    if missing:
        ent_code, _, code = missing[0].partition(".")
        label = dictionary.entity(ent_code).field(code)
        raise AddinError(ErrorCode.IMPORT_MAPPING_MISSING, field=label.label(lang),
                         target=missing[0])


def scalar(value: Cell) -> Scalar:
    """A cell as the JSON scalar a field's parser reads: dates and times ISO, integral
    floats as int, text stripped; None for a blank (or a NaN/infinite number)."""
    if value is None:
        return None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value).strip()
    return text or None


def mapped_rows(table: SourceTable, mapping: Mapping, first_source_row: int,
                verified_on: str | None = None) -> list[ImportRow]:
    """The table's rows as ``ImportRow``\\ s: ``source_row`` counts on from
    ``first_source_row``, ``sheet`` is ``file › sheet``, ``line`` the row in the sheet;
    blank cells are left out, history columns go to ``history``, the ``verified_on``
    column to ``ImportRow.verified_on`` (``verified_on``: the file's date for rows
    without their own, such as the day it was exported)."""
    where = table.file if table.sheet is None else f"{table.file} › {table.sheet}"
    plan = [(i, t.partition(".")) for i, col in enumerate(table.columns)
            if (t := mapping.columns.get(col, IGNORED)) != IGNORED]
    out: list[ImportRow] = []
    for n, (row, line) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        values: dict[str, dict[str, Scalar]] = {}
        history: dict[str, dict[str, str]] = {}
        verified = verified_on
        for i, (ent, _, fld) in plan:
            v = scalar(row[i]) if i < len(row) else None
            if v is None:
                continue
            if fld == VERIFIED_ON:
                verified = str(v)[:40]
            elif fld in HISTORY_FIELDS:
                history.setdefault(ent, {})[fld] = str(v)
            else:
                values.setdefault(ent, {})[fld] = v
        values.setdefault(mapping.entity, {})
        out.append(ImportRow(source_row=first_source_row + n, sheet=where, line=line,
                             values=values, verified_on=verified,
                             history={e: RowHistory.model_validate(h)
                                      for e, h in history.items()}))
    return out


def reuse_mapping(saved: Mapping, columns: list[str], dictionary: Dictionary, *,
                  history: bool = False) -> Mapping:
    """``saved`` applied to a file with ``columns``: a column whose folded label a saved
    column has takes its target (if the dictionary still has it and no earlier column took
    it), any other column its suggestion."""
    allowed = set(targets(dictionary, saved.entity, history=history))
    by_label = {fold_label(c): t for c, t in saved.columns.items()}
    suggested = suggest_mapping(columns, dictionary, saved.entity, history=history)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        target = by_label.get(fold_label(col))
        if target is not None and (target == IGNORED or target in allowed):
            out[col] = target if target not in taken else IGNORED
        else:
            out[col] = IGNORED
        taken.add(out[col])
    for col in columns:  # columns the saved mapping did not know: the suggestion
        guess = suggested.columns[col]
        if fold_label(col) not in by_label and guess not in taken:
            out[col] = guess
            taken.add(guess)
    return Mapping(saved.entity, out, saved.name)
