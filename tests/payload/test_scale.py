"""A 100k-row pull over the payload port: the number of actions does not grow with rows
(one ``set_values`` per table), and every page the host fetches stays under the limit. The
seconds are measured by ``bench/bench_payload.py``, not here."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import openpyxl
import orjson
import pytest

from addin import commands
from addin.client import BridgeClient
from addin.payload.actions import MAX_BYTES, split_pages
from addin.payload.from_openpyxl import snapshot_of
from addin.port_payload import PayloadPort
from bench.common import bridge, bulk_load, customers, db_rows
from tests.addin.conftest import template


def pull_over_payload(url: str, token: str) -> tuple[commands.CommandResult, PayloadPort]:
    """A full pull into a fresh template, over the payload port."""
    wb = openpyxl.load_workbook(io.BytesIO(template("zh")), keep_vba=True)
    meta = wb["_meta"]
    meta.append(["server_url", url])
    port = PayloadPort(*snapshot_of(wb))
    with BridgeClient(url, token) as client:
        return commands.pull(port, client), port


def ops(port: PayloadPort) -> Counter[str]:
    return Counter(a["op"] for a in port.actions)


@pytest.mark.slow  # ~60 s: 100k customers loaded and pulled
def test_a_100k_row_pull_records_as_many_actions_as_a_1k_row_pull(tmp_path: Path) -> None:
    counts = {}
    for n in (1_000, 100_000):
        with bridge("sqlite", process=False) as b:
            bulk_load(b, db_rows(customers(n)), set_counter=n)
            res, port = pull_over_payload(b.url, b.token)
            assert res.ok and res.counts["added"] == n, res.lines()[:3]
            counts[n] = ops(port)
            pages = split_pages(port.actions)
            assert all(len(orjson.dumps(p)) < MAX_BYTES for p in pages)
            rows = sum(len(a["values"]) for p in pages for a in p
                       if a["op"] == "set_values" and a["sheet"] == "客户")
            assert rows >= n + 1  # the header row and every customer
    assert counts[100_000] == counts[1_000] and sum(counts[1_000].values()) < 200
