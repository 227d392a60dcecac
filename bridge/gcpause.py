"""Pause Python's cyclic garbage collector around a burst of allocations.

A 10,000-row push allocates millions of small containers that all stay alive until the
push ends; the collector keeps scanning them (full collections grow with the heap) and
took a third of the push's time. Reference counting still frees everything as usual;
cycles made during the pause are collected once it ends. Pauses nest and may overlap
across threads: collection resumes when the last one ends (and only if it was on).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
