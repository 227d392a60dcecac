"""Template and dictionary versions: exactly ``MAJOR.MINOR.PATCH`` in ASCII digits."""

from __future__ import annotations

import re

_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", re.ASCII)


def parse_version(text: str) -> tuple[int, int, int]:
    """``(major, minor, patch)`` of ``"1.0.0"``; ``ValueError`` for anything else (``1.0``,
    ``1.0.0.0``, `` 1.0.0``, full-width digits, leading zeros, more than 9 digits a part)."""
    m = _VERSION.fullmatch(text) if isinstance(text, str) and len(text) <= 32 else None
    if m is None or any(len(part) > 9 for part in m.groups()):
        raise ValueError(f"not a MAJOR.MINOR.PATCH version: {text!r}")
    return int(m[1]), int(m[2]), int(m[3])
