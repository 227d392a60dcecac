"""Parse raw cell values (what Excel or a client sends) into canonical field values.

Canonical values are plain JSON scalars, identical on the wire, in comparisons and in the
workbook: text ``str``; integer ``int``; money ``float`` rounded to cents; date ``YYYY-MM-DD``;
datetime ``YYYY-MM-DDTHH:MM:SS+08:00`` style ISO text with an offset; enum the value code;
multi-enum the codes in dictionary order joined by ``;``; boolean ``bool``; phone the
``phonenumbers`` national format for China (international elsewhere) plus `` 转<ext>``;
USCC the compact upper-case code; reference the referenced record's display name.
Parsing a canonical value again returns it unchanged.
"""

from __future__ import annotations

import math
import operator
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from stdnum.cn import uscc as stdnum_uscc

from schema.errors import ErrorCode, Lang
from schema.limits import (
    DATETIME_MAX,
    DATETIME_MIN,
    MAX_UTC_OFFSET,
    field_limit,
    number_text,
    unstorable_char,
    value_bounds,
)
from schema.phones import canonical_phone
from schema.types import Field, FieldType

DEFAULT_TZ = timezone(timedelta(hours=8))  # China Standard Time; naive datetimes mean this
EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_MONEY_PRECISION = Decimal("999999999999999.99")  # below 1e15: exact as a float
_INTEGER_PRECISION = Decimal(10**15 - 1)


class ValueProblem(Exception):
    """A raw value that cannot become a canonical value of its field."""

    def __init__(self, code: ErrorCode, value: Any, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.value = value
        self.params = params


def is_blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, float):
        return math.isnan(raw)
    try:
        import pandas as pd

        return bool(raw is pd.NaT or raw is pd.NA)
    except ImportError:  # pragma: no cover
        return False


def _nfkc(raw: Any) -> str:
    """Text with full-width digits, letters and punctuation folded to ASCII."""
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _text(raw: Any, f: Field) -> str:
    text = raw.strip() if type(raw) is str else _text_of(raw)
    if f.max_length is not None and len(text) > f.max_length:
        raise ValueProblem(ErrorCode.TOO_LONG, text, max=f.max_length, length=len(text))
    return text  # the column's own length is checked by ``_parse``


