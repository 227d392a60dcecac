"""Port parity on a live bridge: every command run over the payload port (a snapshot of a
file, the recorded actions replayed onto a copy) and over the openpyxl port (the file
itself) leaves the same cell values, notes, validations and hidden state.

The two copies start byte-identical and see the same bridge: a push from the second copy
sends the same rows under the same idempotency key, and the bridge answers it with the
first one's stored result, so both get the same verdicts. The add-in's ``_meta`` stamps
come from one fixed clock (new rows' ids are derived from them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.port_payload import PayloadPort
from tests.addin.conftest import edit, fill, new_workbook, rows, sheet_of
from tests.conftest import LiveBridge
from tests.payload.hosts import differences, run_payload, state, twin

USCC = "91350100M000100Y43"


pytestmark = pytest.mark.usefixtures("fixed_stamps")


def signed_in(lb: LiveBridge, tmp: Path, name: str, token: str) -> Path:
    path = new_workbook(tmp / f"{name}.xlsm")
    assert commands.sign_in(OpenpyxlPort.open(path), lb.url, token).ok
    return path


def cut_like_another_program(path: Path) -> None:
    """What another program may leave: dropdowns dropped, panes unfrozen, hidden sheets,
    rows and columns shown."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    for ws in wb.worksheets:
        ws.data_validations.dataValidation = []
        ws.freeze_panes = None
        ws.sheet_state = "visible"
        for d in ws.row_dimensions.values():
            d.hidden = False
        for d in ws.column_dimensions.values():
            d.hidden = False
    wb.save(path)


def run_both(path: Path, other: Path, token: str, command: str, **kw: Any
             ) -> tuple[commands.CommandResult, commands.CommandResult]:
    """``command`` over the file ``path`` and over the payload of ``other``; the two
    workbooks must then look the same."""
    def over(port: Any) -> commands.CommandResult:
        if command == "validate":
            return commands.validate(port)
        with commands.connect(port, token=token) as client:
            result: commands.CommandResult = getattr(commands, command)(port, client, **kw)
            return result

    mine = over(OpenpyxlPort.open(path))
    theirs = run_payload(other, over)
    assert differences(state(path), state(other)) == []
    assert (mine.ok, mine.counts, mine.lines()) == (theirs.ok, theirs.counts, theirs.lines())
    return mine, theirs


def both(fn: Any, paths: tuple[Path, Path], *args: Any) -> None:
    for p in paths:
        fn(p, *args)


@pytest.mark.slow  # ~25 s: every command twice over one bridge
def test_every_command_leaves_the_same_workbook_over_both_ports(live_bridge: LiveBridge,
                                                               tmp_path: Path) -> None:
    lb = live_bridge
    token = lb.make_user("wang.fang", "sales", "east-1", "east")
    other_token = lb.make_user("li.na", "manager", None, "east")
    seed = signed_in(lb, tmp_path, "seed", token)
    fill(seed, "customer", [{"name": "甲公司", "industry": "制造业", "region": "华东",
                             "uscc": USCC, "address": "浦东"},
                            {"name": "=HYPERLINK(\"x\")", "region": "华东",
                             "phone": "13812345678"}])
    fill(seed, "opportunity", [{"name": "甲-一期", "customer": "甲公司", "stage": "方案/报价",
                                "amount": "1,200,000.50", "expected_close": "2026/3/31"}])
    with commands.connect(OpenpyxlPort.open(seed), token=token) as client:
        assert commands.push(OpenpyxlPort.open(seed), client).ok

    path = signed_in(lb, tmp_path, "a", token)
    cut_like_another_program(path)
    other = twin(path)
    pair = (path, other)
    run_both(path, other, token, "pull")
    back = openpyxl.load_workbook(other, keep_vba=True)
    assert back["_lists"].sheet_state == "hidden" and sheet_of(back, "customer").freeze_panes
    assert sheet_of(back, "customer").data_validations.dataValidation
    assert {r["name"] for r in rows(other, "customer")} == {"甲公司", "=HYPERLINK(\"x\")"}

    # bad cells typed into both: the same marks; a user's note on a marked cell survives
    both(fill, pair, "customer", [{"name": "乙公司", "industry": "火星", "uscc": USCC[:-1] + "4"}])
    for p in pair:
        wb = openpyxl.load_workbook(p, keep_vba=True)
        ws = sheet_of(wb, "customer")
        ws.cell(row=ws.max_row, column=2).comment = openpyxl.comments.Comment("看这里", "wang")
        wb.save(p)
    res, _ = run_both(path, other, token, "validate")
    assert not res.ok and res.counts["errors"] == 2

    # fixed, with a local edit and a conflicting edit made on the server meanwhile
    both(edit, pair, "customer", ("name", "乙公司"), {"industry": "制造业", "uscc": None})
    both(edit, pair, "customer", ("name", "甲公司"), {"address": "静安", "notes": "重点客户"})
    manager = signed_in(lb, tmp_path, "m", other_token)
    with commands.connect(OpenpyxlPort.open(manager), token=other_token) as client:
        assert commands.pull(OpenpyxlPort.open(manager), client).ok
    edit(manager, "customer", ("name", "甲公司"), {"address": "徐汇"})
    with commands.connect(OpenpyxlPort.open(manager), token=other_token) as client:
        assert commands.push(OpenpyxlPort.open(manager), client).ok
    res, _ = run_both(path, other, token, "push")
    assert res.counts["conflicts"] == 1 and res.counts["inserted"] == 1, res.lines()

    # the conflict resolved on the Conflicts sheet (theirs), then pushed again
    for p in pair:
        wb = openpyxl.load_workbook(p, keep_vba=True)
        wb["冲突"].cell(row=3, column=8).value = "采用服务器"
        wb.save(p)
    res, _ = run_both(path, other, token, "push")
    assert res.ok and res.counts["updated"] == 1, res.lines()
    row = next(r for r in rows(other, "customer") if r["name"] == "甲公司")
    assert row["address"] == "徐汇" and row["notes"] == "重点客户"

    run_both(path, other, token, "pull")
    run_both(path, other, other_token, "refresh_reports")
    run_both(path, other, other_token, "refresh_reports", snapshot=True)

    # upgrade: the old workbook over each port, the new one a fresh template file
    new_file, new_payload = tmp_path / "up-file.xlsm", tmp_path / "up-payload.xlsm"
    up = commands.upgrade(OpenpyxlPort.open(path),
                          OpenpyxlPort.from_bytes(commands.template_bytes("zh"), new_file))
    old = run_payload(other, lambda port: (port, commands.upgrade(
        port, OpenpyxlPort.from_bytes(commands.template_bytes("zh"), new_payload))))
    assert isinstance(old[0], PayloadPort) and up.counts == old[1].counts
    assert differences(state(new_file), state(new_payload)) == []
