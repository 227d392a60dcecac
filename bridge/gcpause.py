"""Pause Python's cyclic garbage collector around a burst of allocations.

A 10,000-row push allocates millions of small containers that all stay alive until the
push ends; the collector keeps scanning them (full collections grow with the heap) and
took a third of the push's time. Reference counting still frees everything as usual;
cycles made during the pause are collected once it ends. Pauses nest and may overlap
across threads: collection resumes when the last one ends (and only if it was on). On a
busy bridge pauses may overlap without end, so whenever one ends after the collector has
been off for ``MAX_OFF_SECONDS``, a collection runs there and then.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_OFF_SECONDS = 10.0

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_off_since = 0.0


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off."""
    global _depth, _was_enabled, _off_since
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            _off_since = time.monotonic()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        collect = False
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _was_enabled:
                    gc.enable()
            elif _was_enabled and time.monotonic() - _off_since > MAX_OFF_SECONDS:
                collect, _off_since = True, time.monotonic()
        if collect:
            gc.collect()
