"""The Office add-in's service at scale: ``N`` customers pulled into a fresh workbook
through ``/office/`` (a thin host over HTTP, as the JS client works: the sheets posted in
row blocks, the pages of actions fetched and applied with the reference host), then ``M``
edited rows pushed back the same way; beside the same pull and push by ``crm-sheet`` (the
openpyxl port) in the same run. The bridge runs as its own process.

    python -m bench.bench_office [--rows 100000] [--edits 10000] [--block-rows 2000]

Prints each phase's seconds, the pages and the largest request and response bytes (each
must stay under Excel on the web's 5 MB).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from addin import commands
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from addin.template import build_template
from bench.common import bridge, bulk_load, customers, db_rows
from schema.layout import FIRST_DATA_ROW, META_SHEET


def _book(path: Path) -> Path:
    OpenpyxlPort.from_bytes(build_template("zh"), path).save()
    return path


def _edit(path: Path, start: int, count: int, text: str) -> None:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(min_row=2, values_only=True)}
    name = next(k[6:] for k, v in meta.items() if k and k.startswith("sheet:") and v == "customer")
    ws = wb[name]
    col = next(c.column for c in ws[1] if c.value == "address")
    for r in range(FIRST_DATA_ROW + start, FIRST_DATA_ROW + start + count):
        ws.cell(row=r, column=col, value=f"{text}{r}")
    wb.save(path)


def _timed(took: dict[str, float], key: str, fn: Any, *args: Any, **kw: Any) -> Any:
    t = time.perf_counter()
    out = fn(*args, **kw)
    took[key] = round(time.perf_counter() - t, 2)
    return out


def _office(c: httpx.Client, path: Path, command: str, block_rows: int,
            took: dict[str, float], tag: str) -> dict[str, Any]:
    from tests.office.host import HostRun, finish, open_and_upload, run

    sizes: list[int] = []
    sid = _timed(took, f"{tag} snapshot+upload", open_and_upload, c, path, command,
                 rows_per_block=block_rows, sizes=sizes)
    answer = _timed(took, f"{tag} run", run, c, sid)
    out = HostRun(answer["result"], answer, sent_bytes=sizes)
    _timed(took, f"{tag} fetch+apply", finish, c, sid, path, out)
    return {"result": out.result, "pages": len(out.pages), "requests": len(sizes),
            "max_request": max(sizes), "max_page": max(out.page_bytes)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--edits", type=int, default=10_000)
    ap.add_argument("--block-rows", type=int, default=2000)
    args = ap.parse_args(argv)
    took: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="crm-office-") as tmp, \
            bridge("sqlite", process=True) as b:
        _timed(took, "load", bulk_load, b, db_rows(customers(args.rows)))
        cli, svc = _book(Path(tmp) / "cli.xlsm"), _book(Path(tmp) / "office.xlsm")
        with BridgeClient(b.url, b.token, timeout=1800) as client:
            _timed(took, "crm-sheet pull", commands.pull, OpenpyxlPort.open(cli), client)
            with httpx.Client(base_url=b.url + "/office", timeout=1800,
                              headers={"Authorization": f"Bearer {b.token}"}) as c:
                pull = _office(c, svc, "pull", args.block_rows, took, "office pull")
                _edit(cli, 0, args.edits, "cli-")
                _edit(svc, args.edits, args.edits, "office-")
                _timed(took, "crm-sheet push", commands.push, OpenpyxlPort.open(cli), client)
                push = _office(c, svc, "push", args.block_rows, took, "office push")
    print(f"rows {args.rows}, edits {args.edits}, block rows {args.block_rows}")
    for k, v in took.items():
        print(f"  {k:24} {v:8.2f} s")
    for name, got in (("pull", pull), ("push", push)):
        print(f"  office {name}: counts {got['result']['counts']}, {got['pages']} pages, "
              f"{got['requests']} requests, largest request {got['max_request']:,} B, "
              f"largest page {got['max_page']:,} B")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
