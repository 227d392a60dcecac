"""``crm-sheet`` and the ribbon entry points: same commands, exit codes, typed messages."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import commands, xl_entry
from addin.cli import app
from addin.port import WorkbookPort
from addin.port_openpyxl import OpenpyxlPort
from addin.ribbon.buttons import BUTTONS
from tests.addin.conftest import fill, rows
from tests.conftest import LiveBridge

runner = CliRunner()


class FakeUi:
    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.alerts: list[tuple[str, bool]] = []

    def alert(self, text: str, error: bool = False) -> None:
        self.alerts.append((text, error))

    def ask(self, prompt: str, default: str = "", secret: bool = False) -> str | None:
        return self.answers.pop(0) if self.answers else None


@pytest.fixture
def ui(monkeypatch: pytest.MonkeyPatch) -> FakeUi:
    fake = FakeUi()
    monkeypatch.setattr(xl_entry, "UI_FACTORY", lambda port: fake)
    return fake


def test_cli_new_validate_and_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsm"
    assert runner.invoke(app, ["new", str(path), "--lang", "en"]).exit_code == 0
    assert runner.invoke(app, ["new", str(path)]).exit_code == 2  # exists
    ok = runner.invoke(app, ["validate", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "Validated: 0 new" in ok.output
    fill(path, "customer", [{"name": "Acme", "industry": "Mars"}])
    bad = runner.invoke(app, ["validate", str(path)])
    assert bad.exit_code == 1 and "“Industry” does not accept “Mars”" in bad.output
    assert "[Customers 3]" in bad.output
    junk = tmp_path / "junk.xlsm"
    junk.write_text("no", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(junk)])
    assert res.exit_code == 2 and "WORKBOOK_INVALID" in res.output
    res = runner.invoke(app, ["push", str(path)])
    assert res.exit_code == 3 and "NOT_SIGNED_IN" in res.output
    res = runner.invoke(app, ["refresh", str(path)])
    assert res.exit_code == 3 and "NOT_SIGNED_IN" in res.output
    res = runner.invoke(app, ["upgrade", str(path)])
    assert res.exit_code == 0 and "1 rows moved" in res.output, res.output
    assert path.with_name("book.xlsm.bak").is_file()
    assert [r["industry"] for r in rows(path, "customer")] == ["Mars"]


def test_every_ribbon_button_has_a_handler(ui: FakeUi, book: Path) -> None:
    assert {b.handler for b in BUTTONS} <= set(xl_entry.HANDLERS)
    assert set(xl_entry.HANDLERS) == {"sign_in", "pull", "push", "validate", "refresh_reports",
                                      "upgrade", "show_help", "import_file"}
    port: WorkbookPort = OpenpyxlPort.open(book)
    res = xl_entry.on_ribbon("crm_validate", port)
    assert res is not None and res.ok and ui.alerts[-1][0].startswith("校验完成")
    assert xl_entry.on_ribbon("crm_refresh_reports", port) is None  # not signed in
    assert "请先点击“登录”" in ui.alerts[-1][0]
    assert xl_entry.on_ribbon("crm_pull", port) is None  # not signed in: a message, no crash
    assert "请先点击“登录”" in ui.alerts[-1][0]
    help_ = xl_entry.on_ribbon("crm_help", port)
    assert help_ is not None and any("推送" in line for line in help_.lines())


@pytest.mark.slow  # ~23-28 s
def test_cli_and_ribbon_against_a_live_bridge(live_bridge: LiveBridge, tmp_path: Path,
                                              ui: FakeUi) -> None:
    token = live_bridge.make_user("alice", "sales", "t1", "east")
    path = tmp_path / "book.xlsm"
    assert runner.invoke(app, ["new", str(path)]).exit_code == 0
    res = runner.invoke(app, ["login", "--server", live_bridge.url, "--token", token, str(path)])
    assert res.exit_code == 0, res.output
    fill(path, "customer", [{"name": "甲公司", "region": "华东"}])
    res = runner.invoke(app, ["push", str(path)])
    assert res.exit_code == 0 and "新增 1" in res.output, res.output
    # the ribbon on a second workbook: sign in through input boxes, then pull
    other = tmp_path / "other.xlsm"
    assert runner.invoke(app, ["new", str(other)]).exit_code == 0
    ui.answers = [live_bridge.url, "", token]  # no user name: a token
    port = OpenpyxlPort.open(other)
    assert xl_entry.on_ribbon("crm_sign_in", port) is not None
    res2 = xl_entry.on_ribbon("crm_pull", OpenpyxlPort.open(other))
    assert res2 is not None and res2.counts["added"] == 1
    assert [r["name"] for r in rows(other, "customer")] == ["甲公司"]
    res = runner.invoke(app, ["pull", str(path), "--full", "--lang", "en"])
    assert res.exit_code == 0 and "Pulled: 0 added" in res.output, res.output
    # reports: headless refresh with filters, then the ribbon button on the other workbook
    res = runner.invoke(app, ["refresh", str(path), "--as-of", "2026-11-25", "--region", "east"])
    assert res.exit_code == 0 and "报表已刷新" in res.output, res.output
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert {"销售漏斗", "RFM", "经营指标"} <= set(wb.sheetnames)
    assert wb["销售漏斗"]._charts, "the funnel sheet has a chart"
    settings = {r[0]: r[2] for r in wb["报表参数"].iter_rows(min_row=3, values_only=True)}
    assert settings["as_of"] == "2026-11-25" and settings["region"] == "east"
    # a manager types a filter on the settings sheet (a team the bridge knows: an unknown
    # one is REPORT_PARAM_INVALID naming the teams allowed); the next refresh uses it
    wb["报表参数"].cell(row=3 + list(settings).index("team"), column=3, value="t1")
    wb.save(path)
    res = runner.invoke(app, ["refresh", str(path)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert "t1" in str([c.value for row in wb["销售漏斗"].iter_rows(max_row=5) for c in row])
    res3 = xl_entry.on_ribbon("crm_refresh_reports", OpenpyxlPort.open(other))
    assert res3 is not None and res3.ok and "tagged_customers" not in res3.counts
    # an admin's refresh also applies the tag rules (here: every buyer-less customer -> C)
    with live_bridge.client() as admin:
        r = admin.post("/reports/rules", json={
            "name": "no-orders", "label_zh": "未成交", "label_en": "No orders",
            "condition": [{"metric": "frequency", "op": "==", "value": 0}],
            "target": "value_tier", "value": "c", "priority": 1})
        assert r.status_code in (200, 201), r.text
    res = runner.invoke(app, ["refresh", str(path), "--token", live_bridge.admin_token])
    assert res.exit_code == 0 and "标签规则已应用：1 个客户" in res.output, res.output
    # the report settings travel with an upgrade
    assert runner.invoke(app, ["upgrade", str(path)]).exit_code == 0
    wb = openpyxl.load_workbook(path, keep_vba=True)
    settings = {r[0]: r[2] for r in wb["报表参数"].iter_rows(min_row=3, values_only=True)}
    assert settings["region"] == "east" and settings["team"] == "t1"
    assert commands.show_help().lang == "zh"
