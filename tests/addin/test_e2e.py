"""End to end on a real bridge: workbooks filled like a user would, pushed and pulled."""

from __future__ import annotations

from pathlib import Path

import httpx
import openpyxl
import pytest

from addin import commands
from addin.client import BridgeError
from addin.port_openpyxl import OpenpyxlPort
from tests.addin.conftest import edit, fill, new_workbook, rows, table
from tests.conftest import LiveBridge

USCC = "91350100M000100Y43"
TOKENS: dict[Path, str] = {}  # one keyring entry per server: these users share a computer


def signed_in(tmp: Path, name: str, lb: LiveBridge, token: str, lang: str = "zh") -> Path:
    path = new_workbook(tmp / f"{name}.xlsm", lang)
    res = commands.sign_in(OpenpyxlPort.open(path), lb.url, token)
    assert res.ok
    TOKENS[path] = token
    return path


def push(path: Path) -> commands.CommandResult:
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=TOKENS[path]) as client:
        return commands.push(port, client)


def pull(path: Path, full: bool = False) -> commands.CommandResult:
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=TOKENS[path]) as client:
        return commands.pull(port, client, full=full)


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_teams_see_their_own_rows_and_the_manager_sees_both(live_bridge: LiveBridge,
                                                           tmp_path: Path) -> None:
    lb = live_bridge
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    b = signed_in(tmp_path, "b", lb, lb.make_user("bob", "sales", "t2", "east"))
    m = signed_in(tmp_path, "m", lb, lb.make_user("mia", "manager", None, "east"))
    fill(a, "customer", [{"name": "甲公司", "industry": "制造业", "region": "华东",
                          "phone": "０２１-６２３４５６７８", "uscc": USCC},
                         {"name": "=HYPERLINK(\"x\")", "region": "华东"}])
    fill(a, "contact", [{"customer": "甲公司", "name": "王经理", "mobile": "13812345678"}])
    fill(a, "opportunity", [{"name": "甲-一期", "customer": "甲公司", "stage": "方案/报价",
                             "amount": "1,200,000.50", "expected_close": "2026/3/31"}])
    res = push(a)
    assert res.ok, res.lines()
    assert res.counts["inserted"] == 4
    got = rows(a, "customer")
    assert all(r["_id"] and r["_version"] == 1 and r["_hash"] for r in got)
    assert got[1]["name"] == "=HYPERLINK(\"x\")"  # stored as text, never a formula
    fill(b, "customer", [{"name": "乙公司", "region": "华东"}])
    assert push(b).ok
    assert pull(b).ok
    assert [r["name"] for r in rows(b, "customer")] == ["乙公司"]
    assert rows(b, "contact") == []
    assert pull(a).ok
    names = {r["name"] for r in rows(a, "customer")}
    assert names == {"甲公司", "=HYPERLINK(\"x\")"}
    a_cust = next(r for r in rows(a, "customer") if r["name"] == "甲公司")
    assert a_cust["owner"] == "alice" and a_cust["phone"] == "021 6234 5678"
    assert pull(m).ok
    assert {r["name"] for r in rows(m, "customer")} == {"甲公司", "乙公司", "=HYPERLINK(\"x\")"}
    lists = openpyxl.load_workbook(m, keep_vba=True)
    ref = lists.defined_names["ref_customer"].attr_text  # the contacts' dropdown
    cells = lists["_lists"][ref.split("!")[1].replace("$", "")]
    assert sorted(c[0].value for c in cells) == sorted(["甲公司", "乙公司", "=HYPERLINK(\"x\")"])
    opp = rows(m, "opportunity")[0]
    assert opp["amount"] == 1200000.5 and str(opp["expected_close"])[:10] == "2026-03-31"
    assert opp["stage"] == "方案/报价"
    # a second pull changes nothing and a push has nothing to send
    again = pull(m)
    assert again.counts == {"added": 0, "updated": 0, "removed": 0, "kept": 0}
    assert push(m).counts["updated"] == 0


