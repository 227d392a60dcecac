"""``crm-sheet refresh`` over a live bridge with the demo data: settings checked before
anything is fetched (the message names the setting and what it allows), complete lists or
the list cap stated, the team and owner dropdowns filled, snapshots as dated copies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.report_settings import check_setting, report_query
from bridge.app import create_app
from bridge.db import connect, create_schema
from bridge.demo import seed
from bridge.server import serve_in_thread
from schema.dictionary import build_dictionary
from schema.layout import (
    DEFAULT_LIST_CAP,
    REPORT_OWNER_LIST,
    REPORT_SETTINGS,
    REPORT_TEAM_LIST,
)
from tests.conftest import make_settings

runner = CliRunner()
SETTING = {s.key: s for s in REPORT_SETTINGS}


@pytest.fixture
def demo_book(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A bridge on the demo data (SQLite) and a new workbook noting it; the manager's token."""
    d = build_dictionary()
    settings = make_settings("sqlite", tmp_path)
    db = connect(settings, d)
    create_schema(db)
    token = seed(db, d).tokens["zhao.min"]
    try:
        with serve_in_thread(create_app(settings, d, db)) as url:
            path = tmp_path / "mgr.xlsm"
            res = runner.invoke(app, ["new", str(path), "--server", url])
            assert res.exit_code == 0, res.output
            yield path, token
    finally:
        db.engine.dispose()


def _settings(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    return {r[0]: r[2] for r in wb["报表参数"].iter_rows(min_row=3, values_only=True)}


def test_bad_settings_name_the_setting_and_what_is_allowed(demo_book: tuple[Path, str]
                                                           ) -> None:
    path, token = demo_book
    before = openpyxl.load_workbook(path, keep_vba=True).sheetnames
    res = runner.invoke(app, ["refresh", str(path), "--token", token, "--window-days", "0"])
    assert res.exit_code == 2, res.output
    assert "REPORT_SETTING_INVALID" in res.output and "RFM 窗口天数" in res.output
    assert "1 到 3650 之间的整数" in res.output.replace("\n", "")
    res = runner.invoke(app, ["refresh", str(path), "--token", token, "--region", "Mars",
                              "--lang", "en"])
    out = res.output.replace("\n", " ")
    assert res.exit_code == 2 and "“Region” is “Mars”" in out, out
    assert "East China" in out  # what is allowed, in words
    assert openpyxl.load_workbook(path, keep_vba=True).sheetnames == before  # nothing built
    assert check_setting(SETTING["region"], "华东") == "east"
    assert check_setting(SETTING["snapshot"], "是") == "yes"


def test_refresh_lists_complete_fills_dropdowns_and_keeps_snapshots(
        demo_book: tuple[Path, str]) -> None:
    path, token = demo_book
    res = runner.invoke(app, ["refresh", str(path), "--token", token])  # as of today
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(path, keep_vba=True)
    today = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}["report_as_of"]
    rfm = [str(c.value) for row in wb["RFM"].iter_rows() for c in row if c.value]
    assert any(t.startswith("共 ") and "已全部列出" in t for t in rfm)
    # a blank list cap is the stated default, not silently unlimited
    assert any("列表上限(行)" in t and str(DEFAULT_LIST_CAP) in t for t in rfm)
    assert "刷新人：赵敏 (zhao.min)" in wb["RFM"]["A3"].value  # who refreshed, by name
    kpi = [str(c.value) for row in wb["经营指标"].iter_rows(max_row=20) for c in row if c.value]
    assert any(t.startswith("卡片对比：") and "与其前同样长度的期间" in t for t in kpi)
    lists = wb["_lists"]
    names = [c.value for c in lists[1]]
    teams = [c.value for c in lists[get_col(names, REPORT_TEAM_LIST)] if c.value][1:]
    owners = [c.value for c in lists[get_col(names, REPORT_OWNER_LIST)] if c.value][1:]
    assert teams == ["east-1", "east-2"] and "zhang.wei" in owners
    # a capped list says so; a snapshot keeps the sheets of today's refresh
    res = runner.invoke(app, ["refresh", str(path), "--token", token, "--as-of", "2026-12-01",
                              "--list-cap", "10", "--snapshot"])
    assert res.exit_code == 0 and f"{today} 的副本" in res.output, res.output
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert {f"销售漏斗 {today}", f"RFM {today}", f"经营指标 {today}"} <= set(wb.sheetnames)
    assert str(today) in wb[f"RFM {today}"]["A2"].value and wb[f"RFM {today}"]._charts
    assert "2026-12-01" in wb["RFM"]["A2"].value
    rfm = [str(c.value) for row in wb["RFM"].iter_rows() for c in row if c.value]
    assert any(t.startswith("仅显示前 10 行，共 ") for t in rfm)
    assert _settings(path)["list_cap"] == "10"
    # the setting on the sheet (as the ribbon reads it) keeps a snapshot too
    ws = wb["报表参数"]
    row = 3 + [s.key for s in REPORT_SETTINGS].index("snapshot")
    ws.cell(row=row, column=3, value="是")
    wb.save(path)
    res = runner.invoke(app, ["refresh", str(path), "--token", token])
    assert res.exit_code == 0 and "2026-12-01 的副本" in res.output, res.output
    assert "RFM 2026-12-01" in openpyxl.load_workbook(path, keep_vba=True).sheetnames


def test_a_blank_list_cap_sends_the_declared_default() -> None:
    assert report_query("rfm", {})["limit"] == str(DEFAULT_LIST_CAP)
    assert report_query("kpis", {"list_cap": "1000000"})["limit"] == "1000000"
    assert "limit" not in report_query("funnel", {})  # the funnel has no list
    assert str(DEFAULT_LIST_CAP) in SETTING["list_cap"].hint_zh
    assert str(DEFAULT_LIST_CAP) in SETTING["list_cap"].hint_en


def get_col(names: list[object], name: str) -> str:
    return openpyxl.utils.get_column_letter(names.index(name) + 1)
