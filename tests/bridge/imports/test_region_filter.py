"""Candidates filtered by their stored region before they are read
(``bridge.matching.match.candidates``): a record whose region cannot be the row's is never
fetched, since ``compare`` would veto it; a same-USCC record is found in any region; a
record whose stored profile is missing, stale or damaged is kept (its region is unknown);
and the decisions are those of comparing every holder of every key (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bridge.db import Database
from bridge.matching.keys import cached_profile, company_record, replace_keys
from bridge.matching.match import KEEP, candidates, decide
from schema.dictionary import build_dictionary
from schema.matching import CompanyRecord, compare, profile, query_keys
from schema.matching.regions import (
    CITY_PROVINCE,
    PROVINCES,
    compatible_regions,
    regions_compatible,
)
from tests.bridge.helpers import VALID_USCC
from tests.bridge.imports.test_profiles import ADMIN, _store


def test_compatible_regions_is_regions_compatible_as_a_set() -> None:
    regions = ["", *sorted(PROVINCES), *sorted(CITY_PROVINCE)]
    for a in regions:
        ok = compatible_regions(a)
        for b in regions:
            assert (ok is None or b in ok) == regions_compatible(a, b), (a, b)


# one stem in several places: the row is in 北京 (its typo neighbours share a ``d:`` key)
STORED: list[dict[str, object]] = [
    {"name": "北京恒通科技有限公司"},  # same region: found
    {"name": "上海恒通科技有限公司"},  # another city: vetoed, never read
    {"name": "恒通科技有限公司"},  # no region: found
    {"name": "广州恒通科技有限公司", "uscc": VALID_USCC[0]},  # another city, same USCC
    {"name": "北京恒达科技有限公司"},  # a typo away, same region: found
    {"name": "深圳恒达科技有限公司"},  # a typo away, another city: never read
]


def _row(uscc: str = "") -> CompanyRecord:
    return CompanyRecord("北京恒通科技公司", uscc=uscc)


@pytest.mark.parametrize("stale", ["", "damaged", "version"])
def test_a_candidate_in_another_region_is_not_read(db: Database, stale: str) -> None:
    dictionary = build_dictionary()
    entity = dictionary.entity("customer")
    ids = _store(db, STORED)
    with db.write() as conn:
        replace_keys(db, conn, "customer", dict(zip(ids, STORED, strict=True)))
        if stale == "damaged":  # unreadable in SQL too: kept, parsed from its values
            conn.execute(text("UPDATE sys_match_profile SET profile = '[1,\"恒通\",' "
                              "WHERE record_id = :i"), {"i": ids[1]})
        elif stale == "version":
            conn.execute(text("UPDATE sys_match_profile SET profile = replace(profile, "
                              "'[1,', '[9,') WHERE record_id = :i"), {"i": ids[1]})
    for uscc, expected in (("", {0, 2, 4}), (VALID_USCC[0], {0, 2, 3, 4})):
        p = profile(_row(uscc))
        with db.read() as conn:
            per_row, records = candidates(conn, db, dictionary, ADMIN, entity,
                                          [query_keys(p)], [None], [p.name.region])
            unfiltered, everyone = candidates(conn, db, dictionary, ADMIN, entity,
                                              [query_keys(p)], [None])
        want = {ids[i] for i in expected} | ({ids[1]} if stale else set())
        assert per_row[0] == want
        assert set(records) == want
        assert unfiltered[0] == set(ids)  # without regions: every holder, as before
        # what was left out is exactly what compare vetoes
        for rid in set(ids) - want:
            assert compare(p, everyone[rid].profile).decision not in KEEP
        assert decide(p, per_row[0], records) == decide(p, unfiltered[0], everyone)
        known: dict[str, str | None] = {}  # regions read once, reused by the next chunk
        with db.read() as conn:
            for _ in range(2):
                again, _r = candidates(conn, db, dictionary, ADMIN, entity, [query_keys(p)],
                                       [None], [p.name.region], known)
                assert again == per_row
        assert set(known) == set(ids)  # every holder of a name key (the same USCC too)
        assert known[ids[1]] == (None if stale else "上海") and known[ids[2]] == ""


def test_a_row_without_a_region_reads_every_candidate(db: Database) -> None:
    dictionary = build_dictionary()
    ids = _store(db, STORED)
    with db.write() as conn:
        replace_keys(db, conn, "customer", dict(zip(ids, STORED, strict=True)))
    p = cached_profile(company_record("customer", {"name": "恒通科技公司"}))
    assert p.name.region == ""
    with db.read() as conn:
        per_row, _ = candidates(conn, db, dictionary, ADMIN, dictionary.entity("customer"),
                                [query_keys(p)], [None], [p.name.region])
    assert per_row[0] == set(ids)
