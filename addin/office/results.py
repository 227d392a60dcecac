"""A command's outcome as the task pane shows it (``Result`` of the protocol): counts,
lines and messages in the workbook's language, and the conflicts waiting for a choice, read
back from the Conflicts sheet with the cell the choice goes in and the values it takes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from addin.commands import CommandResult
from addin.port import WorkbookPort
from addin.sheets import CHOICES, entity_sheets, parse_conflicts, special_sheet
from schema.dictionary import Dictionary
from schema.errors import Lang
from schema.layout import CONFLICTS_SHEET, FIRST_DATA_ROW

MAX_MESSAGES = 2000  # the lines say how many more; a response stays far under 5 MB
CHOICE_LABELS = {"mine": ("保留我的", "Keep mine"), "theirs": ("采用服务器的", "Take the server's")}

def plain(value: Any) -> Any:
    """A cell value as JSON: dates as ISO text, anything else odd as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value else None  # NaN: empty
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)

def messages(result: CommandResult) -> list[dict[str, Any]]:
    return [{"level": m.level, "code": None if m.code is None else str(m.code),
             "sheet": m.sheet, "row": plain(m.row), "field": m.field,
             "text": m.message(result.lang)} for m in result.messages[:MAX_MESSAGES]]

def conflicts(port: WorkbookPort, dictionary: Dictionary, lang: Lang) -> list[dict[str, Any]]:
    """Every conflict on the Conflicts sheet: where its row is, both values, and the
    Conflicts sheet cell a choice is written to (with the values it accepts)."""
    meta, names = port.read_meta(), port.sheet_names()
    sheet = special_sheet(meta, names, CONFLICTS_SHEET)
    if sheet is None:
        return []
    keys, frame = port.read_table(sheet)
    if "choice" not in keys:
        return []
    col = keys.index("choice") + 1
    targets = entity_sheets(meta, names, dictionary)
    idx = 0 if lang == "zh" else 1
    out = []
    for row in (r for r in frame.index if r >= FIRST_DATA_ROW):
        for c in parse_conflicts(keys, frame.loc[[row]], dictionary):
            out.append({
                "sheet": targets.get(c.entity), "row": c.row, "field": c.field,
                "label": dictionary.entity(c.entity).field(c.field).label(lang),
                "mine": plain(c.mine), "theirs": plain(c.theirs),
                "current": CHOICES[c.choice][idx] if c.choice else None,
                "choice": {"sheet": sheet, "row": int(row), "col": col},
                "choices": [{"value": CHOICES[k][idx], "label": CHOICE_LABELS[k][idx]}
                            for k in ("mine", "theirs")],
            })
    return out

def result_json(result: CommandResult, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The protocol's ``Result``."""
    return {"command": result.command, "ok": result.ok, "lang": result.lang,
            "counts": dict(result.counts), "lines": result.lines(),
            "messages": messages(result), "conflicts": found}
