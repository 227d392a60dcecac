"""The fixed VBA procedures of the ``CRMRibbon`` module and the add-in's ``ThisWorkbook``.

``render.py`` writes the per-button parts (routing, labels, tips) from ``buttons.py``; the
procedures here are the same for every button:

- which workbook the ribbon works on (this one, or the active one when this is the
  ``.xlam`` add-in) and its language (``_meta`` key ``lang``, else the Office UI language);
- on Windows, a check that Python was set up (``crm-sheet setup-excel`` writes the user's
  xlwings config) before ``RunPython``, and the same hint when ``RunPython`` reports that
  Python could not start;
- on a Mac, a message that the Office add-in serves Mac (the xlwings module needs a
  ``Dictionary`` class there, which this project does not carry): nothing on the Mac
  path refers to the xlwings module, so ``CRMRibbon`` compiles there;
- the add-in's tab and the template's own tab never show twice: a workbook's own tab
  steps aside while the add-in is open;
- the ribbon object kept from ``onLoad`` so the add-in can re-read its labels when another
  workbook is activated (``ThisWorkbook`` of the add-in listens to ``Application`` events
  through a ``WithEvents`` variable: a document module is a class module, so no extra
  class module is needed).

All text is ASCII; Chinese is spelled with ``ChrW`` (see :func:`render.vba_string`).
"""

from __future__ import annotations

from collections.abc import Callable

ADDIN_FILE = "crm_addin.xlam"
META_SHEET = "_meta"  # schema.layout.META_SHEET (kept literal: VBA reads it by name)
LANG_KEY = "lang"
SETUP_COMMAND = "crm-sheet setup-excel"
OFFICE_ADDIN_DOC = "docs/office-service.md"
# msoLanguageIDUI values treated as Chinese: zh-CN, zh-SG, zh-TW, zh-HK, zh-MO.
CHINESE_LANGUAGE_IDS = (2052, 4100, 1028, 3076, 5124)

SETUP_HINT = (
    f"CRM 功能区找不到 Python 或 CRM 组件。请在本机打开命令提示符，运行：\n{SETUP_COMMAND}\n"
    "然后重新打开 Excel。",
    f"The CRM ribbon cannot find Python or the CRM package. On this PC open a command "
    f"prompt, run:\n{SETUP_COMMAND}\nthen open Excel again.",
)
MAC_MESSAGE = (
    "Mac 版 Excel 不支持此功能区（需要 Windows 桌面版 Excel）。请使用 CRM Office 加载项："
    "在 Excel 中选择“插入 > 加载项”，或请管理员为团队部署。",
    "This ribbon needs Windows desktop Excel. On a Mac use the CRM Office add-in: Insert > "
    "Add-ins in Excel, or ask your admin to deploy it to the team.",
)


def _say(vba_string: Callable[[str], str], texts: tuple[str, str], style: str) -> list[str]:
    """Lines building the zh and en text in short pieces (VBA lines stay far below their
    1,023-character limit) and showing both."""
    lines = ["    Dim zh As String, en As String"]
    for var, text in zip(("zh", "en"), texts, strict=True):
        pieces = [text[i:i + 40] for i in range(0, len(text), 40)]
        lines.append(f"    {var} = {vba_string(pieces[0])}")
        lines += [f"    {var} = {var} & {vba_string(piece)}" for piece in pieces[1:]]
    return [*lines, f"    CRM_Say zh, en, {style}"]


