"""Dependencies point one way: schema <- bridge, schema <- addin; addin never imports bridge.
Modules stay small, and docs/architecture.md names only modules that exist."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
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


ARCH_DOC = ROOT / "docs" / "architecture.md"
NAMED = re.compile(r"`((?:schema|bridge|addin)(?:\.\w+)+)`")


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of a module (``addin.commands.push``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:  # a parent is a module, not a package
            continue
        obj: object = importlib.import_module(module)
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_architecture_doc_names_only_modules_that_exist() -> None:
    named = sorted(set(NAMED.findall(ARCH_DOC.read_text(encoding="utf-8"))))
    assert len(named) > 20, named
    missing = [n for n in named if not _resolves(n)]
    assert missing == [], f"docs/architecture.md names what does not exist: {missing}"


def test_architecture_doc_names_every_package_module() -> None:
    """A new module gets a line in the map (private ``_x`` modules and ``__main__`` excepted)."""
    text = ARCH_DOC.read_text(encoding="utf-8")
    named = set(NAMED.findall(text))
    unnamed = []
    for pkg in sorted(OURS):
        for path in sorted((ROOT / pkg).glob("*.py")):
            if path.stem.startswith("_"):
                continue
            module = f"{pkg}.{path.stem}"
            if module not in named and not any(n.startswith(module + ".") for n in named):
                unnamed.append(module)
    assert unnamed == [], f"add these to docs/architecture.md: {unnamed}"
