"""Port calls per command do not grow with rows: a 10k-row push and pull against the real
bridge, through a counting proxy around the real file port. No timing here: the time target
lives in ``bench/bench_scale.py``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from addin import commands
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import fill, new_workbook
from tests.addin.fakes import CountingPort
from tests.conftest import LiveBridge


def _push_and_pull(tmp: Path, lb: LiveBridge, n: int) -> tuple[Counter[str], Counter[str]]:
    """Push ``n`` new customers from one workbook, pull ``n`` into another (a user of a
    team of their own, so the pull brings exactly those ``n``)."""
    token = lb.make_user(f"user{n}", "sales", f"t{n}", "east")
    typed = new_workbook(tmp / f"typed-{n}.xlsm")
    fill(typed, "customer", [{"name": f"新客户{n}-{i}", "region": "华东", "phone": "13812345678",
                              "industry": "信息技术", "notes": "=1+1" if i % 5 == 0 else None}
                             for i in range(n)])
    with BridgeClient(lb.url, token) as client:
        port = CountingPort(OpenpyxlPort.open(typed))
        res = commands.push(port, client)  # type: ignore[arg-type]
        assert res.ok and res.counts["inserted"] == n, res.lines()[:3]
        pushed = port.calls
        fresh = new_workbook(tmp / f"fresh-{n}.xlsm")
        port = CountingPort(OpenpyxlPort.open(fresh))
        res = commands.pull(port, client)  # type: ignore[arg-type]
        assert res.ok and res.counts["added"] == n
        return pushed, port.calls


@pytest.mark.slow
def test_port_calls_do_not_grow_with_rows(live_bridge: LiveBridge, tmp_path: Path) -> None:
    small_push, small_pull = _push_and_pull(tmp_path, live_bridge, 10)
    big_push, big_pull = _push_and_pull(tmp_path, live_bridge, 10_000)
    assert big_push == small_push, (small_push, big_push)
    assert big_pull == small_pull, (small_pull, big_pull)
    for calls in (big_push, big_pull):  # one read per table, one write per changed table
        assert calls["read_table"] <= 12 and calls["write_table"] <= 12 and calls["save"] == 1
