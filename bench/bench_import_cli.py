"""Benchmark: the add-in's side of ``crm-sheet import`` on a big legacy file.

``--rows`` source rows (realistic company names, USCCs, phones, addresses) are written as an
xlsx, then timed stage by stage as the command runs them: read (``read_tables``,
python-calamine) beside openpyxl's read-only reader as the baseline; mapping and mapped rows
(``addin.importing.run.prepare``); with ``--live``, a private bridge (SQLite, own process):
sending the rows in batches, the dry run and fetching the decisions; the report workbook
(XlsxWriter, constant memory) beside openpyxl's write-only writer filling the same cells as
the baseline. The process's peak RSS is printed last.

    python -m bench.bench_import_cli                      # 200,000 rows, no bridge
    python -m bench.bench_import_cli --rows 50000 --live  # and the bridge's part
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from addin.client import BridgeClient
from addin.importing import run
from addin.importing.files import read_tables
from addin.importing.report import ReportData, _Writer, write_report
from addin.importing.words import PREVIEW
from schema.dictionary import build_dictionary
from schema.wire_import import ImportCreate, RowDecision
from tests.schema.labelled_companies import existing_records

HEADER = ["公司名称", "统一社会信用代码", "总机", "地址"]


def make_source(path: Path, rows: int) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "strings_to_numbers": False})
    ws = book.add_worksheet("客户")
    ws.write_row(0, 0, HEADER)
    for i, r in enumerate(existing_records(rows), start=1):
        ws.write_row(i, 0, [r.name, r.uscc, r.phone, f"{r.name[:2]}市人民路{i % 999}号"])
    book.close()


def read_openpyxl(path: Path) -> int:
    book = openpyxl.load_workbook(path, read_only=True)
    n = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return n


def report_openpyxl(path: Path, data: ReportData) -> None:
    """The baseline: the same Preview cells through openpyxl's write-only writer."""
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("导入预览")
    writer = _Writer.__new__(_Writer)
    writer.data, writer.lang, writer.dictionary = data, data.lang, build_dictionary()
    writer.targets = [(c, t) for c, t in data.mapping.columns.items() if t]
    writer.column_of = {t: c for c, t in writer.targets}
    ws.append([c.zh for c in PREVIEW] + [c for c, _ in writer.targets])
    by_row = {r.source_row: r for r in data.rows}
    for d in data.decisions:
        row = by_row[d.source_row]
        values = [row.values.get(t.partition(".")[0], {}).get(t.partition(".")[2])
                  for _, t in writer.targets]
        ws.append([*writer.preview_cells(d), *values])
    book.save(path)


def timed(label: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    out = fn()
    print(f"  {label:<46} {time.perf_counter() - t0:8.2f} s")
    return out


def live(prepared: run.Prepared) -> tuple[list[RowDecision], dict[str, int]]:
    from bench.common import bridge

    with bridge("sqlite") as b, BridgeClient(b.url, b.token, timeout=1800) as client:
        imp = client.import_create(ImportCreate(entity="customer", file_name="bench.xlsx"))
        timed(f"send {len(prepared.rows):,} rows (batches of 5,000)",
              lambda: client.import_rows(imp.id, prepared.rows))
        out = timed("dry run (bridge)", lambda: client.import_dry_run(imp.id))
        decisions = timed("fetch decisions", lambda: list(client.import_all_decisions(imp.id)))
        return decisions, out.counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--live", action="store_true", help="also run the bridge's part")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    src = tmp / "legacy.xlsx"
    print(f"bench_import_cli: {args.rows:,} source rows; {platform.node()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    make_source(src, args.rows)
    print(f"  source {src.stat().st_size / 1e6:.1f} MB")
    timed("read: read_tables (python-calamine)", lambda: read_tables(src))
    timed("read baseline: openpyxl read-only", lambda: read_openpyxl(src))
    opts = run.ImportOptions([src])
    prepared = timed("map: suggest + mapped rows (read included)", lambda: run.prepare(opts))
    if args.live:
        decisions, counts = live(prepared)
    else:
        decisions = [RowDecision(source_row=r.source_row, sheet=r.sheet, line=r.line,
                                 decision="new", cluster=f"s:{r.source_row}")
                     for r in prepared.rows]
        counts = {"new": len(decisions)}
    data = ReportData("bench", "http://127.0.0.1", "customer", [str(src)], counts, decisions,
                      prepared.rows, prepared.mapping, "zh")
    timed("report: XlsxWriter (4 sheets)", lambda: write_report(tmp / "r.xlsx", data,
                                                                 build_dictionary()))
    timed("report baseline: openpyxl write-only (Preview)",
          lambda: report_openpyxl(tmp / "b.xlsx", data))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {peak:,.0f} MB; load average now "
          f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
