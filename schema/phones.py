"""Phone numbers to one canonical text, by phonenumbers' rules (region CN by default).

Chinese numbers come out in national format (``138 1234 5678``, ``010 1234 5678``) with an
extension as `` 转123``; others in international format; short service numbers (95588,
10086, 12345) as digits. Common Chinese shapes take a fast path that uses phonenumbers' own
metadata patterns and formatting rules (a tested equivalence), since a full parse costs
~0.2 ms and a push may carry tens of thousands of phones.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import phonenumberutil

_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")


def _pattern(desc: object) -> re.Pattern[str] | None:
    text = getattr(desc, "national_number_pattern", None)
    return re.compile(text) if text else None


_CN_GENERAL = _pattern(getattr(_CN, "general_desc", None))
_CN_MOBILE = _pattern(getattr(_CN, "mobile", None))
_CN_FIXED = _pattern(getattr(_CN, "fixed_line", None))
_MOBILE_SHAPE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_LANDLINE_SHAPE = re.compile(r"^0([1-9]\d{8,10})$")  # trunk 0 + area code + subscriber
_EXT_RE = re.compile(r"\s*(?:转|分机|ext\.?|x|#|-)\s*(\d{1,6})$", re.IGNORECASE)
_SERVICE_RE = re.compile(r"^(?:95\d{3}(?:\d{3})?|1\d{4}|96\d{3,4})$")
_SEPARATORS = re.compile(r"[\s\-()]")


def _fast_landline(nsn: str) -> str | None:
    """National format of a Chinese fixed-line number, or None to take the slow path."""
    if _CN is None or _CN_GENERAL is None or _CN_FIXED is None:
        return None
    if not (_CN_GENERAL.fullmatch(nsn) and _CN_FIXED.fullmatch(nsn)):
        return None
    try:
        fmt = phonenumberutil._choose_formatting_pattern_for_number(_CN.number_format, nsn)
        if fmt is None:
            return None
        text = phonenumberutil._format_nsn_using_pattern(
            nsn, fmt, phonenumbers.PhoneNumberFormat.NATIONAL)
    except AttributeError:  # phonenumbers moved its internals: fall back, stay correct
        return None
    return str(text)


def canonical_phone(text: str) -> str | None:
    """The canonical form of ``text`` (already NFKC-folded), or None when not a valid number."""
    digits = _SEPARATORS.sub("", text)
    if _SERVICE_RE.match(digits):
        return digits
    mobile = _MOBILE_SHAPE.match(digits)
    if mobile and _CN_MOBILE is not None and _CN_MOBILE.fullmatch(mobile[1]):
        m = mobile[1]
        return f"{m[:3]} {m[3:7]} {m[7:]}"
    ext = ""
    found = _EXT_RE.search(text)
    if found and (found[0].strip()[0] in "转分extX#"
                  or len(re.sub(r"\D", "", text[: found.start()])) >= 10):
        ext, text = found[1], text[: found.start()]
    suffix = f" 转{ext}" if ext else ""
    landline = _LANDLINE_SHAPE.match(_SEPARATORS.sub("", text))
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
