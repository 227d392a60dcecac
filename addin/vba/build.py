"""Build the CRM workbook's ``vbaProject.bin``: xlwings + ribbon callbacks + document modules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from addin.vba.project import VbaModule, build_vba_project, parse_bas

RIBBON_DIR = Path(__file__).resolve().parent.parent / "ribbon"
BAS_FILES = ("xlwings.bas", "CRMRibbon.bas")
SOURCE_ENCODING = "cp1252"  # VBE exports .bas files in the ANSI code page; ours are ASCII


def load_bas(path: Path) -> VbaModule:
    """Read an exported ``.bas`` file as a procedural module."""
    return parse_bas(path.read_bytes().decode(SOURCE_ENCODING))


def crm_modules() -> list[VbaModule]:
    """The procedural modules shipped in the CRM workbook, in project order."""
    return [load_bas(RIBBON_DIR / name) for name in BAS_FILES]


def build_crm_vba_project(sheet_code_names: Sequence[str], this_workbook: str = "", *,
                          project_name: str = "CRMWorkbook") -> bytes:
    """Return ``vbaProject.bin`` bytes for a workbook whose sheets have these code names.

    The code names must match the ``codeName`` of each worksheet in the workbook (and the
    workbook's own code name must be ``ThisWorkbook``, whose code is ``this_workbook``).
    Same input, same bytes.
    """
    names = list(sheet_code_names)
    if "ThisWorkbook" in names:
        raise ValueError("ThisWorkbook is added automatically; pass worksheet code names only")
    modules = crm_modules()
    if this_workbook:
        modules.append(VbaModule("ThisWorkbook", this_workbook, document=True))
    return build_vba_project(modules, ["ThisWorkbook", *names], project_name=project_name)
