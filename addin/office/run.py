"""A command run over the payload port: the uploaded sheets become a
``PayloadPort``, the command of :mod:`addin.commands` runs over it with a client for the
caller's token, and its recorded actions are paged under 5 MB."""

from __future__ import annotations

import re
from typing import Any

from addin.payload.snapshot import WorkbookInfo
from addin.reportbook import SHEET_NAMES
from schema.layout import META_SHEET

REPORT_SHEETS = {name for names in SHEET_NAMES.values() for name in names.values()}
DATED_COPY = re.compile(r"^(?P<sheet>.+) \d{4}-\d{2}-\d{2}$")


def is_report_sheet(name: str) -> bool:
    """A report sheet, or a dated copy of one (``销售漏斗 2026-12-01``): rebuilt from the
    bridge, never read."""
    m = DATED_COPY.match(name)
    return name in REPORT_SHEETS or (m is not None and m["sheet"] in REPORT_SHEETS) or \
        any(name.startswith(f"{r} ") and DATED_COPY.match(name) for r in REPORT_SHEETS)


def upload_list(command: str, info: WorkbookInfo) -> list[str]:
    """The sheets a command reads, in workbook order: all but the report sheets (help: the
    meta sheet only, for the workbook's language)."""
    names = [s.name for s in info.sheets]
    if command == "show_help":
        return [n for n in names if n == META_SHEET]
    return [n for n in names if not is_report_sheet(n)]


def run_session(session: Any, client: Any) -> dict[str, Any]:  # pragma: no cover - port lands
    raise NotImplementedError("run.py waits for addin.port_payload")
