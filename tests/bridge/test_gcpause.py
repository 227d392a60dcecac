"""``bridge.gcpause``: nested and overlapping pauses, and no endless pause on a busy bridge."""

from __future__ import annotations

import gc
import threading

import pytest

from bridge import gcpause


def test_pauses_nest_and_restore_the_collector() -> None:
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()


def test_a_failing_block_still_restores_the_collector() -> None:
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError
    assert gc.isenabled()


def test_overlapping_pauses_collect_after_max_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "MAX_OFF_SECONDS", 0.0)
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    inside, release = threading.Event(), threading.Event()

    def long_pause() -> None:
        with gcpause.paused():
            inside.set()
            release.wait(10)

    other = threading.Thread(target=long_pause)
    other.start()
    inside.wait(10)
    for _ in range(3):  # requests that end while another is still running
        with gcpause.paused():
            pass
    assert not gc.isenabled() and len(collected) == 3
    release.set()
    other.join(10)
    assert gc.isenabled()
