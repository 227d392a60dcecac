"""The CRM ribbon as an Excel add-in (``templates/crm_addin.xlam``), so data workbooks can be
plain ``.xlsx`` files without macros.

Built from the same parts as the template: the customUI of ``addin.ribbon.render``, the
xlwings and ``CRMRibbon`` modules of ``addin.vba.build``, plus a ``ThisWorkbook`` module that
re-reads the ribbon's labels when another workbook is activated. One sheet (hidden by Excel,
as every add-in's) says what the file is. The workbook part carries the add-in content
type, which is what makes Excel load the file as an add-in. ``crm-sheet setup-excel``
installs it; ``python -m addin.template`` writes the committed copy.
"""

from __future__ import annotations

import io

import xlsxwriter

from addin.ribbon.render import render_custom_ui
from addin.ribbon.vba_support import ADDIN_FILE, ADDIN_WORKBOOK_MODULE, SETUP_COMMAND
from addin.template.builder import FIXED_CREATED
from addin.template.package import CONTENT_TYPES_PART, add_custom_ui, read_parts, write_parts
from addin.vba.build import build_crm_vba_project

ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
MACRO_WORKBOOK_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ADDIN_PROJECT = "CRMAddin"
ABOUT_CODE_NAME = "shAbout"
_ABOUT = (
    ("CRM 功能区加载项", "CRM ribbon add-in"),
    ("本加载项为所有打开的 CRM 工作簿（包括不含宏的 .xlsx）提供“CRM”选项卡，"
     "命令作用于当前活动的工作簿。",
     "Gives every open CRM workbook (plain .xlsx ones too) the CRM tab; its commands work "
     "on the active workbook."),
    (f"安装：在命令提示符中运行 {SETUP_COMMAND}。",
     f"Install: run {SETUP_COMMAND} in a command prompt."),
)

__all__ = ["ADDIN_CONTENT_TYPE", "ADDIN_FILE", "as_addin", "build_addin"]


def as_addin(package: bytes) -> bytes:
    """``package`` (a macro-enabled workbook) typed as an add-in workbook."""
    parts = read_parts(package)
    types = parts[CONTENT_TYPES_PART].decode("utf-8")
    if MACRO_WORKBOOK_CONTENT_TYPE not in types:
        raise ValueError("not a macro-enabled workbook package")
    parts[CONTENT_TYPES_PART] = types.replace(MACRO_WORKBOOK_CONTENT_TYPE,
                                              ADDIN_CONTENT_TYPE).encode("utf-8")
    return write_parts(parts)


def _workbook() -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"title": "CRM add-in", "created": FIXED_CREATED})
    wb.set_vba_name("ThisWorkbook")
    project = build_crm_vba_project([ABOUT_CODE_NAME], ADDIN_WORKBOOK_MODULE,
                                    project_name=ADDIN_PROJECT)
    wb.add_vba_project(io.BytesIO(project), is_stream=True)
    ws = wb.add_worksheet("CRM")
    ws.set_vba_name(ABOUT_CODE_NAME)
    ws.set_column(0, 1, 70, wb.add_format({"text_wrap": True, "valign": "top"}))
    bold = wb.add_format({"bold": True})
    for r, (zh, en) in enumerate(_ABOUT):
        ws.write_string(r, 0, zh, bold if r == 0 else None)
        ws.write_string(r, 1, en, bold if r == 0 else None)
    wb.close()
    return out.getvalue()


def build_addin() -> bytes:
    """The ``.xlam`` bytes (one add-in for both languages: labels follow each workbook's
    ``_meta`` language). Same code, same bytes."""
    return as_addin(add_custom_ui(_workbook(), render_custom_ui()))
