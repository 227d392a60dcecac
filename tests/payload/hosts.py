"""Run a command on a workbook file the two ways: over :class:`OpenpyxlPort` (the file) and
over :class:`PayloadPort` (the file's snapshot, as a host sends it; the recorded actions
replayed onto a copy with the reference host, saved, reloaded), and read back what a user
sees: cell values, notes, data validations, hidden state."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import orjson

from addin.payload.actions import split_pages
from addin.payload.from_openpyxl import snapshot_of
from addin.payload.replay_openpyxl import replay
from addin.port_payload import PayloadPort
from schema.layout import META_SHEET

STAMPS = ("last_pull", "last_push", "last_refresh",  # clock stamps and the pull's id:
          "pulled_at", "pull_id")  # each run has its own, compared by presence
GENERATED = ("生成时间：", "Generated: ")  # a report's generated-at line (to the minute)


def load(path: Path) -> Any:
    return openpyxl.load_workbook(path, keep_vba=True)


def payload_port(path: Path, rows_per_block: int | None = None) -> PayloadPort:
    """The port over what a host would send for the workbook at ``path`` (through JSON,
    as the host's requests carry it)."""
    info, blocks, notes = snapshot_of(load(path), openpyxl.load_workbook(path, data_only=True),
                                      rows_per_block)
    wire = orjson.loads(orjson.dumps([info.model_dump(), [b.model_dump() for b in blocks],
                                      [n.model_dump() for n in notes]],
                                     option=orjson.OPT_NON_STR_KEYS))
    return PayloadPort(type(info).model_validate(wire[0]),
                       [type(blocks[0]).model_validate(b) for b in wire[1]] if blocks else [],
                       [type(notes[0]).model_validate(n) for n in wire[2]] if notes else [])


def apply_actions(path: Path, port: PayloadPort) -> None:
    """What the host does after a run: the actions, page by page (through JSON), applied
    to the workbook, which is then saved."""
    wb = load(path)
    for page in split_pages(port.actions):
        replay(wb, orjson.loads(orjson.dumps(page)))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def run_payload(path: Path, command: Callable[[PayloadPort], Any]) -> Any:
    port = payload_port(path)
    result = command(port)
    apply_actions(path, port)
    return result


def twin(path: Path) -> Path:
    """A byte-identical copy of ``path`` beside it (``x.xlsm`` -> ``x-payload.xlsm``)."""
    other = path.with_name(path.stem + "-payload" + path.suffix)
    shutil.copyfile(path, other)
    return other


def _hidden_cols(ws: Any) -> set[int]:
    return {c for d in ws.column_dimensions.values() if d.hidden and d.min and d.max
            for c in range(d.min, d.max + 1)}


def _validations(ws: Any) -> set[tuple[Any, ...]]:
    return {(str(rng.coord), dv.type, dv.formula1, dv.errorStyle or "stop", dv.errorTitle,
             dv.error, dv.promptTitle, dv.prompt)
            for dv in ws.data_validations.dataValidation for rng in dv.sqref.ranges}


def state(path: Path) -> dict[str, Any]:
    """What a user sees of the workbook at ``path``, sheet by sheet."""
    wb = load(path)
    out: dict[str, Any] = {"order": wb.sheetnames,
                           "names": {n: d.attr_text for n, d in wb.defined_names.items()}}
    for ws in wb.worksheets:
        values = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
                  if c.value is not None}
        if ws.title == META_SHEET:
            values = {rc: ("<stamp>" if values.get((rc[0], 1)) in STAMPS and rc[1] == 2
                           else v) for rc, v in values.items()}
        values = {rc: "<generated>" if isinstance(v, str) and v.startswith(GENERATED) else v
                  for rc, v in values.items()}
        out[ws.title] = {
            "values": values,
            "notes": {(c.row, c.column): c.comment.text for row in ws.iter_rows()
                      for c in row if c.comment is not None},
            "validations": _validations(ws),
            "state": ws.sheet_state,
            "hidden_rows": {r for r, d in ws.row_dimensions.items() if d.hidden},
            "hidden_cols": _hidden_cols(ws),
            "freeze": ws.freeze_panes,
            "charts": len(ws._charts),
        }
    return out


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Where two :func:`state` results differ (empty: the same), for a readable failure."""
    out = [f"{k}: {a[k]} != {b[k]}" for k in ("order", "names") if a[k] != b[k]]
    for sheet in a["order"]:
        for key, want in a[sheet].items():
            got = b.get(sheet, {}).get(key)
            if want != got:
                if isinstance(want, dict) and isinstance(got, dict):
                    diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got)
                            if want.get(k) != got.get(k)}
                    out.append(f"{sheet} {key}: {dict(list(diff.items())[:5])}")
                else:
                    out.append(f"{sheet} {key}: {want!r} != {got!r}")
    return out


class FixedClock:
    """The add-in's stamps, the same for both copies of a parity run (new rows' ids derive
    from them, and the second push must send the first push's ids)."""

    @staticmethod
    def stamp() -> str:
        return "2026-03-31T06:30:00+00:00"

    @staticmethod
    def now() -> Any:
        from schema import clock

        return clock.now()

