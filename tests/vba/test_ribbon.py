"""The ribbon declaration, its rendered customUI / VBA, and the vendored xlwings module."""

from __future__ import annotations

import re
from pathlib import Path

import defusedxml.ElementTree as ET
import xlwings

from addin.ribbon import render
from addin.ribbon.buttons import BUTTONS, BUTTONS_BY_ID, GROUPS, TAB_ID

NS = {"ui": render.CUSTOMUI_NS}
RIBBON_DIR = Path(render.__file__).resolve().parent


def _vba_expr_value(expr: str) -> str:
    """Evaluate the ``"..." & ChrW(&H...&)`` expressions that render.vba_string produces."""
    out = []
    for part in expr.split(" & "):
        if part.startswith('"'):
            assert part.endswith('"')
            out.append(part[1:-1].replace('""', '"'))
        else:
            match = re.fullmatch(r"ChrW\(&H([0-9A-F]{4})&\)", part)
            assert match, part
            out.append(chr(int(match.group(1), 16)))
    return "".join(out)


def _cases(vba: str, sub: str) -> dict[str, tuple[str, str]]:
    """Map control id -> (zh, en) text from a generated label/screentip callback."""
    body = vba.split(f"Public Sub {sub}(", 1)[1].split("End Sub", 1)[0]
    found = re.findall(r'Case "([^"]+)"\r\n\s+If zh Then \w+ = (.+?) Else \w+ = (.+?)\r\n', body)
    return {cid: (_vba_expr_value(zh), _vba_expr_value(en)) for cid, zh, en in found}


def test_button_declarations_are_consistent() -> None:
    ids = [b.id for b in BUTTONS]
    assert len(set(ids)) == len(ids) == 8
    assert {b.handler for b in BUTTONS} == {
        "sign_in",
        "pull",
        "push",
        "validate",
        "refresh_reports",
        "upgrade",
        "show_help",
        "import_file",
    }
    assert all(re.fullmatch(r"crm_[a-z_]+", i) for i in ids)
    assert BUTTONS_BY_ID["crm_pull"].label_zh == "拉取"


def test_every_button_is_routed_and_labelled() -> None:
    vba = render.render_callback_module()
    call = r"import addin\.xl_entry as e; e\.on_ribbon\('([^']+)'\)"
    routed = re.findall(rf'Case "([^"]+)"\r\n\s+RunPython "{call}"', vba)
    assert routed == [(b.id, b.id) for b in BUTTONS]
    labels = _cases(vba, render.GET_LABEL)
    tips = _cases(vba, render.GET_SCREENTIP)
    for b in BUTTONS:
        assert labels[b.id] == (b.label_zh, b.label_en)
        assert tips[b.id] == (b.screentip_zh, b.screentip_en)
    for g in GROUPS:
        assert labels[g.id] == (g.label_zh, g.label_en)


def test_vba_module_shape() -> None:
    vba = render.render_callback_module()
    vba.encode("ascii")
    assert vba.startswith('Attribute VB_Name = "CRMRibbon"\r\n')
    assert "\n" not in vba.replace("\r\n", "")
    assert max(len(line) for line in vba.split("\r\n")) <= 1023  # VBA's physical line limit
    assert "Public Sub CRM_OnAction(control As IRibbonControl)" in vba
    assert "Public Sub CRM_GetLabel(control As IRibbonControl, ByRef label)" in vba
    assert "Application.LanguageSettings.LanguageID(2)" in vba
    assert "Case 2052," in vba
    assert render.render_callback_module() == vba


def test_custom_ui_ids_match_buttons() -> None:
    root = ET.fromstring(render.render_custom_ui().encode("utf-8"))
    assert root.tag == f"{{{render.CUSTOMUI_NS}}}customUI"
    tab = root.find("ui:ribbon/ui:tabs/ui:tab", NS)
    assert tab is not None and tab.get("id") == TAB_ID and tab.get("label") == "CRM"
    groups = tab.findall("ui:group", NS)
    assert [g.get("id") for g in groups] == [g.id for g in GROUPS]
    buttons = root.findall(".//ui:button", NS)
    assert [b.get("id") for b in buttons] == [b.id for b in BUTTONS]
    for element, button in zip(buttons, BUTTONS, strict=True):
        assert element.get("onAction") == "CRM_OnAction"
        assert element.get("getLabel") == "CRM_GetLabel"
        assert element.get("getScreentip") == "CRM_GetScreentip"
        assert element.get("imageMso") == button.image_mso
        assert element.get("size") == "large"
        assert element.get("label") is None  # label and getLabel are mutually exclusive


def test_committed_files_are_up_to_date() -> None:
    assert (RIBBON_DIR / "customUI.xml").read_bytes() == render.render_custom_ui().encode()
    assert (RIBBON_DIR / "CRMRibbon.bas").read_bytes() == render.render_callback_module().encode()
    assert render.main(["--check"]) == 0


def test_vendored_xlwings_matches_installed_version() -> None:
    pinned = (RIBBON_DIR / "XLWINGS_VERSION").read_text().strip()
    assert pinned == xlwings.__version__, "rebuild the template: xlwings was upgraded"
    installed = Path(xlwings.__file__).resolve().parent / "xlwings.bas"
    assert (RIBBON_DIR / "xlwings.bas").read_bytes() == installed.read_bytes()
    assert f"'Version: {pinned}" in (RIBBON_DIR / "xlwings.bas").read_text("cp1252")


def test_vba_string_escaping() -> None:
    assert render.vba_string("") == '""'
    assert render.vba_string('say "hi"') == '"say ""hi"""'
    assert _vba_expr_value(render.vba_string("登录 CRM 服务器")) == "登录 CRM 服务器"
    assert render.vba_string("é😀") == "ChrW(&H00E9&) & ChrW(&HD83D&) & ChrW(&HDE00&)"
