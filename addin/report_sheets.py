"""The report sheets' entry points, kept where callers found them: the sheets themselves are
built by :mod:`addin.reportbook` (header block, cards, charts, tables, page set-up)."""

from __future__ import annotations

from addin.reportbook import SHEET_NAMES, build_report_sheets, build_sheet, report_grid

__all__ = ["SHEET_NAMES", "build_report_sheets", "build_sheet", "report_grid"]
