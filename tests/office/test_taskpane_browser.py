"""Each button of the task pane end to end: Chromium (Debian's, through Playwright) with the
fake Office.js holding a real CRM workbook, the pages and the API served by a live bridge
with the Office plugin (uvicorn on a loopback port, SQLite). After every command the fake
Excel holds what the reference host (``replay_openpyxl``) makes of the same action pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from addin import commands
from addin.client import BridgeClient
from addin.port_openpyxl import OpenpyxlPort
from bridge.passwords import set_password
from tests.addin.conftest import fill, keys_of, new_workbook, sheet_of
from tests.conftest import LiveBridge, make_settings, start_bridge
from tests.office.browser import chromium
from tests.office.pane import Pane, differences, workbook_bytes

LIMIT = 5 * 1024 * 1024  # Excel on the web: every request and response


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveBridge]:
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    with start_bridge(make_settings("sqlite", tmp_path)) as bridge:
        if httpx.get(bridge.url + "/office/taskpane.html").status_code != 200:
            pytest.skip("the Office plugin is not installed (addin.office.plugin)")
        yield bridge


def pushed(bridge: LiveBridge, tmp: Path, rows: list[dict[str, Any]], lang: str = "zh") -> None:
    """Customers stored the crm-sheet way (a file, OpenpyxlPort, the admin's token)."""
    path = new_workbook(tmp / f"seed-{len(rows)}.xlsm", lang)
    fill(path, "customer", rows)
    with BridgeClient(bridge.url, bridge.admin_token) as client:
        res = commands.push(OpenpyxlPort.open(path), client)
    assert res.ok, res.lines()[:3]


def column(pane: Pane, entity: str, key: str) -> tuple[str, int]:
    ws = sheet_of(pane.twin, entity)
    return ws.title, keys_of(ws)[key]


def dumped(pane: Pane, entity: str) -> dict[str, Any]:
    """The fake Excel's sheet of ``entity``."""
    title = sheet_of(pane.twin, entity).title
    return next(s for s in pane.state()["sheets"] if s["name"] == title)


def figures(pane: Pane, what: str, seconds: float) -> None:
    """The run's sizes on the test's output (not asserted: figures for the docs)."""
    calls = pane.sent()
    stats = pane.excel_stats()
    ups = [c["bytes"] for c in calls if c["path"].endswith("/cells")]
    pages = [c["received"] for c in calls if "/actions/" in c["path"]]
    print(f"\n# {what}: {seconds:.1f} s in the pane; {len(ups)} cell uploads (largest "
          f"{max(ups, default=0):,} B), {len(pages)} action pages (largest "
          f"{max(pages, default=0):,} B), {stats['syncs']} Excel syncs (largest request "
          f"{max(stats['requests']):,} B, response {max(stats['responses']):,} B)")


def under_limit(pane: Pane) -> None:
    calls = pane.sent()
    assert calls and max(c["bytes"] for c in calls) < LIMIT
    assert max(c["received"] for c in calls) < LIMIT
    stats = pane.excel_stats()
    assert max(stats["requests"]) < LIMIT and max(stats["responses"]) < LIMIT


@pytest.mark.slow
def test_pull_validate_push_conflict_and_choice(browser: Any, office: LiveBridge,
                                                tmp_path: Path) -> None:
    pushed(office, tmp_path, [{"name": "上海甲贸易有限公司", "region": "华东"},
                              {"name": "北京乙科技有限公司", "region": "华北"}])
    pane = Pane(browser, office.url, new_workbook(tmp_path / "pane.xlsm"), office.admin_token)
    out = pane.press("crm_pull")
    assert out and out["result"]["ok"], pane.error()
    assert differences(pane) == {}
    sheet, name_col = column(pane, "customer", "name")
    names = [r[name_col - 1] for r in dumped(pane, "customer")["values"][2:4]]
    assert sorted(names) == ["上海甲贸易有限公司", "北京乙科技有限公司"]
    # a region not in the list (over a stored one): Validate marks it, naming sheet, row
    # and field
    _, region_col = column(pane, "customer", "region")
    region = dumped(pane, "customer")["values"][2][region_col - 1]
    pane.edit(sheet, 3, region_col, "火星")
    out = pane.press("crm_validate")
    assert out["result"]["ok"] is False, out["result"]
    msg = next(m for m in out["result"]["messages"] if m["row"] == 3)
    assert (msg["sheet"], msg["field"]) == (sheet, "region")
    assert differences(pane) == {}
    marked = dumped(pane, "customer")
    assert any(n["row"] == 3 and "火星" in n["text"] for n in marked["notes"])
    # another user renames the first customer; we rename it too: a conflict on push
    pane.edit(sheet, 3, region_col, region)
    row3 = dumped(pane, "customer")["values"][2]
    _, id_col = column(pane, "customer", "_id")
    other = new_workbook(tmp_path / "other.xlsm")
    with BridgeClient(office.url, office.admin_token) as client:
        port = OpenpyxlPort.open(other)
        commands.pull(port, client)
        port.save()
    wb = openpyxl.load_workbook(other, keep_vba=True)
    ws = sheet_of(wb, "customer")
    for r in range(3, ws.max_row + 1):
        if ws.cell(row=r, column=id_col).value == row3[id_col - 1]:
            ws.cell(row=r, column=name_col).value = "他们改的名字"
    wb.save(other)
    with BridgeClient(office.url, office.admin_token) as client:
        assert commands.push(OpenpyxlPort.open(other), client).ok
    pane.edit(sheet, 3, name_col, "我们改的名字")
    out = pane.press("crm_push")
    conflicts = out["result"]["conflicts"]
    assert conflicts and conflicts[0]["field"] == "name", out["result"]
    assert differences(pane) == {}
    choice = conflicts[0]["choice"]
    theirs = next(c["value"] for c in conflicts[0]["choices"] if "服务器" in c["label"])
    pane.page.select_option("#choice-0", theirs)
    pane.page.wait_for_function(
        "(c) => window.__fake.book.sheet(c.sheet).get(c.row - 1, c.col - 1) !== ''", arg=choice)
    out = pane.press("crm_push")
    assert out["result"]["ok"], out["result"]
    under_limit(pane)
    assert pane.page.errors == []


@pytest.mark.slow
def test_refresh_upgrade_help(browser: Any, office: LiveBridge, tmp_path: Path) -> None:
    pushed(office, tmp_path, [{"name": "广州丙物流有限公司", "region": "华南"}])
    pane = Pane(browser, office.url, new_workbook(tmp_path / "pane.xlsm", "en"),
                office.admin_token)
    assert pane.press("crm_pull")["result"]["ok"]
    out = pane.press("crm_refresh_reports")
    assert out["result"]["ok"], pane.error()
    assert differences(pane) == {}
    charts = sum(len(s["charts"]) for s in pane.state()["sheets"])
    assert charts == sum(len(ws._charts) for ws in pane.twin.worksheets) and charts > 0
    out = pane.press("crm_upgrade")
    assert out["result"]["ok"], pane.error()
    assert [f["shown"] for f in out["files"]] == [True]
    upgraded = workbook_bytes(pane.opened()[0])
    assert "_meta" in upgraded.sheetnames
    out = pane.press("crm_help")
    assert out["result"]["lines"]
    assert pane.page.inner_text("#result h2").startswith("Help")


def test_import_a_csv_opens_the_report(browser: Any, office: LiveBridge, tmp_path: Path) -> None:
    csv = tmp_path / "old customers.csv"
    csv.write_text("客户名称,电话\n深圳丁电子有限公司,13812345678\n", encoding="utf-8")
    pane = Pane(browser, office.url, new_workbook(tmp_path / "pane.xlsm"), office.admin_token)
    out = pane.press("crm_import", file=csv)
    assert out and out["result"], pane.error()
    assert len(pane.opened()) == 1
    report = workbook_bytes(pane.opened()[0])
    assert report.sheetnames


def test_sign_in_with_a_password_in_the_dialog(browser: Any, office: LiveBridge,
                                               tmp_path: Path) -> None:
    with office.db.write() as conn:
        set_password(office.db, conn, "admin", "Correct-horse-42-battery")
    pane = Pane(browser, office.url, new_workbook(tmp_path / "pane.xlsm"), None)
    pane.page.click("#btn-crm_sign_in")
    frame = pane.page.wait_for_selector("#fake-dialog").content_frame()
    frame.wait_for_selector("#username")
    frame.fill("#username", "admin")
    frame.fill("#password", "Correct-horse-42-battery")
    frame.click("#submit")
    pane.page.wait_for_function("() => document.querySelector('#who').textContent"
                                ".includes('admin')")
    out = pane.press("crm_pull")
    assert out["result"]["ok"], pane.error()


def test_a_revoked_token_signs_the_pane_out(browser: Any, office: LiveBridge,
                                            tmp_path: Path) -> None:
    token = office.make_user("li.na", "sales", "east-1", "east")
    pane = Pane(browser, office.url, new_workbook(tmp_path / "pane.xlsm", "en"), token,
                user="li.na")
    with office.client() as c:
        assert c.post("/users/li.na/revoke").status_code in (200, 204)
    assert pane.press("crm_pull") is None
    assert "Your sign-in expired" in pane.error()
    assert pane.page.inner_text("#who") == "Not signed in"


@pytest.mark.slow
def test_a_10k_row_push_then_a_100k_row_pull_in_batches_under_5_mb(
        browser: Any, office: LiveBridge, tmp_path: Path) -> None:
    rows = [{"name": f"批量客户{i:06d}号有限公司", "region": "华东"} for i in range(10_000)]
    path = new_workbook(tmp_path / "typed.xlsm")
    fill(path, "customer", rows)
    pane = Pane(browser, office.url, path, office.admin_token)
    t0 = time.monotonic()
    out = pane.press("crm_push")
    figures(pane, "10,000-row push", time.monotonic() - t0)
    assert out["result"]["ok"] and out["result"]["counts"].get("inserted") == 10_000
    uploads = [c for c in pane.sent() if c["path"].endswith("/cells")]
    assert len(uploads) >= 1 and max(c["bytes"] for c in uploads) < LIMIT
    under_limit(pane)
    # ninety thousand more, then a pull of all 100,000 into a fresh workbook
    for start in range(10_000, 100_000, 10_000):
        more = new_workbook(tmp_path / f"more-{start}.xlsm")
        fill(more, "customer", [{"name": f"批量客户{i:06d}号有限公司", "region": "华东"}
                                for i in range(start, start + 10_000)])
        with BridgeClient(office.url, office.admin_token) as client:
            assert commands.push(OpenpyxlPort.open(more), client).ok
    fresh = Pane(browser, office.url, new_workbook(tmp_path / "fresh.xlsm"), office.admin_token)
    t0 = time.monotonic()
    out = fresh.press("crm_pull", timeout=1_800_000)
    figures(fresh, "100,000-row pull", time.monotonic() - t0)
    assert out["result"]["ok"], fresh.error()
    assert len(dumped(fresh, "customer")["values"]) - 2 >= 100_000
    pages = [c for c in fresh.sent() if "/actions/" in c["path"]]
    assert len(pages) > 1 and max(c["received"] for c in pages) < LIMIT
    under_limit(fresh)
    assert differences(fresh) == {}
