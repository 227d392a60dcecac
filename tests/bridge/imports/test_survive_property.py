"""The survivorship rule as a property: with every side dated, the survivor of every field
is a non-blank value of the newest side; a blank never survives over a value; confirm's
``group_values`` agrees with the dry run's pairwise ``verdict``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.imports.store import Staged
from bridge.imports.survive import (
    FieldTimes,
    Moment,
    Side,
    group_values,
    parse_verified,
    stored_moment,
    survivor,
    verdict,
)

BASE = datetime(2020, 1, 1, tzinfo=UTC)
values = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "c"]))
moments = st.integers(min_value=0, max_value=10_000).map(
    lambda m: stored_moment(BASE + timedelta(minutes=m)))


@given(st.lists(st.tuples(values, moments), min_size=1, max_size=6))
def test_the_newest_non_blank_side_survives(sides: list[tuple[str | None, Moment]]) -> None:
    found = survivor([Side(v, m) for v, m in sides])
    filled = [(v, m) for v, m in sides if v not in (None, "")]
    if not filled:
        assert found is None
        return
    assert found is not None
    newest = max(m for _, m in filled)
    value, moment = sides[found]
    assert value not in (None, "") and moment == newest
    assert value in {v for v, m in filled if m == newest}


@given(st.lists(st.tuples(values, st.one_of(st.none(), moments)), min_size=1, max_size=6))
def test_a_blank_never_survives_and_undated_sides_keep_the_first(
        sides: list[tuple[str | None, Moment | None]]) -> None:
    found = survivor([Side(v, m) for v, m in sides])
    filled = [i for i, (v, _) in enumerate(sides) if v not in (None, "")]
    assert found == (filled[0] if filled and sides[filled[0]][1] is None else found)
    assert (found is None) == (not filled)
    if found is not None:
        assert sides[found][0] not in (None, "")


@given(st.sampled_from(["x", "y"]), moments, st.sampled_from(["x", "z"]),
       st.one_of(st.none(), moments))
def test_confirm_agrees_with_the_dry_run(stored: str, changed: Moment, incoming: str,
                                         verified: Moment | None) -> None:
    row = Staged(1, None, None, {})
    values, take = group_values("customer", [row], {1: {"customer": {"phone": incoming}}},
                                {"phone": stored}, FieldTimes(changed),
                                {1: verified} if verified else {})
    winner, _ = verdict(verified, changed)
    if stored == incoming:
        assert take == set()
    else:
        assert ("phone" in take) == (winner == "incoming")
        assert values["phone"] == incoming or "phone" not in take


def test_verified_dates_as_people_type_them() -> None:
    today = datetime(2024, 6, 1, 4, tzinfo=UTC)
    assert parse_verified("2024/5/1", today) == Moment(date(2024, 5, 1))
    assert parse_verified("2024年5月1日", today) == Moment(date(2024, 5, 1))
    at = parse_verified("2024-05-01 10:30", today)
    assert at is not None and at.at == datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
    assert parse_verified("2024-05-01T23:30:00+00:00", today) == stored_moment(
        datetime(2024, 5, 1, 23, 30, tzinfo=UTC))  # its day in Shanghai is 2 May
    assert parse_verified("", today) is None
    for bad in ("2024-13-01", "yesterday", "2024-06-02", "2024-06-01T09:00:00+00:00"):
        with pytest.raises(ValueError):
            parse_verified(bad, today)
