"""A task pane in Chromium over a fake Excel holding a real CRM workbook, against a live
bridge with the Office service, and the workbook's openpyxl twin: every action page the
pane receives is replayed onto the twin by the reference host (``replay_openpyxl``), so
after each command the fake Excel must hold what the reference host made of the same
actions (values, notes, hidden rows, columns and sheets, frozen panes)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl

from addin.payload.from_openpyxl import host_value, snapshot_of
from addin.payload.replay_openpyxl import replay
from tests.office.browser import fake_state, new_page

SIGNED_IN = """localStorage.setItem("__fake_runtime:crm.office.signin",
  JSON.stringify({token: %s, user: {username: %s}}));"""
OUTCOME = """() => crmTaskpane.last && {
  result: crmTaskpane.last.result, applied: crmTaskpane.last.applied,
  files: crmTaskpane.last.files.map(f => ({file: f.file, name: f.name, shown: f.shown,
                                            bytes: f.bytes.length}))}"""
DONE = """() => window.crmTaskpane && !window.crmTaskpane.busy
  && (window.crmTaskpane.last !== null || !document.querySelector('#error').hidden)"""


def seed_of(wb: Any) -> dict[str, Any]:
    """What the fake Excel starts with: the workbook's snapshot, as the contract says, and
    the hidden rows and columns a snapshot does not carry."""
    info, blocks, notes = snapshot_of(wb)
    layout = [{"sheet": ws.title, "hiddenRows": (v := twin_view(ws))["hiddenRows"],
               "hiddenCols": v["hiddenCols"]} for ws in wb.worksheets]
    return json.loads(json.dumps({
        "info": info.model_dump(mode="json"),
        "blocks": [b.model_dump(mode="json") for b in blocks],
        "notes": [n.model_dump(mode="json") for n in notes], "layout": layout},
        ensure_ascii=False))


class Pane:
    def __init__(self, browser: Any, url: str, path: Path, token: str | None,
                 user: str = "admin", **kw: Any) -> None:
        self.twin = openpyxl.load_workbook(path, keep_vba=True)
        self.page = new_page(browser, seed_of(openpyxl.load_workbook(path, keep_vba=True)), **kw)
        if token:
            self.page.add_init_script(SIGNED_IN % (json.dumps(token), json.dumps(user)))
        self.responses: list[Any] = []
        self.page.on("response", self._seen)
        self.page.goto(f"{url}/office/taskpane.html")
        self.page.wait_for_selector("#btn-crm_pull")

    def _seen(self, response: Any) -> None:
        if "/office/api/sessions/" in response.url and "/actions/" in response.url:
            self.responses.append(response)

    def press(self, button: str, file: Path | None = None, timeout: float = 600_000) -> Any:
        """Click ``button``, wait for the result (or the error), replay the action pages the
        pane got onto the twin; the outcome the pane drew (``crmTaskpane.last``)."""
        self.page.evaluate("() => { crmTaskpane.last = null; }")
        seen = len(self.responses)
        self.page.click(f"#btn-{button}")
        if file is not None:
            self.page.wait_for_selector("#picker:not([hidden])")
            self.page.set_input_files("#picker-file", str(file))
        self.page.wait_for_function(DONE, timeout=timeout)
        pages = sorted((r.json() for r in self.responses[seen:]), key=lambda p: p["page"])
        for p in pages:
            replay(self.twin, p["actions"])
        self.actions = [a for p in pages for a in p["actions"]]
        return self.page.evaluate(OUTCOME)

    def error(self) -> str:
        return str(self.page.inner_text("#error")) if self.page.is_visible("#error") else ""

    def edit(self, sheet: str, row: int, col: int, value: Any) -> None:
        """A user typing into a cell: in the fake Excel and in the twin alike."""
        act = {"op": "set_values", "sheet": sheet, "row": row, "col": col, "values": [[value]]}
        self.page.evaluate("(a) => crmTaskpane.host.applyActions([a])", act)
        replay(self.twin, [act])

    def sent(self) -> list[dict[str, Any]]:
        """Every call of the pane's protocol client: method, path, bytes sent and received."""
        calls: list[dict[str, Any]] = self.page.evaluate("() => crmTaskpane.protocol.sent")
        return calls

    def excel_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.page.evaluate("() => window.__fake.stats")
        return stats

    def state(self) -> dict[str, Any]:
        return fake_state(self.page)

    def opened(self) -> list[bytes]:
        import base64

        got = self.page.evaluate("() => window.__fake.book.opened")
        return [base64.b64decode(b) for b in got]


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    out = [list(r) for r in rows]
    for r in out:
        while r and r[-1] is None:
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out


