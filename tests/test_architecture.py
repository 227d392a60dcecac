"""Dependencies point one way: schema <- bridge, schema <- addin; addin never imports bridge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"schema", "bridge", "addin"}
ALLOWED = {"schema": set(), "bridge": {"schema"}, "addin": {"schema"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(OURS))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = {}
    for path in (ROOT / package).rglob("*.py"):
        wrong = _imports(path) - ALLOWED[package] - {package}
        if wrong:
            bad[str(path.relative_to(ROOT))] = sorted(wrong)
    assert bad == {}, f"{package} must not import {bad}"


def test_modules_stay_small() -> None:
    big = {str(p.relative_to(ROOT)): n for pkg in OURS for p in (ROOT / pkg).rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert big == {}, f"split these modules: {big}"
