"""The clock: UTC inside (the bridge's and the add-in's stamps), the team's zone for display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge import auth
from schema import clock

CST = timezone(timedelta(hours=8))


def test_now_is_aware_utc_and_the_bridge_still_exports_it() -> None:
    t = clock.now()
    assert t.tzinfo is not None and t.utcoffset() == timedelta(0)
    assert auth.now is clock.now and auth.as_utc is clock.as_utc


def test_as_utc_reads_naive_as_utc_and_converts_aware() -> None:
    assert clock.as_utc(datetime(2026, 3, 31, 8, 0)) == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert clock.as_utc(datetime(2026, 3, 31, 8, 0, tzinfo=CST)).hour == 0


def test_stamps_are_utc_iso_and_read_back() -> None:
    at = datetime(2026, 3, 31, 23, 30, 15, 999, tzinfo=CST)
    text = clock.stamp(at)
    assert text == "2026-03-31T15:30:15+00:00"
    assert clock.parse_stamp(text) == at.replace(microsecond=0)


@pytest.mark.parametrize(("zone", "shown"), [("Asia/Shanghai", "2026-04-01 00:30"),
                                             ("UTC", "2026-03-31 16:30"),
                                             ("America/New_York", "2026-03-31 12:30")])
def test_display_in_a_zone(zone: str, shown: str) -> None:
    assert clock.display("2026-03-31T16:30:00+00:00", zone) == shown
    assert clock.display(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), zone) == shown


def test_display_defaults_to_the_team_zone() -> None:
    assert clock.TEAM_ZONE == "Asia/Shanghai"
    assert clock.display("2026-03-31T16:30:00Z") == "2026-04-01 00:30"