@pytest.mark.slow  # ~33 s
def test_merge_conflict_and_resolution(live_bridge: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    m = signed_in(tmp_path, "m", lb, lb.make_user("mia", "manager", None, "east"))
    fill(a, "customer", [{"name": "甲公司", "region": "华东", "address": "浦东"}])
    assert push(a).ok
    assert pull(m).ok
    # different fields: both land
    edit(a, "customer", ("name", "甲公司"), {"phone": "021-62345678"})
    edit(m, "customer", ("name", "甲公司"), {"website": "jia.com"})
    assert push(a).counts["updated"] == 1
    res = push(m)
    assert res.counts["merged"] == 1, res.lines()
    assert pull(a).ok and pull(m).ok
    for path in (a, m):
        row = rows(path, "customer")[0]
        assert row["phone"] == "021 6234 5678" and row["website"] == "https://jia.com"
    # the same field: a conflict listed on the Conflicts sheet
    edit(a, "customer", ("name", "甲公司"), {"address": "徐汇"})
    edit(m, "customer", ("name", "甲公司"), {"address": "静安", "notes": "重点客户"})
    assert push(a).ok
    res = push(m)
    assert res.counts["conflicts"] == 1 and not res.ok
    conflicts = table(m, "冲突")
    assert conflicts[2][3:7] == ("地址", "浦东", "徐汇", "静安")
    assert rows(m, "customer")[0]["address"] == "静安"
    # pushing again without a choice sends nothing for that row
    again = push(m)
    assert again.counts["updated"] == 0 and not again.ok
    # choose theirs for the address: the notes edit still goes through
    wb_rows = table(m, "冲突")
    assert len(wb_rows) == 3
    wb = openpyxl.load_workbook(m, keep_vba=True)
    wb["冲突"].cell(row=3, column=8).value = "采用服务器"
    wb.save(m)
    res = push(m)
    assert res.ok and res.counts["updated"] == 1, res.lines()
    assert len(table(m, "冲突")) == 2
    row = rows(m, "customer")[0]
    assert row["address"] == "徐汇" and row["notes"] == "重点客户"
    assert pull(a).ok
    row = rows(a, "customer")[0]
    assert row["address"] == "徐汇" and row["notes"] == "重点客户"


@pytest.mark.slow  # ~23 s
def test_pull_keeps_unpushed_edits_and_upgrade_keeps_everything(live_bridge: LiveBridge,
                                                                tmp_path: Path) -> None:
    lb = live_bridge
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    a2 = signed_in(tmp_path, "a2", lb, token)  # the same user on a second computer
    fill(a, "customer", [{"name": "甲公司", "region": "华东"},
                         {"name": "乙公司", "region": "华东"}])
    assert push(a).ok
    assert pull(a2).ok
    edit(a2, "customer", ("name", "乙公司"), {"_change": "删除"})
    assert push(a2).counts["deleted"] == 1
    edit(a, "customer", ("name", "甲公司"), {"notes": "未推送的修改"})
    edit(a, "customer", ("name", "乙公司"), {"address": "本地地址"})
    fill(a, "customer", [{"name": "丙公司", "region": "华东"}])
    res = pull(a)
    assert res.counts["kept"] == 1, res.lines()
    got = {r["name"]: r for r in rows(a, "customer")}
    assert got["甲公司"]["notes"] == "未推送的修改"
    assert got["乙公司"]["address"] == "本地地址" and got["乙公司"]["_status"]
    assert got["丙公司"]["_id"] is None
    before = {r["name"]: r for r in rows(a, "customer")}
    out = tmp_path / "a-upgraded.xlsm"
    new = OpenpyxlPort.from_bytes(commands.template_bytes("zh"), out)
    res = commands.upgrade(OpenpyxlPort.open(a), new)
    assert res.counts["rows"] == 3
    after = {r["name"]: r for r in rows(out, "customer")}
    for name, rec in before.items():
        assert {k: v for k, v in after[name].items() if k != "_status"} == {
            k: v for k, v in rec.items() if k != "_status"}
    assert table(out, "_base") == table(a, "_base")
    meta = dict(table(out, "_meta"))
    assert meta["server_url"] == lb.url and meta["cursor"] == dict(table(a, "_meta"))["cursor"]
    v = commands.validate(OpenpyxlPort.open(out))
    assert v.counts["new"] == 1 and v.counts["update"] == 2



class LoseFirstPushAnswer(httpx.HTTPTransport):
    """Forwards to the real bridge, but drops the answer of the first push on the floor,
    as a dying connection would after the server committed."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/push"):
            self.pushes += 1
            if self.pushes == 1:
                response.read()
                response.close()
                raise httpx.RemoteProtocolError("connection lost", request=request)
        return response


def test_a_push_whose_answer_is_lost_is_applied_once(live_bridge: LiveBridge,
                                                     tmp_path: Path) -> None:
    lb = live_bridge
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    fill(a, "customer", [{"name": "甲公司", "region": "华东"}, {"name": "乙公司"}])
    fill(a, "contact", [{"customer": "甲公司", "name": "王经理"}])
    transport = LoseFirstPushAnswer()
    retries: list[str] = []
    port = OpenpyxlPort.open(a)
    with commands.connect(port, token=token, transport=transport, backoff=0.01,
                          on_retry=lambda info: retries.append(info.reason)) as client:
        res = commands.push(port, client)
    assert res.ok and res.counts["inserted"] == 3 and transport.pushes == 2
    assert retries == ["RemoteProtocolError"]
    with lb.client(token) as c:
        pulled = c.get("/pull").json()["entities"]
    assert sorted(pulled["customer"]["data"]["name"]) == ["乙公司", "甲公司"]
    assert len(pulled["contact"]["data"]["id"]) == 1
    ids = {r["name"]: r["_id"] for r in rows(a, "customer")}
    assert set(pulled["customer"]["data"]["id"]) == set(ids.values())


class LoseEveryPushAnswer(httpx.HTTPTransport):
    """The server commits every push, the client never hears back."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/push"):
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("connection lost", request=request)
        return response


