"""Port calls per command do not grow with rows: a 10k-row push and pull against a bridge
double, through a counting proxy around the real file port. No timing here: the time target
lives in ``bench/bench_scale.py``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from addin import commands
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import fill, new_workbook
from tests.addin.fakes import CountingPort, FakeBridge


def _push_and_pull(tmp: Path, n: int) -> tuple[Counter[str], Counter[str]]:
    """Push ``n`` new customers from one workbook, pull ``n`` into another."""
    bridge = FakeBridge(customers=n)
    typed = new_workbook(tmp / f"typed-{n}.xlsm")
    fill(typed, "customer", [{"name": f"新客户{i}", "region": "华东", "phone": "13812345678",
                              "industry": "信息技术", "notes": "=1+1" if i % 5 == 0 else None}
                             for i in range(n)])
    with BridgeClient("http://bridge.test", "t", transport=bridge.transport()) as client:
        port = CountingPort(OpenpyxlPort.open(typed))
        res = commands.push(port, client)  # type: ignore[arg-type]
        assert res.ok and res.counts["inserted"] == n, res.lines()[:3]
        assert sum(len(r.rows) for r in bridge.pushed) == n
        pushed = port.calls
        fresh = new_workbook(tmp / f"fresh-{n}.xlsm")
        port = CountingPort(OpenpyxlPort.open(fresh))
        res = commands.pull(port, client)  # type: ignore[arg-type]
        assert res.ok and res.counts["added"] == n
        return pushed, port.calls


@pytest.mark.slow
def test_port_calls_do_not_grow_with_rows(tmp_path: Path) -> None:
    small_push, small_pull = _push_and_pull(tmp_path, 10)
    big_push, big_pull = _push_and_pull(tmp_path, 10_000)
    assert big_push == small_push, (small_push, big_push)
    assert big_pull == small_pull, (small_pull, big_pull)
    for calls in (big_push, big_pull):  # one read per table, one write per changed table
        assert calls["read_table"] <= 12 and calls["write_table"] <= 12 and calls["save"] == 1
