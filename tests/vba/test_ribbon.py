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
    routed = re.findall(rf'Case "([^"]+)"\r\n\s+command = "{call}"', vba)
    assert routed == [(b.id, b.id) for b in BUTTONS]
    windows = vba.split("Public Sub CRM_OnAction(", 1)[1].split("#Else", 1)[1]
    assert "    CRM_Run command\r\n#End If\r\nEnd Sub" in windows
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


def _preprocess(source: str, mac: bool) -> str:
    """The lines VBA compiles with the constant ``Mac`` set to ``mac`` (``#If [Not] Mac``,
    ``#Else`` and ``#End If``, nested; any other ``#If`` keeps both branches)."""
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (this branch taken, a Mac condition)
    for line in source.split("\r\n"):
        head = line.strip()
        cond = re.fullmatch(r"#If (Not )?Mac Then", head)
        if cond or head.startswith("#If "):
            taken = (mac != bool(cond.group(1))) if cond else True
            stack.append((taken, bool(cond)))
        elif head == "#Else":
            taken, is_mac = stack.pop()
            stack.append((not taken if is_mac else True, is_mac))
        elif head == "#End If":
            stack.pop()
        elif all(taken for taken, _ in stack):
            out.append(line)
    assert not stack
    return "\r\n".join(out)


def _xlwings_procedures() -> set[str]:
    text = (RIBBON_DIR / "xlwings.bas").read_text("cp1252")
    return set(re.findall(r"^(?:Public |Private )?(?:Function|Sub) (\w+)", text, re.M))


def _identifiers(code: str) -> set[str]:
    code = re.sub(r'"[^"\r\n]*"', '""', code)
    code = "\r\n".join(line.split("'", 1)[0] for line in code.split("\r\n"))
    return set(re.findall(r"[A-Za-z_]\w*", code))


def test_on_a_mac_the_ribbon_module_uses_nothing_of_xlwings() -> None:
    """The xlwings module does not compile on a Mac (no ``Dictionary`` class): CRMRibbon's
    Mac code must not reach it, while the Windows code does run Python through it."""
    vba = render.render_callback_module()
    xlwings_procs = _xlwings_procedures()
    assert {"RunPython", "GetConfig", "FileExists"} <= xlwings_procs
    on_mac = _identifiers(_preprocess(vba, mac=True))
    on_windows = _identifiers(_preprocess(vba, mac=False))
    assert not on_mac & xlwings_procs, on_mac & xlwings_procs
    assert {"RunPython", "GetConfig", "FileExists"} <= on_windows
    mac_action = _preprocess(vba, mac=True).split(f"Sub {render.ON_ACTION}(", 1)[1]
    mac_action = mac_action.split("End Sub", 1)[0]
    assert "CRM_Say" in mac_action and "Office" in mac_action
    assert "Dictionary" not in vba


def test_labels_follow_the_workbook_language_then_office() -> None:
    vba = render.render_callback_module()
    body = vba.split("Private Function CRM_IsChinese()", 1)[1].split("End Function", 1)[0]
    meta_at = body.index("CRM_BookLang(CRM_Book())")
    office_at = body.index("Application.LanguageSettings.LanguageID(2)")
    assert meta_at < office_at and 'If lang = "zh" Or lang = "en" Then Exit Function' in body
    book = vba.split("Private Function CRM_Book()", 1)[1].split("End Function", 1)[0]
    assert "ThisWorkbook.IsAddin" in book and "ActiveWorkbook" in book
    lang = vba.split("Private Function CRM_BookLang(", 1)[1].split("End Function", 1)[0]
    assert 'Worksheets("_meta")' in lang and 'Match("lang"' in lang


def test_the_ribbon_object_is_kept_and_the_tab_steps_aside_for_the_addin() -> None:
    root = ET.fromstring(render.render_custom_ui().encode("utf-8"))
    assert root.get("onLoad") == render.ON_LOAD
    tab = root.find("ui:ribbon/ui:tabs/ui:tab", NS)
    assert tab is not None and tab.get("getVisible") == render.GET_VISIBLE
    vba = render.render_callback_module()
    assert f"Public Sub {render.ON_LOAD}(ribbon As IRibbonUI)" in vba
    assert f"Public Sub {render.GET_VISIBLE}(control As IRibbonControl, ByRef visible)" in vba
    assert "CRM_Ribbon.Invalidate" in vba
    from addin.ribbon.vba_support import ADDIN_FILE, ADDIN_WORKBOOK_MODULE

    assert f'Workbooks("{ADDIN_FILE}")' in vba
    assert "Private WithEvents CRM_App As Application" in ADDIN_WORKBOOK_MODULE
    assert "CRMRibbon.CRM_Refresh" in ADDIN_WORKBOOK_MODULE


def test_python_that_cannot_start_points_at_setup_excel() -> None:
    vba = _preprocess(render.render_callback_module(), mac=False)
    run = vba.split("Private Sub CRM_Run(", 1)[1].split("End Sub", 1)[0]
    assert "If Not CRM_PythonReady() Then Exit Sub" in run
    assert "If RunPython(command) = -1 Then CRM_SetupHint" in run
    hint = vba.split("Private Sub CRM_SetupHint()", 1)[1].split("End Sub", 1)[0]
    texts = re.findall(r"(zh|en) = (?:\1 & )?([^\r\n]+)", hint)
    zh = "".join(_vba_expr_value(expr) for var, expr in texts if var == "zh")
    en = "".join(_vba_expr_value(expr) for var, expr in texts if var == "en")
    assert "crm-sheet setup-excel" in zh and "运行" in zh
    assert "crm-sheet setup-excel" in en and "Python" in en