def test_a_push_that_failed_after_the_server_committed_is_not_applied_twice(
        live_bridge: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge
    token = lb.make_user("alice", "sales", "t1", "east")
    a = signed_in(tmp_path, "a", lb, token)
    fill(a, "customer", [{"name": "甲公司", "region": "华东"}, {"name": "乙公司"}])
    fill(a, "contact", [{"customer": "甲公司", "name": "王经理"}])
    before = a.read_bytes()
    port = OpenpyxlPort.open(a)
    with commands.connect(port, token=token, transport=LoseEveryPushAnswer(),
                          backoff=0.01) as client, pytest.raises(BridgeError):
        commands.push(port, client)
    assert a.read_bytes() == before  # nothing written: the rows are still new
    res = push(a)  # the user tries again later: same ids, same key, the stored answer
    assert res.ok and res.counts["inserted"] == 3, res.lines()
    with lb.client(token) as c:
        pulled = c.get("/pull").json()["entities"]
    assert sorted(pulled["customer"]["data"]["name"]) == ["乙公司", "甲公司"]
    assert len(pulled["contact"]["data"]["id"]) == 1
    assert {r["_id"] for r in rows(a, "customer")} == set(pulled["customer"]["data"]["id"])


def test_an_outdated_template_is_refused_and_the_workbook_untouched(live_bridge: LiveBridge,
                                                                    tmp_path: Path) -> None:
    lb = live_bridge
    a = signed_in(tmp_path, "a", lb, lb.make_user("alice", "sales", "t1", "east"))
    port = OpenpyxlPort.open(a)
    port.write_meta({"template_version": "0.9.0"})
    port.save()
    fill(a, "customer", [{"name": "甲公司"}])
    before = a.read_bytes()
    with pytest.raises(BridgeError) as e:
        push(a)
    assert e.value.code == "TEMPLATE_OUTDATED" and "升级模板" in e.value.message_zh
    assert a.read_bytes() == before
