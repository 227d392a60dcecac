"""Code a newcomer can read: no function of grade D or worse (radon cyclomatic complexity
21 and up), and no module over the size cap."""

from __future__ import annotations

from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schema", "bridge", "addin")
MAX_COMPLEXITY = 20  # radon grade C at most
MAX_LINES = 500

SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                 if "migrations/versions" not in p.as_posix())


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_functions_stay_readable(path: Path) -> None:
    blocks = [b for b in cc_visit(path.read_text(encoding="utf-8")) if isinstance(b, Function)]
    too_complex = [f"{b.fullname} (line {b.lineno}): {b.complexity}" for b in blocks
                   if b.complexity > MAX_COMPLEXITY]
    assert not too_complex, f"split these into smaller steps: {too_complex}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_modules_stay_small(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{lines} lines: split the module by what its parts do"
