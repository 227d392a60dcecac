"""Stored profiles: each matched record's parsed signals (``schema.matching.Profile``) in
``sys_match_profile``, written by the push engine beside its match keys, so a dry run or a
push reads its candidates' profiles instead of parsing every candidate's name again (the
parse was about 117 µs a record, more than half of a dry run's time; a stored one is read
back in a few).

A profile is stored as one JSON array (:func:`encode`); :func:`decode` gives back the equal
``Profile``. The array's first item is :data:`VERSION`: a profile written by another version
of the parser (or damaged) decodes to None, and the record is parsed from its values, as
before.
"""

from __future__ import annotations

from typing import Any

import orjson

from schema.matching import CompanyName, Profile

VERSION = 1  # bump when schema.matching's parse rules change what a profile holds
COLUMNS = ("entity", "record_id", "profile")


def encode(p: Profile) -> str:
    """``p`` as one compact JSON array."""
    n = p.name
    return orjson.dumps([VERSION, n.stem, n.region, n.industry, n.legal_form, n.branch,
                         n.department, p.uscc, p.uscc_typed, list(p.phones),
                         list(p.domains), p.address]).decode()


def decode(text: str | None) -> Profile | None:
    """The profile :func:`encode` stored (None: none stored, another version, damaged)."""
    if not text:
        return None
    try:
        items: list[Any] = orjson.loads(text)
        if items[0] != VERSION or len(items) != 12:
            return None
        (_, stem, region, industry, legal_form, branch, department, uscc, typed, phones,
         domains, address) = items
        return Profile(name=CompanyName(stem, region, industry, legal_form, branch,
                                        department),
                       uscc=uscc, uscc_typed=typed, phones=tuple(phones),
                       domains=tuple(domains), address=address)
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError):
        return None
