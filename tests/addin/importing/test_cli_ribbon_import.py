"""The ribbon's Import button (``xl_entry.on_ribbon('crm_import')``) on a signed-in workbook
against a live bridge: the first click dry-runs a picked file and writes its report beside
it (and opens it); picking the report on the second click confirms."""

from __future__ import annotations

from pathlib import Path

import pytest

from addin import commands, xl_entry
from addin.port import WorkbookPort
from addin.port_openpyxl import OpenpyxlPort
from addin.ribbon.buttons import BUTTONS_BY_ID
from tests.addin.importing.test_cli_import import customers, xlsx
from tests.conftest import LiveBridge


class PickingUi:
    """The user's hands: picks the files it is given, in turn; records what was shown."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.alerts: list[tuple[str, bool]] = []
        self.opened: list[Path] = []

    def alert(self, text: str, error: bool = False) -> None:
        self.alerts.append((text, error))

    def ask(self, prompt: str, default: str = "") -> str | None:
        return None

    def pick_file(self, prompt: str) -> str | None:
        return self.files.pop(0) if self.files else None

    def open_book(self, path: Path) -> None:
        self.opened.append(path)


def test_import_button_dry_run_then_confirm(live_bridge: LiveBridge, book: Path,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert BUTTONS_BY_ID["crm_import"].handler == "import_file"
    ui = PickingUi()
    monkeypatch.setattr(xl_entry, "UI_FACTORY", lambda port: ui)
    port: WorkbookPort = OpenpyxlPort.open(book)
    assert xl_entry.on_ribbon("crm_import", port) is None  # not signed in: a message
    assert "请先点击“登录”" in ui.alerts[-1][0] and ui.alerts[-1][1]
    commands.sign_in(OpenpyxlPort.open(book), live_bridge.url, live_bridge.admin_token)
    assert xl_entry.on_ribbon("crm_import", OpenpyxlPort.open(book)) is None  # cancelled
    odd = xlsx(tmp_path / "odd.xlsx", ["甲", "乙"], [["丙", "丁"]])
    ui.files = [str(odd)]
    assert xl_entry.on_ribbon("crm_import", OpenpyxlPort.open(book)) is None
    assert "IMPORT_MAPPING_MISSING" in ui.alerts[-1][0] and ui.alerts[-1][1]  # a message
    src = xlsx(tmp_path / "old.xlsx", ["公司名称", "总机"], [["甲科技有限公司", "010-65528888"],
                                                           ["甲科技", None]])
    ui.files = [str(src)]
    first = xl_entry.on_ribbon("crm_import", OpenpyxlPort.open(book))
    report = tmp_path / "old.import-report.xlsx"
    assert first is not None and first.ok and report.is_file()
    assert first.counts.get("new") == 1 and first.counts.get("duplicate") == 1
    assert ui.opened == [report] and "试运行完成" in ui.alerts[-1][0]
    assert customers(live_bridge) == []  # nothing written yet
    ui.files = [str(report)]
    second = xl_entry.on_ribbon("crm_import", OpenpyxlPort.open(book))
    assert second is not None and second.ok, ui.alerts
    assert "已导入" in ui.alerts[-1][0]
    assert [c["name"] for c in customers(live_bridge)] == ["甲科技有限公司"]
