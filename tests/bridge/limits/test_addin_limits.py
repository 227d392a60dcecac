"""The add-in under the limits: its retry message says how long it waits on a 429, and
``crm-sheet pull`` writes the pull's watermark into the hidden ``_meta`` sheet."""

from __future__ import annotations

import math
import time
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from addin.cli import app
from addin.client import BridgeClient, RetryInfo
from addin.port_openpyxl import OpenpyxlPort
from schema.layout import META_SHEET
from tests.addin.conftest import fill, memory_keyring, new_workbook  # noqa: F401 (autouse)
from tests.bridge.limits.conftest import bridges
from tests.conftest import make_settings

runner = CliRunner()


def test_the_retry_message_shows_the_servers_wait_and_the_retry_gets_through(
        tmp_path: Path) -> None:
    s = make_settings("sqlite", tmp_path)
    s.rate_window_seconds, s.rate_token_requests, s.rate_address_requests = 2, 1, 0
    with bridges(s) as b:
        seen: list[RetryInfo] = []
        with BridgeClient(b.urls[0], b.user("amy"), on_retry=seen.append) as client:
            for _ in range(3):  # two calls in one 2-second window: the second waits
                seen.clear()
                assert client.me().user.username == "amy"
                assert client.me().user.username == "amy"
                if seen:
                    break
                time.sleep(2 - time.time() % 2)
        assert seen, "no 429 in three tries"
        retry = seen[0]
        assert retry.throttled and 0 < retry.delay <= 2
        wait = max(1, math.ceil(retry.delay))
        assert f"wait {wait} s" in retry.message("en")
        assert f"等待 {wait} 秒后重试" in retry.message("zh")
        assert "rate limiting" in retry.message("en") and "限流" in retry.message("zh")


def test_crm_sheet_pull_writes_the_watermark_into_meta(tmp_path: Path) -> None:
    s = make_settings("sqlite", tmp_path)
    with bridges(s) as b:
        token = b.user("amy")
        book = new_workbook(tmp_path / "book.xlsm")
        res = runner.invoke(app, ["login", "--server", b.urls[0], "--token", token, str(book)])
        assert res.exit_code == 0, res.output
        fill(book, "customer", [{"name": "水印客户", "region": "华东"}])
        assert runner.invoke(app, ["push", str(book)]).exit_code == 0
        res = runner.invoke(app, ["pull", str(book), "--full"])
        assert res.exit_code == 0, res.output
        meta = OpenpyxlPort.open(book).read_meta()
        t = b.db.table("sys_pull")
        with b.db.read() as conn:
            logged = conn.execute(t.select().order_by(t.c.at.desc())).first()
        assert logged is not None and meta["pull_id"] == logged.id
        assert meta["pulled_by"] == "amy" == logged.username
        assert meta["pulled_at"].startswith(logged.at.isoformat()[:19])
        wb = openpyxl.load_workbook(book, keep_vba=True)
        assert wb[META_SHEET].sheet_state != "visible"
        # the next pull writes its own id
        assert runner.invoke(app, ["pull", str(book)]).exit_code == 0
        assert OpenpyxlPort.open(book).read_meta()["pull_id"] != meta["pull_id"]
