"""What the store can hold, derived from the SQL column types (``schema.sql``).

Every value that reaches the database is checked against these limits first, so bad input
is a precise 4xx naming the field instead of a database error (a 500): text without NUL
and lone surrogates (PostgreSQL and UTF-8 cannot hold them) or other characters an XML
workbook cannot hold, at most the column's length; integers and amounts inside the
column's range; dates and datetimes inside what Python, PostgreSQL and a UTC+08:00
conversion can represent. ``sqlalchemy`` is imported on first use only (the add-in parses
values too and does not otherwise need it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from schema.types import Field, FieldType

# U+0000 (PostgreSQL text cannot hold it), the other C0 controls XML 1.0 forbids (a workbook
# cannot hold them), lone surrogates (not UTF-8) and the two XML non-characters
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# the instants every backend and a conversion to any UTC offset can represent
DATETIME_MIN = datetime(1, 1, 2, tzinfo=UTC)
DATETIME_MAX = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)
DATE_MIN, DATE_MAX = date.min, date.max
MAX_UTC_OFFSET = timedelta(hours=24)  # exclusive: offsets lie strictly within ±24 h

_INT_BITS = {"SmallInteger": 16, "Integer": 32, "BigInteger": 64}


@dataclass(frozen=True, slots=True)
class StoreLimit:
    """The values one column can hold (``None``: no limit of that kind)."""

    max_length: int | None = None  # characters of text
    min_value: Decimal | None = None
    max_value: Decimal | None = None


def unstorable_char(text: str) -> tuple[int, str] | None:
    """``(position, "U+XXXX")`` of the first character the store cannot hold, else None."""
    if text.isascii() and "\x00" not in text and text.isprintable():
        return None
    m = _UNSTORABLE.search(text)
    return None if m is None else (m.start(), f"U+{ord(m.group()):04X}")


def type_limit(sql_type: Any) -> StoreLimit:
    """The limit of a SQLAlchemy column type (integers by width, numerics by precision)."""
    kind = type(sql_type).__name__
    if kind in _INT_BITS:
        top = 2 ** (_INT_BITS[kind] - 1)
        return StoreLimit(min_value=Decimal(-top), max_value=Decimal(top - 1))
    if kind == "Numeric" and sql_type.precision is not None:
        scale = sql_type.scale or 0
        top = Decimal(10) ** (sql_type.precision - scale) - Decimal(10) ** -scale
        return StoreLimit(min_value=-top, max_value=top)
    length = getattr(sql_type, "length", None)
    return StoreLimit(max_length=length if isinstance(length, int) else None)


_FIELD_LIMITS: dict[int, tuple[Field, StoreLimit]] = {}  # by id(field): parsing is hot


def field_limit(f: Field) -> StoreLimit:
    """What the column of ``f`` can hold (a reference column holds an id, but the pushed
    value is the referenced record's name: only its characters are limited)."""
    found = _FIELD_LIMITS.get(id(f))
    if found is not None and found[0] is f:
        return found[1]
    from schema.sql import column_type  # sqlalchemy, once

    limit = StoreLimit() if f.type is FieldType.REFERENCE else type_limit(column_type(f))
    if len(_FIELD_LIMITS) > 4096:
        _FIELD_LIMITS.clear()
    _FIELD_LIMITS[id(f)] = (f, limit)
    return limit


_BOUNDS: dict[tuple[Any, ...], tuple[Field, tuple[Decimal, Decimal]]] = {}


def value_bounds(f: Field, precision: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """The inclusive range of a number field: the dictionary's bounds inside the column's
    (and inside ``±precision``, the largest magnitude a parser keeps exactly)."""
    key = (id(f), precision)
    found = _BOUNDS.get(key)
    if found is not None and found[0] is f:
        return found[1]
    if len(_BOUNDS) > 4096:
        _BOUNDS.clear()
    bounds = _bounds(f, precision)
    _BOUNDS[key] = (f, bounds)
    return bounds


def _bounds(f: Field, precision: Decimal | None) -> tuple[Decimal, Decimal]:
    lim = field_limit(f)
    lo = [Decimal(str(v)) for v in (f.min_value, lim.min_value) if v is not None]
    hi = [Decimal(str(v)) for v in (f.max_value, lim.max_value) if v is not None]
    if precision is not None:
        lo.append(-precision)
        hi.append(precision)
    return max(lo), min(hi)


def number_text(d: Decimal | float | int) -> str:
    """A bound as a person writes it: ``0``, ``5``, ``999999999999999.99``."""
    dec = Decimal(str(d))
    return str(dec.quantize(Decimal(1))) if dec == dec.to_integral_value() else str(dec)
