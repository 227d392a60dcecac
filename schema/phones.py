"""Phone numbers to one canonical text, by phonenumbers' rules (region CN by default).

Chinese numbers come out in national format (``138 1234 5678``, ``010 1234 5678``) with an
extension as `` 转123``; others in international format; short service numbers (95588,
10086, 12345) as digits. Common Chinese shapes take a fast path that uses phonenumbers' own
metadata patterns and formatting rules, compiled once (a tested equivalence), since a full
parse costs ~0.2 ms and a push may carry tens of thousands of phones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import phonenumbers

_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")


def _pattern(desc: object) -> re.Pattern[str] | None:
    text = getattr(desc, "national_number_pattern", None)
    return re.compile(text) if text else None


_CN_GENERAL = _pattern(getattr(_CN, "general_desc", None))
_CN_MOBILE = _pattern(getattr(_CN, "mobile", None))
_CN_FIXED = _pattern(getattr(_CN, "fixed_line", None))
# [0-9], not \d: digits of other scripts (which NFKC keeps) take phonenumbers' full path
_MOBILE_SHAPE = re.compile(r"^(?:\+?86)?(1[0-9]{10})$")
_LANDLINE_SHAPE = re.compile(r"^0([1-9][0-9]{8,10})$")  # trunk 0 + area code + subscriber
_EXT_RE = re.compile(r"\s*(?:转|分机|ext\.?|x|#|-)\s*([0-9]{1,6})$", re.IGNORECASE)
_EXT_MARK = re.compile(r"[转分ex#\-]", re.IGNORECASE)  # every _EXT_RE match holds one
_SERVICE_RE = re.compile(r"^(?:95[0-9]{3}(?:[0-9]{3})?|1[0-9]{4}|96[0-9]{3,4})$")
_SEPARATORS = re.compile(r"[\s\-()]")
_FIRST_GROUP = re.compile(r"(\\\d)")  # phonenumbers' _FIRST_GROUP_PATTERN: the "\1" of a rule
_TEMPLATE = re.compile(r"(?:[^\\{}]|\\[1-9](?!\d))*")  # literals and single-digit group refs
_DIGIT_GROUP = re.compile(r"\(\\d\{(\d+)(?:,(\d+))?\}\)")  # "(\d{3})" or "(\d{7,8})"


@dataclass(frozen=True, slots=True)
class _Format:
    """One of CN's number formats, compiled once (phonenumbers compiles them on every call)."""

    pattern: re.Pattern[str]
    leading: re.Pattern[str] | None  # the last (most detailed) leading-digits pattern
    national: str  # the ``re.sub`` template of the NATIONAL format
    lengths: range | None  # for a pattern of digit groups alone: the lengths it matches
    fields: str | None  # then ``national`` as a ``str.format`` template, if that simple


def _lengths(pattern: str) -> range | None:
    """The lengths a pattern made only of digit groups (``(\\d{3})(\\d{7,8})``) matches."""
    if not re.fullmatch(f"(?:{_DIGIT_GROUP.pattern})+", pattern):
        return None
    groups = _DIGIT_GROUP.findall(pattern)
    return range(sum(int(lo) for lo, _ in groups), sum(int(hi or lo) for lo, hi in groups) + 1)


def _fields(rule: str, groups: int) -> str | None:
    """An ``re.sub`` template of literals and group numbers as a ``str.format`` template."""
    refs = [int(g) for g in re.findall(r"\\(\d)", rule)]
    if not _TEMPLATE.fullmatch(rule) or any(g > groups for g in refs):
        return None
    return re.sub(r"\\(\d)", lambda m: f"{{{int(m[1]) - 1}}}", rule)


def _format(nf: Any) -> _Format:
    """A ``NumberFormat``'s NATIONAL rule, built as ``_format_nsn_using_pattern`` builds it."""
    rule = nf.format
    if nf.national_prefix_formatting_rule:
        rule = _FIRST_GROUP.sub(nf.national_prefix_formatting_rule, rule, count=1)
    pattern = re.compile(nf.pattern)
    lengths = _lengths(nf.pattern)
    fields = _fields(rule, pattern.groups) if lengths is not None and lengths.start else None
    leading = nf.leading_digits_pattern
    return _Format(pattern, re.compile(leading[-1]) if leading else None, rule, lengths, fields)


_CN_FORMATS = tuple(_format(nf) for nf in getattr(_CN, "number_format", ()))


@cache
def _formats_for(length: int) -> tuple[_Format, ...]:
    """CN's formats, in order, less those that cannot match a number of ``length`` digits."""
    return tuple(f for f in _CN_FORMATS if f.lengths is None or length in f.lengths)


def _format_national(nsn: str) -> str | None:
    """``nsn`` in CN national format, choosing the format as phonenumbers does (first fit).

    A pattern of digit groups alone that matches all of ``nsn`` is the one match ``re.sub``
    replaces, its greedy groups the same, so formatting the groups gives ``re.sub``'s text.
    """
    for fmt in _formats_for(len(nsn)):
        if fmt.leading is not None and not fmt.leading.match(nsn):
            continue
        m = fmt.pattern.fullmatch(nsn)
        if m:
            if fmt.fields is not None:
                return fmt.fields.format(*m.groups())
            return fmt.pattern.sub(fmt.national, nsn)
    return None


def _fast_landline(nsn: str) -> str | None:
    """National format of a Chinese fixed-line number, or None to take the slow path."""
    if _CN_GENERAL is None or _CN_FIXED is None:
        return None
    if not (_CN_GENERAL.fullmatch(nsn) and _CN_FIXED.fullmatch(nsn)):
        return None
    return _format_national(nsn)


def _split_extension(text: str) -> tuple[str, str]:
    """``text`` without a trailing extension, and the extension's digits ("" when none)."""
    found = _EXT_RE.search(text) if _EXT_MARK.search(text) else None
    if found and (found[0].strip()[0] in "转分extX#"
                  or len(re.sub(r"\D", "", text[: found.start()])) >= 10):
        return text[: found.start()], found[1]
    return text, ""


def canonical_phone(text: str) -> str | None:
    """The canonical form of ``text`` (already NFKC-folded), or None when not a valid number."""
    digits = _SEPARATORS.sub("", text)
    if _SERVICE_RE.match(digits):
        return digits
    mobile = _MOBILE_SHAPE.match(digits)
    if mobile and _CN_MOBILE is not None and _CN_MOBILE.fullmatch(mobile[1]):
        m = mobile[1]
        return f"{m[:3]} {m[3:7]} {m[7:]}"
    text, ext = _split_extension(text)
    suffix = f" 转{ext}" if ext else ""
    landline = _LANDLINE_SHAPE.match(_SEPARATORS.sub("", text) if ext else digits)
    if landline:
        fast = _fast_landline(landline[1])
        if fast is not None:
            return fast + suffix
    try:
        num = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if num.country_code == 86
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(num, style) + suffix
