"""Offline: a push to a server nobody answers says exactly how often it tried (issue 16,
finding 6: it said "retried 5 times" after 4 retries), and leaves the file as it was."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from addin import commands
from addin.client import BridgeError, RetryInfo
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import fill, new_workbook


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_offline_message_counts_attempts_exactly(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "a.xlsm")
    port = OpenpyxlPort.open(path)
    port.write_meta({"server_url": f"http://127.0.0.1:{closed_port()}"})
    port.save()
    fill(path, "customer", [{"name": "甲公司", "region": "华东"}])
    before = path.read_bytes()
    retries: list[RetryInfo] = []
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token="t", backoff=0.001, on_retry=retries.append) as client, \
            pytest.raises(BridgeError) as e:
        commands.push(port, client)
    assert e.value.code == "BRIDGE_UNREACHABLE"
    assert [r.attempt for r in retries] == [1, 2, 3, 4]  # 5 attempts: 4 retries
    assert "共尝试 5 次" in e.value.message_zh and "重试 5 次" not in e.value.message_zh
    assert "tried 5 times" in e.value.message_en
    assert retries[-1].message("zh").endswith("（第 4/4 次）")
    assert path.read_bytes() == before
