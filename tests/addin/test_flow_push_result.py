"""After every push the workbook shows the server's resulting row and ``_base`` holds it,
with no pull in between (issue 16, finding 2): canonical values, new versions, values the
server merged in from others, and the server's warnings. Typed into real files, saved
between every step, against a live bridge on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from addin import commands
from addin.port import MARK_COLORS
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import edit, fill, keys_of, rows, sheet_of, table
from tests.addin.fakes import RecordPushes
from tests.addin.test_e2e import TOKENS, signed_in
from tests.conftest import LiveBridge


def push(path: Path, transport: httpx.BaseTransport | None = None) -> commands.CommandResult:
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=TOKENS[path], transport=transport) as client:
        return commands.push(port, client)


def pull(path: Path) -> commands.CommandResult:
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=TOKENS[path]) as client:
        return commands.pull(port, client)


def base_rows(path: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    """``_base`` as the file holds it: record id -> (version, canonical values)."""
    return {str(r[1]): (int(r[2]), json.loads(r[3])) for r in table(path, "_base")[1:]}


def test_a_push_shows_canonical_values_and_new_versions(live_bridge_any: LiveBridge,
                                                        tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    fill(a, "customer", [{"name": "甲公司", "region": "华东", "phone": "０２１-６２３４５６７８",
                          "website": "jia.com", "industry": "制造业"}])
    res = push(a)
    assert res.ok, res.lines()
    row = rows(a, "customer")[0]
    assert row["phone"] == "021 6234 5678" and row["website"] == "https://jia.com"
    assert row["industry"] == "制造业" and row["_version"] == 1
    version, values = base_rows(a)[row["_id"]]
    assert version == 1 and values["phone"] == "021 6234 5678"
    assert values["industry"] == "manufacturing"
    edit(a, "customer", ("name", "甲公司"), {"phone": "13812345678"})
    res = push(a)
    assert res.ok and res.counts["updated"] == 1, res.lines()
    row = rows(a, "customer")[0]
    assert row["phone"] == "138 1234 5678" and row["_version"] == 2
    assert base_rows(a)[row["_id"]] == (2, {**values, "phone": "138 1234 5678"})
    assert commands.validate(OpenpyxlPort.open(a)).counts["update"] == 0


def test_values_the_server_filled_in_show_after_an_insert(live_bridge_any: LiveBridge,
                                                          tmp_path: Path) -> None:
    lb = live_bridge_any
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    fill(a, "customer", [{"name": "甲公司", "region": "华东"}])
    seen = RecordPushes()
    assert push(a, seen).ok
    assert seen.results[0].get("server") is not None  # stored values differ from those sent
    row = rows(a, "customer")[0]
    assert row["owner"] == "alice"  # the pusher's own, filled in by the server
    assert base_rows(a)[row["_id"]][1]["owner"] == "alice"
    assert pull(a).counts == {"added": 0, "updated": 0, "removed": 0, "kept": 0}


def test_values_merged_from_others_show_after_the_push(live_bridge_any: LiveBridge,
                                                      tmp_path: Path) -> None:
    lb = live_bridge_any
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    m = signed_in(tmp_path, "m", lb, lb.make_user("mia", "manager", None, "east"))
    fill(a, "customer", [{"name": "甲公司", "region": "华东", "industry": "制造业"}])
    assert push(a).ok
    assert pull(m).ok
    edit(a, "customer", ("name", "甲公司"), {"industry": "信息技术", "website": "jia.com"})
    assert push(a).ok
    edit(m, "customer", ("name", "甲公司"), {"notes": "重点客户"})
    seen = RecordPushes()
    res = push(m, seen)
    assert res.counts["merged"] == 1, res.lines()
    assert seen.results[0].get("server") is not None  # a merged row carries the server's copy
    row = rows(m, "customer")[0]
    assert (row["industry"], row["website"], row["notes"]) == (
        "信息技术", "https://jia.com", "重点客户")
    assert row["_version"] == 3
    version, values = base_rows(m)[row["_id"]]
    assert version == 3 and values["industry"] == "it" and values["notes"] == "重点客户"
    assert pull(m).counts["updated"] == 0  # nothing left for a pull to bring


def test_warnings_show_without_holding_the_row_back(live_bridge_any: LiveBridge,
                                                    tmp_path: Path) -> None:
    lb = live_bridge_any
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    fill(a, "customer", [{"name": "星辰科技（上海）有限公司", "region": "华东"}])
    assert push(a).ok
    at = fill(a, "customer", [{"name": "星辰科技(上海)有限公司", "region": "华东"}])
    seen = RecordPushes()
    res = push(a, seen)
    assert seen.results and seen.results[0].get("warnings")
    assert res.counts["inserted"] == 1, res.lines()
    wb = openpyxl.load_workbook(a, keep_vba=True)
    ws = sheet_of(wb, "customer")
    keys = keys_of(ws)
    status = ws.cell(row=at[0], column=keys["_status"]).value
    assert "已推送" in status and seen.results[0]["warnings"][0]["message_zh"] in status
    assert ws.cell(row=at[0], column=keys["_id"]).value
    marked = [c for c in ws[at[0]] if c.comment is not None]
    assert marked and all(str(c.fill.start_color.rgb).endswith(MARK_COLORS["warning"])
                          for c in marked)
