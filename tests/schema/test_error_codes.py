"""Error codes are one typed enumeration: every code the source raises is catalogued with its
HTTP status and both messages, every catalogued code is raised somewhere (or reserved, with
why), and no call site passes a bare string where an ``ErrorCode`` belongs."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import httpx
import pytest

from addin.client import _error_from
from addin.errors import AddinError, code_of
from schema.errors import CATALOGUE, RESERVED, ErrorCode, render

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for pkg in ("schema", "bridge", "addin") for p in (ROOT / pkg).rglob("*.py")
                 if p != ROOT / "schema" / "errors.py")
# the callables that take a code first (or, for err/cell_error, at a fixed position)
CODE_ARG = {"ApiError": 0, "item": 0, "ValueProblem": 0, "AddinError": 0, "WorkbookError": 0,
            "BridgeError": 0, "render": 0, "of": 0, "err": 1, "cell_error": 3, "_decimal": 1,
            "_excel_serial": 1}


def _uses() -> dict[str, list[str]]:
    """``ErrorCode.X`` (and ``ErrorCode["X…"]`` prefixes) -> where it appears."""
    out: dict[str, list[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        for code in re.findall(r"ErrorCode\.([A-Z][A-Z0-9_]+)", text):
            out.setdefault(code, []).append(where)
        for prefix in re.findall(r"ErrorCode\[f\"([A-Z_]+)\{", text):  # ErrorCode[f"INVALID_{t}"]
            for code in ErrorCode:
                if code.startswith(prefix):
                    out.setdefault(code, []).append(where)
    return out


def test_codes_are_their_own_names_with_a_status_and_both_messages() -> None:
    assert set(CATALOGUE) == set(ErrorCode)
    for code in ErrorCode:
        assert code.value == code.name, code
        assert code.status == 200 or 400 <= code.status <= 599, code  # 200: advice only
        assert code.zh.strip() and code.en.strip(), code
        assert re.search(r"[\u4e00-\u9fff]", code.zh), code
        fields = {f for _, f, _, _ in string.Formatter().parse(code.en) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(code.zh) if f}, code


def test_every_code_used_in_the_source_is_catalogued() -> None:
    unknown = {code: where for code, where in _uses().items()
               if code not in ErrorCode.__members__}
    assert unknown == {}


def test_every_catalogued_code_is_used_or_reserved() -> None:
    used = _uses()
    unused = [c for c in ErrorCode if c not in used and c not in RESERVED]
    assert unused == [], "raise these somewhere, remove them, or list them in RESERVED"
    assert [c for c in RESERVED if c in used] == [], "a reserved code is raised now: unreserve"
    assert all(why.strip() for why in RESERVED.values())


def _bare_code_arguments(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
        pos = CODE_ARG.get(name or "")
        if pos is None or len(node.args) <= pos:
            continue
        arg = node.args[pos]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and \
                re.fullmatch(r"[A-Z][A-Z0-9_]+", arg.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}({arg.value!r}")
    return found


def test_no_call_site_passes_a_bare_string_code() -> None:
    bare = [hit for path in SOURCES for hit in _bare_code_arguments(path)]
    assert bare == [], "use ErrorCode.X instead of a bare code string"


def test_an_unknown_code_cannot_be_rendered() -> None:
    with pytest.raises(KeyError):
        render("NO_SUCH_CODE")  # type: ignore[arg-type]
    assert ErrorCode.known("NO_SUCH_CODE") is None
    assert ErrorCode.known("ROW_EXISTS") is ErrorCode.ROW_EXISTS
    assert ErrorCode.ROW_EXISTS == "ROW_EXISTS"  # the wire is unchanged


def test_an_unknown_code_from_a_newer_bridge_shows_its_messages_not_the_code() -> None:
    body = {"error": {"code": "FUTURE_PROBLEM", "message_zh": "服务器的新问题",
                      "message_en": "A new kind of problem"}}
    exc = _error_from(httpx.Response(409, json=body))
    assert exc.code is ErrorCode.BRIDGE_UNKNOWN_CODE and exc.wire_code == "FUTURE_PROBLEM"
    assert exc.status == 409
    assert exc.message("zh") == "服务器的新问题" and exc.message("en") == "A new kind of problem"
    assert "FUTURE_PROBLEM" not in str(exc)
    assert code_of("ROW_EXISTS") is ErrorCode.ROW_EXISTS


def test_an_addin_error_without_server_words_uses_the_catalogue() -> None:
    exc = AddinError(ErrorCode.BRIDGE_UNKNOWN_CODE, status=418)
    assert "418" in exc.message("en") and "418" in exc.message("zh")
    assert "BRIDGE_UNKNOWN_CODE" not in exc.message("en")