def support_procedures(vba_string: Callable[[str], str]) -> list[str]:
    """The fixed procedures of ``CRMRibbon`` (lines, no line endings)."""
    ids = ", ".join(str(i) for i in CHINESE_LANGUAGE_IDS)
    return [
        "Public CRM_Ribbon As IRibbonUI",
        "",
        "Public Sub CRM_OnLoad(ribbon As IRibbonUI)",
        "    Set CRM_Ribbon = ribbon",
        "End Sub",
        "",
        "Public Sub CRM_Refresh()",
        "    ' Another workbook was activated: its language may differ.",
        "    On Error Resume Next",
        "    If Not CRM_Ribbon Is Nothing Then CRM_Ribbon.Invalidate",
        "End Sub",
        "",
        "Private Function CRM_Book() As Object",
        "    ' The workbook the ribbon works on: this one, or the active one in the add-in.",
        "    On Error Resume Next",
        "    If ThisWorkbook.IsAddin Then",
        "        Set CRM_Book = ActiveWorkbook",
        "    Else",
        "        Set CRM_Book = ThisWorkbook",
        "    End If",
        "End Function",
        "",
        "Private Function CRM_BookLang(wb As Object) As String",
        f"    ' The {LANG_KEY} value of the workbook's {META_SHEET} sheet: zh, en or empty.",
        "    Dim sh As Object, found As Variant",
        "    On Error Resume Next",
        f'    Set sh = wb.Worksheets("{META_SHEET}")',
        "    If sh Is Nothing Then Exit Function",
        f'    found = Application.Match("{LANG_KEY}", sh.Columns(1), 0)',
        "    If IsError(found) Or IsEmpty(found) Then Exit Function",
        "    CRM_BookLang = LCase$(Trim$(CStr(sh.Cells(found, 2).Value)))",
        "End Function",
        "",
        "Private Function CRM_IsChinese() As Boolean",
        "    Dim lang As String, languageId As Long",
        "    lang = CRM_BookLang(CRM_Book())",
        '    If lang = "zh" Then CRM_IsChinese = True',
        '    If lang = "zh" Or lang = "en" Then Exit Function',
        "    On Error Resume Next",
        "    languageId = Application.LanguageSettings.LanguageID(2) ' msoLanguageIDUI",
        "    On Error GoTo 0",
        "    Select Case languageId",
        f"        Case {ids}",
        "            CRM_IsChinese = True",
        "    End Select",
        "End Function",
        "",
        "Public Sub CRM_GetVisible(control As IRibbonControl, ByRef visible)",
        "    ' A workbook's own CRM tab steps aside while the CRM add-in is open.",
        "    Dim addin As Object",
        "    visible = True",
        "    On Error Resume Next",
        "    If ThisWorkbook.IsAddin Then Exit Sub",
        f'    Set addin = Workbooks("{ADDIN_FILE}")',
        "    If Not addin Is Nothing Then visible = False",
        "End Sub",
        "",
        "Private Sub CRM_Say(zh As String, en As String, style As VbMsgBoxStyle)",
        '    MsgBox zh & vbCrLf & vbCrLf & en, style, "CRM"',
        "End Sub",
        "",
        "#If Not Mac Then",
        "Private Function CRM_PythonReady() As Boolean",
        "    ' The user's xlwings config names an interpreter that exists (setup-excel).",
        "    Dim interpreter As String",
        "    On Error Resume Next",
        '    interpreter = GetConfig("INTERPRETER_WIN", "")',
        '    If interpreter = "" Then interpreter = GetConfig("INTERPRETER", "")',
        '    If interpreter = "" And GetConfig("CONDA PATH", "") <> "" Then interpreter = "python"',
        "    On Error GoTo 0",
        '    If interpreter = "python" Or interpreter = "pythonw" Then',
        "        CRM_PythonReady = True",
        '    ElseIf interpreter <> "" Then',
        "        CRM_PythonReady = FileExists(interpreter)",
        "    End If",
        "    If Not CRM_PythonReady Then CRM_SetupHint",
        "End Function",
        "",
        "Private Sub CRM_SetupHint()",
        *_say(vba_string, SETUP_HINT, "vbExclamation"),
        "End Sub",
        "",
        "Private Sub CRM_Run(command As String)",
        "    ' RunPython answers -1 when Python ended with an error before the CRM code",
        "    ' could report it (the CRM code shows its own messages and ends normally).",
        "    If Not CRM_PythonReady() Then Exit Sub",
        "    If RunPython(command) = -1 Then CRM_SetupHint",
        "End Sub",
        "#End If",
    ]


def mac_branch(vba_string: Callable[[str], str]) -> list[str]:
    """The Mac body of ``CRM_OnAction``: say that the Office add-in serves Mac."""
    return _say(vba_string, MAC_MESSAGE, "vbInformation")


ADDIN_WORKBOOK_MODULE = "\r\n".join([
    "Option Explicit",
    "' The CRM add-in: re-read the ribbon's labels whenever another workbook is activated",
    "' (each CRM workbook says its language in _meta). Lost if the VBA project is reset;",
    "' opening Excel again restores it.",
    "Private WithEvents CRM_App As Application",
    "",
    "Private Sub Workbook_Open()",
    "    Set CRM_App = Application",
    "End Sub",
    "",
    "Private Sub CRM_App_WorkbookActivate(ByVal Wb As Workbook)",
    "    CRMRibbon.CRM_Refresh",
    "End Sub",
    "",
]) + "\r\n"
"""Code of the add-in's ``ThisWorkbook`` document module."""