def twin_view(ws: Any) -> dict[str, Any]:
    """A sheet of the twin as the fake dumps one: values (formulas as {"f"}), notes,
    hidden rows and columns, visibility, freeze."""
    rows: list[list[Any]] = []
    for (r, c), cell in sorted(ws._cells.items()):
        if cell.value is None:
            continue
        while len(rows) < r:
            rows.append([])
        row = rows[r - 1]
        while len(row) < c:
            row.append(None)
        value = {"f": cell.value} if cell.data_type == "f" else host_value(cell.value)
        row[c - 1] = None if value == "" else value
    hidden_cols = sorted({c for d in ws.column_dimensions.values() if d.hidden and d.min
                          for c in range(d.min, d.max + 1)})
    frozen = ws.freeze_panes
    freeze = list(openpyxl.utils.cell.coordinate_to_tuple(frozen)) if frozen else [1, 1]
    return {"values": _trim(rows), "notes": sorted((n.row, n.column, n.comment.text)
                                                   for row in ws.iter_rows() for n in row
                                                   if n.comment is not None),
            "hiddenRows": sorted(r for r, d in ws.row_dimensions.items() if d.hidden),
            "hiddenCols": hidden_cols, "visibility": {"veryHidden": "very_hidden"}.get(
                ws.sheet_state, ws.sheet_state), "freeze": freeze}


def fake_view(sheet: dict[str, Any]) -> dict[str, Any]:
    return {"values": _trim(sheet["values"]),
            "notes": sorted((n["row"], n["col"], n["text"]) for n in sheet["notes"]),
            "hiddenRows": sheet["hiddenRows"], "hiddenCols": sheet["hiddenCols"],
            "visibility": sheet["visibility"], "freeze": sheet["freeze"]}


def differences(pane: Pane) -> dict[str, Any]:
    """What differs between the fake Excel and the twin, sheet by sheet ({}: nothing)."""
    state = pane.state()
    out: dict[str, Any] = {}
    fake_names = [s["name"] for s in state["sheets"]]
    if fake_names != pane.twin.sheetnames:
        out["sheets"] = (fake_names, pane.twin.sheetnames)
    for sheet in state["sheets"]:
        if sheet["name"] not in pane.twin.sheetnames:
            continue
        mine, ref = fake_view(sheet), twin_view(pane.twin[sheet["name"]])
        diff = {k: (mine[k], ref[k]) for k in mine if mine[k] != ref[k]}
        if "values" in diff:  # name the first differing cell rather than the whole grid
            diff["values"] = _first_cell(mine["values"], ref["values"])
        if diff:
            out[sheet["name"]] = diff
    return out


def _first_cell(a: list[list[Any]], b: list[list[Any]]) -> Any:
    for r in range(max(len(a), len(b))):
        ra = a[r] if r < len(a) else []
        rb = b[r] if r < len(b) else []
        for c in range(max(len(ra), len(rb))):
            va = ra[c] if c < len(ra) else None
            vb = rb[c] if c < len(rb) else None
            if va != vb:
                return {"row": r + 1, "col": c + 1, "excel": va, "reference": vb}
    return None


def workbook_bytes(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))
