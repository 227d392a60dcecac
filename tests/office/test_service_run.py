"""Commands run through /office/ end to end on a real bridge, by a thin host over HTTP
(tests/office/host.py): the workbook's sheets posted in row blocks, the command run over
the payload port, the pages of actions replayed with the reference host. Each leaves the
workbook as ``crm-sheet`` (the openpyxl port) leaves its twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.ribbon.buttons import BUTTONS
from tests.addin.conftest import edit, fill, memory_keyring, new_workbook, rows
from tests.conftest import LiveBridge
from tests.office.host import host_run
from tests.office.service_env import office, office_bridge
from tests.payload.hosts import differences, state, twin

__all__ = ["memory_keyring"]  # the add-in tests' keyring: sign-in stores no real token
USCC = "91350100M000100Y43"


pytestmark = pytest.mark.usefixtures("fixed_stamps")


@pytest.fixture
def bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with office_bridge(tmp_path, monkeypatch) as lb:
        yield lb


def signed_in(lb: LiveBridge, tmp: Path, name: str, token: str, lang: str = "zh") -> Path:
    path = new_workbook(tmp / f"{name}.xlsm", lang)
    assert commands.sign_in(OpenpyxlPort.open(path), lb.url, token).ok
    return path


def by_cli(path: Path, token: str, command: str, **kw: Any) -> commands.CommandResult:
    """What ``crm-sheet`` does to the file."""
    port = OpenpyxlPort.open(path)
    if command == "validate":
        return commands.validate(port)
    with commands.connect(port, token=token) as client:
        result: commands.CommandResult = getattr(commands, command)(port, client, **kw)
        return result


def same(lb: LiveBridge, token: str, path: Path, other: Path, command: str,
         options: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """``command`` by the CLI on ``path`` and through the service on ``other``: the same
    workbook and the same outcome; returns the service's Result."""
    mine = by_cli(path, token, command, **kw)
    with office(lb, token) as c:
        got = host_run(c, other, command, options=options, rows_per_block=7)
    assert differences(state(path), state(other)) == []
    result = got.result
    assert (result["ok"], result["counts"], result["lines"]) == (
        mine.ok, mine.counts, mine.lines())
    assert result["command"] == mine.command and result["lang"] == "zh"
    assert max(got.sent_bytes) < 5_000_000
    return result


def seeded(lb: LiveBridge, tmp: Path) -> tuple[str, str]:
    token = lb.make_user("wang.fang", "sales", "east-1", "east")
    manager = lb.make_user("li.na", "manager", None, "east")
    seed = signed_in(lb, tmp, "seed", token)
    fill(seed, "customer", [{"name": "甲公司", "industry": "制造业", "region": "华东",
                             "uscc": USCC, "address": "浦东"},
                            {"name": "=HYPERLINK(\"x\")", "region": "华东",
                             "phone": "13812345678"}])
    fill(seed, "opportunity", [{"name": "甲-一期", "customer": "甲公司", "stage": "方案/报价",
                                "amount": "1,200,000.50", "expected_close": "2026/3/31"}])
    assert by_cli(seed, token, "push").ok
    return token, manager


@pytest.mark.slow  # ~15 s quiet, 30 s on a loaded machine: three workbooks, two runs each
def test_pull_and_validate_through_the_service(bridge: LiveBridge, tmp_path: Path) -> None:
    token, _ = seeded(bridge, tmp_path)
    path = signed_in(bridge, tmp_path, "a", token)
    other = twin(path)
    result = same(bridge, token, path, other, "pull")
    assert result["counts"]["added"] == 3 and result["conflicts"] == []
    assert {r["name"] for r in rows(other, "customer")} == {"甲公司", "=HYPERLINK(\"x\")"}
    for p in (path, other):
        fill(p, "customer", [{"name": "乙公司", "industry": "火星"}])
    result = same(bridge, token, path, other, "validate")
    assert not result["ok"] and result["counts"]["errors"] == 1
    bad = [m for m in result["messages"] if m["level"] == "error"]
    assert bad and bad[0]["code"] == "INVALID_ENUM" and bad[0]["field"] == "industry"
    assert "火星" in bad[0]["text"]


