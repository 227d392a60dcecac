"""The add-in's own stamps in the workbook (last push, last pull) are UTC, like the bridge's."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from schema import clock
from tests.addin.conftest import fill, new_workbook
from tests.conftest import LiveBridge


def test_the_addin_stamps_its_pushes_and_pulls_in_utc(live_bridge: LiveBridge,
                                                     tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "book.xlsm")
    token = live_bridge.make_user("clara", "sales", "t1", "east")
    assert commands.sign_in(OpenpyxlPort.open(path), live_bridge.url, token).ok
    fill(path, "customer", [{"name": "时钟公司", "region": "华东"}])
    for action in (commands.push, commands.pull):
        port = OpenpyxlPort.open(path)
        with commands.connect(port, token=token) as client:
            assert action(port, client).ok
    meta = OpenpyxlPort.open(path).read_meta()
    for key in ("last_push", "last_pull"):
        at = datetime.fromisoformat(meta[key])
        assert at.utcoffset() == timedelta(0), (key, meta[key])  # aware, UTC: not local time
        assert abs(at - clock.now()) < timedelta(hours=1)
