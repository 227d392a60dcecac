"""The add-in talks to the bridge over HTTP only: no module of ``addin`` imports ``bridge``."""

from __future__ import annotations

import ast
from pathlib import Path

ADDIN = Path(__file__).resolve().parents[2] / "addin"


def test_addin_never_imports_bridge() -> None:
    offenders = []
    for path in ADDIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "bridge"]
    assert offenders == []
