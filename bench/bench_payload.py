"""The payload port at scale: ``N`` customers loaded into a bridge (SQLite, in a thread of
this process), then one full pull into a fresh template over :class:`PayloadPort` (what the
Office add-in's service runs), the actions cut into pages for the host. Prints each step's
seconds, the number of actions and pages and the bytes the host fetches.

    python -m bench.bench_payload [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter

import openpyxl
import orjson

from addin import commands
from addin.client import BridgeClient
from addin.payload.actions import split_pages
from addin.payload.from_openpyxl import snapshot_of
from addin.port_payload import PayloadPort
from addin.template import build_template
from bench.common import bridge, bulk_load, customers, db_rows


def run(rows: int) -> dict[str, float]:
    took: dict[str, float] = {}
    with bridge("sqlite", process=False) as b:
        bulk_load(b, db_rows(customers(rows)), set_counter=rows)
        wb = openpyxl.load_workbook(io.BytesIO(build_template("zh")), keep_vba=True)
        wb["_meta"].append(["server_url", b.url])
        started = time.perf_counter()
        port = PayloadPort(*snapshot_of(wb))
        took["snapshot"] = time.perf_counter() - started
        with BridgeClient(b.url, b.token) as client:
            started = time.perf_counter()
            res = commands.pull(port, client)
            took["pull"] = time.perf_counter() - started
        if not (res.ok and res.counts["added"] == rows):
            raise SystemExit(f"pull failed: {res.lines()[:3]}")
        started = time.perf_counter()
        pages = [orjson.dumps(p) for p in split_pages(port.actions)]
        took["pages"] = time.perf_counter() - started
    took["actions"] = len(port.actions)
    took["page_count"] = len(pages)
    took["megabytes"] = sum(map(len, pages)) / 1e6
    print("ops:", dict(Counter(a["op"] for a in port.actions)))
    return took


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args(argv)
    for step, value in run(args.rows).items():
        print(f"{step:>10}: {value:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