@pytest.mark.slow  # ~30 s: every command twice over one bridge
def test_push_with_a_conflict_its_choice_refresh_and_upgrade(
        bridge: LiveBridge, tmp_path: Path) -> None:
    token, manager = seeded(bridge, tmp_path)
    path = signed_in(bridge, tmp_path, "a", token)
    other = twin(path)
    same(bridge, token, path, other, "pull")
    for p in (path, other):
        edit(p, "customer", ("name", "甲公司"), {"address": "静安", "notes": "重点客户"})
    theirs = signed_in(bridge, tmp_path, "m", manager)
    assert by_cli(theirs, manager, "pull").ok
    edit(theirs, "customer", ("name", "甲公司"), {"address": "徐汇"})
    assert by_cli(theirs, manager, "push").ok

    result = same(bridge, token, path, other, "push")
    assert result["counts"]["conflicts"] == 1
    (conflict,) = result["conflicts"]
    assert (conflict["field"], conflict["label"]) == ("address", "地址")
    assert (conflict["mine"], conflict["theirs"]) == ("静安", "徐汇")
    assert conflict["sheet"] == "客户" and conflict["current"] is None
    cell = conflict["choice"]
    assert [c["value"] for c in conflict["choices"]] == ["保留我的", "采用服务器"]
    # the task pane writes the chosen value into the cell it was told; the CLI user types it
    for p in (path, other):
        wb = openpyxl.load_workbook(p, keep_vba=True)
        wb[cell["sheet"]].cell(row=cell["row"], column=cell["col"]).value = \
            conflict["choices"][1]["value"]
        wb.save(p)
    result = same(bridge, token, path, other, "push")
    assert result["ok"] and result["counts"]["updated"] == 1 and result["conflicts"] == []
    row = next(r for r in rows(other, "customer") if r["name"] == "甲公司")
    assert (row["address"], row["notes"]) == ("徐汇", "重点客户")

    same(bridge, manager, path, other, "refresh_reports")
    same(bridge, manager, path, other, "refresh_reports", {"snapshot": True}, snapshot=True)

    new_file = tmp_path / "up-file.xlsm"
    up = commands.upgrade(OpenpyxlPort.open(path),
                          OpenpyxlPort.from_bytes(commands.template_bytes("zh"), new_file))
    with office(bridge, token) as c:
        got = host_run(c, other, "upgrade")
    assert got.result["counts"] == up.counts and got.result["ok"]
    assert list(got.files) == ["upgraded.xlsm"]
    ((file, shown),) = got.opened  # the host opens it (Excel.createWorkbook)
    assert file == "upgraded.xlsm" and shown.endswith("-upgraded.xlsm")
    upgraded = tmp_path / "up-payload.xlsm"
    upgraded.write_bytes(got.files["upgraded.xlsm"])
    assert differences(state(new_file), state(upgraded)) == []


def test_help_reads_only_the_meta_sheet(bridge: LiveBridge, tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "en.xlsm", "en")
    with office(bridge) as c:
        got = host_run(c, path, "show_help", lang="zh")
    assert got.result["lang"] == "en"  # the workbook's language wins
    first, *each = got.result["messages"]
    assert first["text"].startswith("CRM workbook help")
    assert [m["text"].split(":")[0] for m in each] == [b.label_en for b in BUTTONS]
    assert got.pages == [[]]


def test_import_dry_run_then_confirm_through_files(bridge: LiveBridge, tmp_path: Path
                                                   ) -> None:
    path = signed_in(bridge, tmp_path, "a", bridge.admin_token)
    source = "公司名称,所属行业,地区\n丙公司,制造业,华东\n丁公司,零售,华南\n".encode()
    with office(bridge) as c:
        dry = host_run(c, path, "import_file", files={"旧客户.csv": source}, apply=False)
        (report_name,) = dry.files
        assert report_name == "旧客户.import-report.xlsx"
        assert dry.pages == [[{"op": "open_workbook", "file": report_name,
                               "name": report_name}]]
        assert dry.result["counts"].get("new") == 2, dry.result
        done = host_run(c, path, "import_file", files={report_name: dry.files[report_name]},
                        apply=False)
    assert done.result["ok"], done.result
    with bridge.client() as api:
        names = set(api.get("/pull").json()["entities"]["customer"]["data"]["name"])
    assert {"丙公司", "丁公司"} <= names


def test_the_status_shows_progress_and_a_failed_run_says_why(
        bridge: LiveBridge, tmp_path: Path) -> None:
    from tests.office.host import open_and_upload, run
    from tests.office.service_env import error_of, workbook

    path = new_workbook(tmp_path / "a.xlsm")
    with office(bridge) as c:
        sid = open_and_upload(c, path, "validate")
        assert c.get(f"/api/sessions/{sid}").json()["state"] == "open"
        answer = run(c, sid)
        status = c.get(f"/api/sessions/{sid}").json()
        assert status["state"] == "done" and status["command"] == "validate"
        assert status["progress"]["text"] == "写入 / Writing"  # the command's last word
        assert answer["result"]["ok"] and answer["pages"] >= 1
        again = c.post(f"/api/sessions/{sid}/run", json={})
        assert again.status_code == 409 and error_of(again)["code"] == "OFFICE_SESSION_DONE"

        r = c.post("/api/sessions", json={"command": "pull", "workbook": workbook("Sheet1")})
        sid = r.json()["session"]
        assert c.post(f"/api/sessions/{sid}/cells", json={
            "sheet": "Sheet1", "row": 1, "values": [["just a sheet"]]}).status_code == 204
        failed = c.post(f"/api/sessions/{sid}/run", json={})
        assert 400 <= failed.status_code < 500
        err = error_of(failed)
        status = c.get(f"/api/sessions/{sid}").json()
        assert status["state"] == "failed" and status["error"]["code"] == err["code"]