def _text_of(raw: Any) -> str:
    """The text of a cell that is not a ``str``."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a WeChat id typed as a number comes back from Excel as 12345.0
    if isinstance(raw, bool | datetime | date):
        raise ValueProblem(ErrorCode.INVALID_TEXT, raw)
    return str(raw).strip()


def _decimal(raw: Any, code: ErrorCode) -> Decimal:
    if isinstance(raw, bool):
        raise ValueProblem(code, raw)
    if isinstance(raw, int | float | Decimal):
        d = Decimal(str(raw))
    else:
        s = _nfkc(raw).replace(",", "").replace("¥", "").replace("￥", "").replace("元", "")
        s = s.replace("CNY", "").replace("RMB", "").strip()
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueProblem(code, raw) from None
    if not d.is_finite():
        raise ValueProblem(code, raw)
    return d


def _range(d: Decimal, raw: Any, f: Field, precision: Decimal) -> None:
    """Within the dictionary's bounds and the column's (both named when refused)."""
    lo, hi = value_bounds(f, precision)
    if not lo <= d <= hi:
        raise ValueProblem(ErrorCode.OUT_OF_RANGE, raw, min=number_text(lo), max=number_text(hi))


def _integer(raw: Any, f: Field) -> int:
    d = _decimal(raw, ErrorCode.INVALID_INTEGER)
    if abs(d) >= Decimal("1e15") or d != d.to_integral_value():
        raise ValueProblem(ErrorCode.INVALID_INTEGER, raw)
    _range(d, raw, f, _INTEGER_PRECISION)
    return int(d)


def _money(raw: Any, f: Field) -> float:
    d = _decimal(raw, ErrorCode.INVALID_MONEY)
    if abs(d) >= Decimal("1e15") or d != d.quantize(Decimal("0.01")):
        raise ValueProblem(ErrorCode.INVALID_MONEY, raw)
    _range(d, raw, f, _MONEY_PRECISION)
    return float(d)


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATETIME_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[ T]+"
    r"(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def _excel_serial(raw: float, code: ErrorCode) -> datetime:
    if not 1 <= raw < 2958466:  # Excel's valid range: 1900-01-01 .. 9999-12-31
        raise ValueProblem(code, raw)
    return _EXCEL_EPOCH + timedelta(days=float(raw))


def _date(raw: Any, f: Field) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return _excel_serial(float(raw), ErrorCode.INVALID_DATE).date().isoformat()
    s = _nfkc(raw)
    if s.isdigit() and len(s) == 8:
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE_RE.match(s)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            raise ValueProblem(ErrorCode.INVALID_DATE, raw) from None
    m = _DATETIME_RE.match(s)
    if not m:
        raise ValueProblem(ErrorCode.INVALID_DATE, raw)
    return _clock(m, raw, ErrorCode.INVALID_DATE).date().isoformat()  # the time must be valid too


def _clock(m: re.Match[str], raw: Any, code: ErrorCode) -> datetime:
    """The datetime a ``_DATETIME_RE`` match spells (its offset, if any, attached)."""
    try:
        dt = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
    except ValueError:
        raise ValueProblem(code, raw) from None
    return dt.replace(tzinfo=_offset(m[7], raw)) if m[7] else dt


def _offset(text: str, raw: Any) -> timezone:
    """A UTC offset such as ``Z``, ``+08:00`` or ``-0530``: strictly within ±24 h."""
    if text == "Z":
        return UTC
    off = text.replace(":", "")
    hours, minutes = int(off[1:3]), int(off[3:])
    delta = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or delta >= MAX_UTC_OFFSET:
        raise ValueProblem(ErrorCode.INVALID_UTC_OFFSET, raw, offset=text)
    return timezone(-delta if off[0] == "-" else delta)


def _datetime(raw: Any, f: Field) -> str:
    if isinstance(raw, datetime):
        dt = raw
    elif isinstance(raw, date):
        dt = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        dt = _excel_serial(float(raw), ErrorCode.INVALID_DATETIME)
        dt = dt.replace(microsecond=0) + timedelta(seconds=round(dt.microsecond / 1e6))
    else:
        dt = _datetime_text(_nfkc(raw), raw, f)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=DEFAULT_TZ)
    try:
        in_range = DATETIME_MIN <= dt <= DATETIME_MAX
    except OverflowError:  # an offset pushing the instant off the calendar
        in_range = False
    if not in_range:
        raise ValueProblem(ErrorCode.OUT_OF_RANGE, raw, min=DATETIME_MIN.isoformat(),
                           max=DATETIME_MAX.isoformat())
    return dt.astimezone(DEFAULT_TZ).replace(microsecond=0).isoformat()


def _datetime_text(s: str, raw: Any, f: Field) -> datetime:
    m = _DATETIME_RE.match(s)  # first: its offsets are checked (fromisoformat takes +05:60)
    if m:
        return _clock(m, raw, ErrorCode.INVALID_DATETIME)
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(_date(raw, f))
    except ValueProblem:
        raise ValueProblem(ErrorCode.INVALID_DATETIME, raw) from None


def _enum(raw: Any, f: Field) -> str:
    assert f.enum is not None
    code = f.enum.lookup().get(_nfkc(raw).casefold())
    if code is None:
        raise ValueProblem(ErrorCode.INVALID_ENUM, raw)
    return code


_MULTI_SPLIT = re.compile(r"\s*[;,，；、|]\s*")


def _multi_enum(raw: Any, f: Field) -> str:
    assert f.enum is not None
    lookup, order = f.enum.lookup(), f.enum.codes()
    codes: set[str] = set()
    for part in _MULTI_SPLIT.split(_nfkc(raw)):
        if not part:
            continue
        code = lookup.get(part.casefold())
        if code is None:
            raise ValueProblem(ErrorCode.INVALID_ENUM, part)
        codes.add(code)
    return ";".join(c for c in order if c in codes)


_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")


def _email(raw: Any, f: Field) -> str:
    s = _nfkc(raw)
    if len(s) > 254 or not _EMAIL_RE.match(s) or ".." in s:
        raise ValueProblem(ErrorCode.INVALID_EMAIL, raw)
    local, domain = s.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _phone(raw: Any, f: Field) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = canonical_phone(_nfkc(raw))
    if text is None:
        raise ValueProblem(ErrorCode.INVALID_PHONE, raw)
    return text


# a plain http(s) address whose host has a dot and no user, port or brackets: what urlsplit
# accepts below, without its cost
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?:[/?#][!-~]*)?")


def _url(raw: Any, f: Field) -> str:
    s = _nfkc(raw)
    if "://" not in s:
        s = "https://" + s
    if _PLAIN_URL.fullmatch(s):
        return s
    try:
        parts = urlsplit(s)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        raise ValueProblem(ErrorCode.INVALID_URL, raw) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in s:
        raise ValueProblem(ErrorCode.INVALID_URL, raw)
    return s


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015, as stdnum.cn.uscc
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# per position, each character's term of the weighted sum: value (its alphabet index) * weight
_USCC_TERMS = tuple({c: i * w for i, c in enumerate(_USCC_ALPHABET)} for w in _USCC_WEIGHTS)
_USCC_SHAPE = re.compile(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")  # stdnum's length and format checks


def _fast_uscc(s: str) -> str | None:
    """``stdnum.cn.uscc.validate(s)`` when ``s`` is a well-formed, valid code, else None.

    Spaces and hyphens are the separators stdnum's ``compact`` drops; a code left with any
    other character, or a wrong check digit, takes stdnum's own path.
    """
    code = s.replace(" ", "").replace("-", "")
    if not _USCC_SHAPE.fullmatch(code):
        return None
    total = sum(map(operator.getitem, _USCC_TERMS, code))  # the first 17 characters
    return code if code[17] == _USCC_ALPHABET[(31 - total) % 31] else None


def _uscc(raw: Any, f: Field) -> str:
    s = _nfkc(raw).upper()
    fast = _fast_uscc(s)
    if fast is not None:
        return fast
    try:
        return str(stdnum_uscc.validate(s))
    except Exception:  # stdnum raises several ValidationError subclasses
        raise ValueProblem(ErrorCode.INVALID_USCC, raw) from None


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "不"}


def _boolean(raw: Any, f: Field) -> bool:
    if isinstance(raw, bool):
        return raw
    s = _nfkc(raw).casefold()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(ErrorCode.INVALID_BOOLEAN, raw)


def _reference(raw: Any, f: Field) -> str:
    return _text(raw, f)


PARSERS: dict[FieldType, Callable[[Any, Field], Any]] = {
    FieldType.TEXT: _text,
    FieldType.INTEGER: _integer,
    FieldType.MONEY: _money,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.ENUM: _enum,
    FieldType.MULTI_ENUM: _multi_enum,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.URL: _url,
    FieldType.USCC: _uscc,
    FieldType.BOOLEAN: _boolean,
    FieldType.REFERENCE: _reference,
}


def parse_value(raw: Any, f: Field) -> Any:
    """The canonical value of ``raw`` for field ``f`` (``None`` when blank).

    Raises :class:`ValueProblem` with an error code from ``schema.errors``.
    """
    return _parse(f, PARSERS[f.type], field_limit(f).max_length, raw)


def value_parser(f: Field) -> Callable[[Any], Any]:
    """``parse_value`` for field ``f``, its parser looked up once (for a column of cells)."""
    return partial(_parse, f, PARSERS[f.type], field_limit(f).max_length)


def _parse(f: Field, parser: Callable[[Any, Field], Any], longest: int | None, raw: Any) -> Any:
    """``parser(raw, f)``, blanks and Excel errors aside; text the store cannot hold (a
    character, or more than the column's ``longest`` characters) is refused."""
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if text.upper() in EXCEL_ERRORS:
            raise ValueProblem(ErrorCode.EXCEL_ERROR_VALUE, text.upper())
        bad = unstorable_char(text)
        if bad is not None:
            raise ValueProblem(ErrorCode.UNSTORABLE_CHARACTER, "", position=bad[0] + 1, char=bad[1])
    elif is_blank(raw):
        return None
    value = parser(raw, f)
    if longest is not None and type(value) is str and len(value) > longest:
        raise ValueProblem(ErrorCode.TOO_LONG, value, max=longest, length=len(value))
    return value


def display_value(value: Any, f: Field, lang: Lang) -> Any:
    """How a canonical value is shown in a sheet: enum codes become labels."""
    if value is None or f.enum is None:
        return value
    if f.type is FieldType.ENUM:
        return f.enum.value(value).label(lang) if value in f.enum.codes() else value
    return ";".join(f.enum.value(c).label(lang) for c in str(value).split(";") if c)
