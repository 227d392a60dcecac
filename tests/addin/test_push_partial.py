"""A push sends every row that passes and keeps the others marked and pending (issue 16,
finding 1); all or nothing is a setting (the workbook's ``all_or_nothing`` in ``_meta``,
``crm-sheet push --all-or-nothing``). Typed into real files, saved between every step,
against a live bridge on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from addin import commands
from addin.cli import app
from addin.port import MARK_COLORS
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import edit, fill, keys_of, rows, sheet_of
from tests.addin.test_e2e import TOKENS, signed_in
from tests.conftest import LiveBridge

BAD_USCC = "91310000MA1FL0000X"  # the check digit should be N
GOOD_USCC = "91310000MA1FL0000N"


def push(path: Path, all_or_nothing: bool | None = None) -> commands.CommandResult:
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=TOKENS[path]) as client:
        return commands.push(port, client, all_or_nothing=all_or_nothing)


def server_names(lb: LiveBridge, token: str, entity: str = "customer") -> list[str]:
    with lb.client(token) as c:
        return sorted(c.get("/pull").json()["entities"][entity]["data"]["name"])


def cell(path: Path, entity: str, row: int, key: str) -> Any:
    """The openpyxl cell a user sees at ``row`` in the column keyed ``key``."""
    ws = sheet_of(openpyxl.load_workbook(path, keep_vba=True), entity)
    return ws.cell(row=row, column=keys_of(ws)[key])


def is_marked(c: Any, kind: str = "error") -> bool:
    return bool(c.fill.fill_type == "solid" and str(c.fill.start_color.rgb).endswith(
        MARK_COLORS[kind]) and c.comment is not None and c.comment.text)


def fifty_with_three_bad() -> list[dict[str, Any]]:
    batch: list[dict[str, Any]] = [{"name": f"客户{i:02d}", "region": "华东",
                                    "industry": "制造业"} for i in range(50)]
    batch[5]["uscc"] = BAD_USCC
    batch[17]["industry"] = "火星采矿"
    batch[33] = {"name": None, "region": "华东", "phone": "13812345678"}
    return batch


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_rows_that_pass_are_sent_and_the_others_stay_marked_and_pending(
        live_bridge_any: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    at = fill(a, "customer", fifty_with_three_bad())
    bad = {at[5]: "uscc", at[17]: "industry", at[33]: "name"}
    res = push(a)
    assert not res.ok and res.exit_code == 1
    assert (res.counts["sent"], res.counts["inserted"], res.counts["held"]) == (47, 47, 3)
    summary = res.lines()[0]
    assert "发送 47 行" in summary and "3 行未发送" in summary and "未通过校验" in summary
    assert len(server_names(lb, token)) == 47
    for row, key in bad.items():  # marked, with the reason, and still pending
        assert is_marked(cell(a, "customer", row, key)), (row, key)
        assert cell(a, "customer", row, "_status").value
        assert cell(a, "customer", row, "_change").value == "新增"
        assert cell(a, "customer", row, "_id").value is None
    sent = [r for r in rows(a, "customer") if r["_id"]]
    assert len(sent) == 47 and all(r["_version"] == 1 and r["_change"] is None for r in sent)
    assert all("已推送" in r["_status"] for r in sent)
    # the user fixes the three cells; the next push sends those three only
    edit(a, "customer", ("name", "客户05"), {"uscc": GOOD_USCC})
    edit(a, "customer", ("name", "客户17"), {"industry": "信息技术"})
    wb = openpyxl.load_workbook(a, keep_vba=True)
    sheet_of(wb, "customer").cell(row=at[33], column=keys_of(sheet_of(wb, "customer"))[
        "name"]).value = "客户33"
    wb.save(a)
    res = push(a)
    assert res.ok, res.lines()
    assert (res.counts["sent"], res.counts["inserted"], res.counts["held"]) == (3, 3, 0)
    assert len(server_names(lb, token)) == 50
    for row, key in bad.items():
        assert not is_marked(cell(a, "customer", row, key))
    again = push(a)
    assert again.ok and again.counts["sent"] == 0


def test_english_summary_says_what_was_held_back(live_bridge_any: LiveBridge,
                                                 tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token, lang="en")
    fill(a, "customer", [{"name": "Acme", "region": "East China"},
                         {"name": "Bad Ltd", "industry": "Mars"}])
    res = push(a)
    assert (res.counts["sent"], res.counts["held"]) == (1, 1)
    assert "1 rows sent" in res.lines()[0] and "1 rows held back" in res.lines()[0]
    assert server_names(lb, token) == ["Acme"]


def test_rows_the_bridge_rejects_stay_pending_and_marked(live_bridge_any: LiveBridge,
                                                         tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    a2 = signed_in(tmp_path, "a2", lb, token)  # the same user on a second computer
    uscc = "91350100M000100Y43"
    fill(a2, "customer", [{"name": "重码公司", "region": "华东", "uscc": uscc}])
    assert push(a2).ok
    at = fill(a, "customer", [{"name": "新公司", "region": "华东"},
                              {"name": "重码公司二", "region": "华东",
                               "uscc": uscc}])  # taken: the bridge says no
    res = push(a)
    assert (res.counts["inserted"], res.counts["rejected"]) == (1, 1) and not res.ok
    assert server_names(lb, token) == ["新公司", "重码公司"]
    assert [m.code for m in res.messages if m.row == at[1]] == ["DUPLICATE_VALUE"]
    assert cell(a, "customer", at[1], "_id").value is None
    assert cell(a, "customer", at[1], "_change").value == "新增"
    assert is_marked(cell(a, "customer", at[1], "uscc"))
    # still pending: with its own code, it goes on the next push, and only it
    edit(a, "customer", ("name", "重码公司二"), {"uscc": "91110000600037341L"})
    res = push(a)
    assert res.ok and res.counts["sent"] == 1 and res.counts["inserted"] == 1, res.lines()
    assert server_names(lb, token) == ["新公司", "重码公司", "重码公司二"]


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_all_or_nothing_from_the_cli_and_from_the_workbook(live_bridge_any: LiveBridge,
                                                          tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    uscc = "91350100M000100Y43"  # a unique value (a name is not one since dictionary 1.1.0)
    fill(a, "customer", [{"name": "甲公司", "region": "华东", "uscc": uscc},
                         {"name": "乙公司", "industry": "火星采矿"}])
    out = CliRunner().invoke(app, ["push", str(a), "--token", token, "--all-or-nothing"])
    assert out.exit_code == 1, out.output
    assert "未推送任何内容" in out.output
    assert server_names(lb, token) == []
    assert is_marked(cell(a, "customer", 4, "industry"))
    # the setting on the workbook: a user types it into _meta and saves
    wb = openpyxl.load_workbook(a, keep_vba=True)
    meta = wb["_meta"]
    meta.append(["all_or_nothing", "是"])
    wb.save(a)
    res = push(a)
    assert not res.ok and res.counts["sent"] == 0 and server_names(lb, token) == []
    # a row only the bridge refuses takes the whole batch down (all_or_none on the wire)
    a2 = signed_in(tmp_path, "a2", lb, token)
    fill(a2, "customer", [{"name": "甲公司", "region": "华东", "uscc": uscc}])
    assert push(a2).ok
    edit(a, "customer", ("name", "乙公司"), {"industry": "信息技术"})
    res = push(a)
    assert res.counts["rejected"] == 2 and res.counts["inserted"] == 0, res.lines()
    assert server_names(lb, token) == ["甲公司"]
    codes = {m.code for m in res.messages}
    assert "BATCH_ABORTED" in codes
    assert all(r["_id"] is None and r["_change"] == "新增" for r in rows(a, "customer"))
    # without the setting the same push sends the row that passes
    res = push(a, all_or_nothing=False)
    assert (res.counts["inserted"], res.counts["rejected"]) == (1, 1)
    assert server_names(lb, token) == ["乙公司", "甲公司"]


def test_a_row_naming_a_held_row_waits_for_it(live_bridge_any: LiveBridge,
                                              tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    fill(a, "customer", [{"name": "甲公司", "region": "华东"},
                         {"name": "乙公司", "region": "华东", "industry": "火星采矿"}])
    at = fill(a, "contact", [{"customer": "甲公司", "name": "王经理"},
                             {"customer": "乙公司", "name": "李经理"}])
    res = push(a)
    assert (res.counts["inserted"], res.counts["held"], res.counts["rejected"]) == (2, 2, 0)
    assert server_names(lb, token) == ["甲公司"]
    assert server_names(lb, token, "contact") == ["王经理"]
    waiting = [m for m in res.messages if m.code == "REFERENCE_HELD"]
    assert len(waiting) == 1 and waiting[0].row == at[1] and "乙公司" in waiting[0].message_zh
    assert is_marked(cell(a, "contact", at[1], "customer"))
    assert cell(a, "contact", at[1], "_id").value is None
    edit(a, "customer", ("name", "乙公司"), {"industry": "信息技术"})
    res = push(a)
    assert res.ok and res.counts["inserted"] == 2 and res.counts["sent"] == 2, res.lines()
    assert server_names(lb, token, "contact") == ["李经理", "王经理"]
    assert not is_marked(cell(a, "contact", at[1], "customer"))
