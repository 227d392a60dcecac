"""schema.history: the moments of an imported record and the stage history built from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schema.errors import ErrorCode
from schema.history import HistoryProblem, Moments, parse_moment, parse_moments, stage_history

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
CODES = ["initial_contact", "needs_analysis", "proposal", "negotiation", "won", "lost"]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(("text", "want"), [
    ("2021-03-02", "2021-03-02T00:00:00+08:00"),
    (" 2021-03-02 ", "2021-03-02T00:00:00+08:00"),
    ("2021-03-02 10:30", "2021-03-02T10:30:00+08:00"),
    ("2021-03-02T10:30:15", "2021-03-02T10:30:15+08:00"),
    ("2021-03-02T10:30:00+00:00", "2021-03-02T10:30:00+00:00"),
    ("2021-03-02T10:30:00Z", "2021-03-02T10:30:00+00:00"),
    ("2026-12-02T14:00:00+08:00", "2026-12-02T06:00:00+00:00"),  # exactly now
])
def test_a_moment_is_a_date_or_datetime_in_the_team_zone(text: str, want: str) -> None:
    assert parse_moment(text, "created_at", NOW) == _utc(want)


def test_another_zone_may_be_named() -> None:
    assert parse_moment("2021-03-02", "created_at", NOW, "UTC") == _utc("2021-03-02T00:00:00Z")


@pytest.mark.parametrize(("text", "code"), [
    ("去年", ErrorCode.HISTORY_BAD_MOMENT), ("2021-13-01", ErrorCode.HISTORY_BAD_MOMENT),
    ("", ErrorCode.HISTORY_BAD_MOMENT), ("2021/03/02", ErrorCode.HISTORY_BAD_MOMENT),
    ("0001-01-01", ErrorCode.HISTORY_BAD_MOMENT),  # before year 1 in UTC
    ("0001-01-01T00:00:00+23:59", ErrorCode.HISTORY_BAD_MOMENT),
    ("2026-12-02T06:00:01+00:00", ErrorCode.HISTORY_IN_FUTURE),
    ("2026-12-03", ErrorCode.HISTORY_IN_FUTURE),
])
def test_a_bad_or_future_moment_is_refused_naming_it(text: str, code: ErrorCode) -> None:
    with pytest.raises(HistoryProblem) as exc:
        parse_moment(text, "closed_at", NOW)
    assert exc.value.code is code
    assert exc.value.params == {"field": "closed_at", "value": text}


def test_stages_keep_the_order_sent_and_build_the_history() -> None:
    m = parse_moments(None, None, {"initial_contact": "2021-01-01", "proposal": "2021-01-01",
                                   "won": "2021-02-01"}, CODES, NOW)
    assert [s for s, _ in m.stages] == ["initial_contact", "proposal", "won"]
    assert stage_history("won", m, CODES[0], NOW) == m.stages
    with pytest.raises(HistoryProblem) as exc:
        stage_history("lost", m, CODES[0], NOW)
    assert exc.value.code is ErrorCode.HISTORY_STAGE_MISMATCH


def test_history_from_created_and_closed() -> None:
    created, closed = _utc("2021-01-01T00:00:00+08:00"), _utc("2021-02-01T00:00:00+08:00")
    m = Moments(created, closed)
    assert stage_history("lost", m, "initial_contact", NOW) == [
        ("initial_contact", created), ("lost", closed)]
    assert stage_history("proposal", Moments(created), "initial_contact", NOW) == [
        ("proposal", created)]
    assert stage_history("won", Moments(), "initial_contact", NOW) == [("won", NOW)]
    with pytest.raises(HistoryProblem) as exc:
        stage_history("proposal", m, "initial_contact", NOW)
    assert exc.value.code is ErrorCode.HISTORY_CLOSED_OPEN
