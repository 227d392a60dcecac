"""The Office.js client (``addin/office/static``) checked from pytest: its Node tests run
(``node --test tests/office/js/``, the strict fake Excel of ``fake_excel.mjs``), its
generated ``protocol.json`` matches :mod:`addin.payload.actions`, its ribbon handlers match
``addin/ribbon/buttons.py``, and only its two ``excel_*`` modules touch the Excel object
model."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from addin.payload import protocol_json
from addin.payload.actions import OPS
from addin.ribbon.buttons import BUTTONS

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "addin" / "office" / "static"
NODE_TESTS = ROOT / "tests" / "office" / "js"
EXCEL_MODULES = {"excel_read.js", "excel_apply.js"}
NODE = shutil.which("node")


def _sources() -> list[Path]:
    return sorted(STATIC.glob("*.js"))


@pytest.mark.skipif(NODE is None, reason="node is not installed (Node 20: apt-get install nodejs)")
def test_node_tests_pass() -> None:
    done = subprocess.run([NODE, "--test", str(NODE_TESTS)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    tail = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, tail
    passed = re.search(r"^# pass (\d+)", done.stdout, re.M)
    assert passed and int(passed.group(1)) >= 30, tail


def test_protocol_json_is_generated_from_actions() -> None:
    committed = (STATIC / "protocol.json").read_text(encoding="utf-8")
    assert committed == protocol_json.render(), (
        "run: python -m addin.payload.protocol_json > addin/office/static/protocol.json")
    assert set(json.loads(committed)["ops"]) == set(OPS)


def test_excel_apply_handles_every_op() -> None:
    """Each op of the vocabulary has a handler in excel_apply.js's APPLY table (the Node
    test checks the same from JavaScript)."""
    text = (STATIC / "excel_apply.js").read_text(encoding="utf-8")
    table = text[text.index("const APPLY = {"):text.index("export const HANDLED_OPS")]
    handled = set(re.findall(r"^  (?:async )?(\w+)\(ap, a", table, re.M))
    assert handled == set(OPS)


def test_every_ribbon_button_is_associated() -> None:
    text = (STATIC / "commands.js").read_text(encoding="utf-8")
    block = text[text.index("BUTTON_IDS = ["):text.index("];")]
    assert re.findall(r'"(\w+)"', block) == [b.id for b in BUTTONS]
    assert "Office.actions.associate(id" in text


def test_only_the_excel_modules_touch_excel() -> None:
    touching = {p.name for p in _sources() if re.search(r"\bExcel\.\w", p.read_text("utf-8"))}
    assert touching == EXCEL_MODULES


@pytest.mark.parametrize("path", _sources() + sorted(NODE_TESTS.glob("*.mjs")),
                         ids=lambda p: p.name)
def test_modules_stay_small(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 400, f"{path.name}: {lines} lines, split it by what its parts do"


def test_pages_load_office_js_from_the_cdn_and_nothing_else_remote() -> None:
    for page in ("taskpane.html", "signin.html"):
        html = (STATIC / page).read_text(encoding="utf-8")
        remote = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert remote == ["https://appsforoffice.microsoft.com/lib/1/hosted/office.js"], page
