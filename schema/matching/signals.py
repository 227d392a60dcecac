"""Identity signals beside the name: USCC, phones, e-mail domains, address.

- USCC: a valid check digit (GB 32100-2015, via python-stdnum's rules) makes the code an
  identity; an invalid code is kept as typed, and :func:`uscc_neighbours` lists the valid
  codes one character away from it, which are a hint, never an identity.
- Phones: every number in a cell (``010-6552 8888转123 / 13800138000``) as E.164 without its
  extension (``+861065528888``), since the switchboard is what two rows of one company share.
- E-mail: the domain, unless it is a free-mail domain (qq.com, 163.com, gmail.com ...):
  those are personal and say nothing about the company.
- Address: a normalised string (width, case, separators, 省/市 spelt out or not): a weak
  signal only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers

from schema.matching.simplify import to_simplified
from schema.names import name_key

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015, as stdnum.cn.uscc
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")

FREE_MAIL_DOMAINS = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "vip.163.com",
    "sina.com", "sina.cn", "vip.sina.com", "sohu.com", "aliyun.com", "139.com", "189.cn",
    "wo.cn", "21cn.com", "tom.com", "gmail.com", "googlemail.com", "outlook.com",
    "hotmail.com", "live.com", "msn.com", "yahoo.com", "yahoo.com.cn", "icloud.com", "me.com",
    "proton.me", "protonmail.com", "aol.com", "mail.com", "yandex.com", "gmx.com",
})
_EMAIL = re.compile(r"[^\s@<>(),;，；]+@([a-z0-9.-]+\.[a-z]{2,})")
_PHONE_SPLIT = re.compile(r"[/,;，；、|\n]+|\s{2,}|(?<=\d)\s+(?=1[3-9]\d{9}\b)|或|及")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)
_ADDRESS_DROP = re.compile(r"(?:省|市|自治区|特别行政区)")


def uscc_check_char(first17: str) -> str:
    """The check character of a USCC's first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def compact_uscc(raw: str) -> str:
    """A typed USCC folded (width, case, spaces and hyphens dropped); not validated."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw)).upper()


def valid_uscc(code: str) -> bool:
    """Whether a compact code has the USCC shape and a correct check character."""
    return bool(_USCC_SHAPE.fullmatch(code)) and uscc_check_char(code[:17]) == code[17]


def uscc_neighbours(code: str) -> list[str]:
    """The valid codes one substituted character away from an invalid compact ``code``."""
    if len(code) != 18 or valid_uscc(code):
        return []
    found = []
    for pos in range(18):
        for c in USCC_ALPHABET:
            if c != code[pos]:
                candidate = code[:pos] + c + code[pos + 1:]
                if valid_uscc(candidate):
                    found.append(candidate)
    return found


def _pattern(desc: object) -> re.Pattern[str]:
    return re.compile(getattr(desc, "national_number_pattern", None) or r"(?!)")


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE = _pattern(getattr(_CN, "mobile", None))
_CN_FIXED = _pattern(getattr(_CN, "fixed_line", None))
_CN_SHAPE = re.compile(r"(?:\+?86)?0?([1-9][0-9]{9,10})")
_SEPARATORS = re.compile(r"[\s\-()]")


def _fast_e164(part: str) -> str | None:
    """E.164 of a Chinese mobile or landline by phonenumbers' own patterns, or None."""
    shaped = _CN_SHAPE.fullmatch(_SEPARATORS.sub("", part))
    if shaped is None:
        return None
    national = shaped[1]
    if _CN_MOBILE.fullmatch(national) or _CN_FIXED.fullmatch(national):
        return "+86" + national
    return None


def _e164(part: str) -> str | None:
    """One typed number as E.164 without its extension, or None when not a valid number."""
    part = _EXTENSION.sub("", part).strip()
    fast = _fast_e164(part)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(part, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)
def phones_e164(cell: str) -> tuple[str, ...]:
    """Every valid number in a phone cell as E.164 (extensions dropped), in order, unique."""
    text = unicodedata.normalize("NFKC", cell)
    found: list[str] = []
    for part in _PHONE_SPLIT.split(text):
        number = _e164(part) if part.strip() else None
        if number and number not in found:
            found.append(number)
    return tuple(found)


def email_domains(cell: str) -> tuple[str, ...]:
    """The e-mail domains in a cell, lower case, unique (free-mail ones included)."""
    text = unicodedata.normalize("NFKC", cell).casefold()
    return tuple(dict.fromkeys(m[1].strip(".") for m in _EMAIL.finditer(text)))


def company_domains(cell: str) -> tuple[str, ...]:
    """The e-mail domains in a cell that can say which company: free-mail ones left out."""
    return tuple(d for d in email_domains(cell) if d not in FREE_MAIL_DOMAINS)


def address_key(text: str) -> str:
    """A normalised address for comparison: name key, simplified, 省/市 words dropped."""
    return _ADDRESS_DROP.sub("", to_simplified(name_key(text)))
