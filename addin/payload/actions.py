"""The actions a host applies to its workbook after a command ran over the payload port.

Each action is a plain JSON object with an ``op`` key; :data:`OPS` names every op and the
keys it carries. Rules every host follows:

- Coordinates are 1-based sheet ``row``/``col``; a block is ``row``, ``col``, ``rows``,
  ``cols`` (or the shape of its ``values``).
- A cell value is ``null`` (empty the cell), a boolean, a number (dates arrive as Excel
  serial numbers; their format comes in a ``set_number_format``), a string, or
  ``{"f": "=SUM(B2:B9)"}`` for a formula. A string is always stored as text, never run as
  a formula nor converted to a number or date (Excel: a leading ``'``, or the ``@`` format).
- Colours are six hex digits (``FFC7CE``), ``null`` meaning none.
- Actions are applied in order; a host stops at the first one it cannot apply and says
  which (``op`` and index).

Batches: :func:`split_pages` cuts a list of actions into pages whose JSON stays under a
byte limit (Excel on the web refuses requests and responses over 5 MB), splitting large
``set_values`` and ``set_notes`` actions by rows.
"""

from __future__ import annotations

from typing import Any

import orjson

Action = dict[str, Any]

# op -> the keys it carries besides "op" (every key required; None allowed where stated)
OPS: dict[str, tuple[str, ...]] = {
    # sheets
    "add_sheet": ("sheet", "before", "after"),  # before/after: a sheet name or None (end)
    "delete_sheet": ("sheet",),
    "rename_sheet": ("sheet", "to"),
    "set_visibility": ("sheet", "state"),  # "visible" | "hidden" | "very_hidden"
    "activate": ("sheet",),
    # cells
    "set_values": ("sheet", "row", "col", "values"),  # values: rectangular list of rows
    "clear": ("sheet", "row", "col", "rows", "cols"),  # contents only, formats stay
    "set_number_format": ("sheet", "row", "col", "rows", "cols", "format"),
    "set_fill": ("sheet", "cells", "color"),  # cells: [[row, col], ...]; color None: none
    "set_font": ("sheet", "row", "col", "rows", "cols", "bold", "italic", "size", "color"),
    "set_alignment": ("sheet", "row", "col", "rows", "cols", "horizontal", "wrap"),
    "merge": ("sheet", "row", "col", "rows", "cols"),
    "set_notes": ("sheet", "notes"),  # notes: [{"row", "col", "text" (None: delete)}]
    # layout
    "set_validation": ("sheet", "row", "col", "rows", "cols", "list", "stop",
                       "error_title", "error", "prompt_title", "prompt"),
    # ^ list: a source such as "=crm_list_stage" or None (an input message only)
    "set_name": ("name", "ref"),  # workbook-scoped defined name, added or replaced
    "freeze": ("sheet", "row", "col"),  # first cell that scrolls; (1, 1): no freeze
    "hide_rows": ("sheet", "rows"),  # rows: [row, ...]
    "hide_cols": ("sheet", "cols"),  # cols: [col, ...]
    "set_column_widths": ("sheet", "widths"),  # {"3": 12.5} characters, as Excel's unit
    "page_setup": ("sheet", "landscape", "fit_width", "title_rows"),  # title_rows "1:4"
    # ^ | None
    "add_chart": ("sheet", "kind", "data", "anchor", "title"),
    # ^ kind: "column" | "bar" | "line" | "pie"; data: {"row", "col", "rows", "cols"} with
    #   categories in the first column and a header row, and optionally "series": the sheet
    #   columns plotted (default: every column after the first); anchor: {"row", "col"},
    #   optionally "width" and "height" in points
    # the workbook as a whole
    "open_workbook": ("file", "name"),  # a file the session produced (upgrade, import)
}
SPLITTABLE = {"set_values": "values", "set_notes": "notes"}
MAX_BYTES = 4_000_000  # under Excel on the web's 5 MB, with room for the envelope


def action(op: str, **keys: Any) -> Action:
    """An action, checked against :data:`OPS` (a missing or unknown key is a bug)."""
    want = OPS[op]
    if set(keys) != set(want):
        raise ValueError(f"{op}: keys {sorted(keys)} are not {sorted(want)}")
    return {"op": op, **keys}


def size_of(item: Any) -> int:
    return len(orjson.dumps(item))


def _parts(act: Action, limit: int) -> list[Action]:
    """``act`` cut into parts whose JSON stays under ``limit`` (by rows or notes)."""
    key = SPLITTABLE.get(act["op"])
    if key is None or size_of(act) <= limit:
        return [act]
    items: list[Any] = act[key]
    out: list[Action] = []
    start, budget, used = 0, limit - size_of({**act, key: []}), 0
    for i, item in enumerate(items):
        cost = size_of(item) + 1
        if used + cost > budget and i > start:
            out.append(_slice(act, key, start, i))
            start, used = i, 0
        used += cost
    out.append(_slice(act, key, start, len(items)))
    return out


def _slice(act: Action, key: str, start: int, stop: int) -> Action:
    part = {**act, key: act[key][start:stop]}
    if key == "values":
        part["row"] = act["row"] + start
    return part


def split_pages(actions: list[Action], limit: int = MAX_BYTES) -> list[list[Action]]:
    """Pages of actions, in order, each page's JSON list under ``limit`` bytes."""
    pages: list[list[Action]] = [[]]
    used = 2
    for act in actions:
        for part in _parts(act, limit - 16):
            cost = size_of(part) + 1
            if used + cost > limit and pages[-1]:
                pages.append([])
                used = 2
            pages[-1].append(part)
            used += cost
    return pages
