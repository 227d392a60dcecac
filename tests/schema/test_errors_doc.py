"""docs/errors.md lists every error code the catalogue defines, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from schema.errors import CATALOGUE, markdown, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_doc_is_complete_and_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.M))
    assert documented == set(CATALOGUE)
    assert text == markdown(), "regenerate: python -m schema.errors > docs/errors.md"


def test_every_code_renders_in_both_languages_without_leftover_braces() -> None:
    for code in CATALOGUE:
        zh, en = render(code, field="f", value="v")
        assert "{" not in zh and "{" not in en, code
        assert re.search(r"[\u4e00-\u9fff]", zh), code
