"""A subject export (``export.subject_export``) as an ``.xlsx`` workbook (openpyxl): one
sheet per entity (a row per record, every column), one for the audit trail, one for holds.
Every text is stored as text: never a formula, never converted."""

from __future__ import annotations

import io
import json
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

AUDIT_COLUMNS = ("id", "seq", "at", "username", "action", "entity", "record_id", "changes",
                 "erased", "push_key", "change_seq")


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _table(ws: Worksheet, columns: list[str], rows: list[dict[str, Any]]) -> None:
    ws.append(columns)
    for r in rows:
        ws.append([_cell(r.get(c)) for c in columns])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str):
                c.data_type = "s"  # "=..." stays text
    ws.freeze_panes = "A2"


def workbook_bytes(export: dict[str, Any]) -> bytes:
    """The ``.xlsx`` file of one subject export."""
    wb = Workbook()
    about = wb.active
    assert about is not None
    about.title = "subject"
    for k in ("subject", "exported_at", "exported_by"):
        about.append([k, _cell(export[k])])
    for entity, rows in export["records"].items():
        columns = list(rows[0]) if rows else ["id"]
        _table(wb.create_sheet(entity[:31]), columns, rows)
    _table(wb.create_sheet("audit"), list(AUDIT_COLUMNS), export["audit"])
    holds = export["holds"]
    _table(wb.create_sheet("holds"), list(holds[0]) if holds else ["id"], holds)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
