"""``crm-sheet import`` end to end: real files (xlsx below a banner, a GBK CSV), a live bridge,
the report workbook, the clusters CSV, ``--map`` and saved mappings, confirm, undo, and bad
input with its exit code and message."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.client import BridgeClient
from tests.bridge.helpers import VALID_USCC, body, insert
from tests.conftest import LiveBridge

runner = CliRunner()
HEADER = ["客户名称", "统一社会信用代码", "总机", "备注"]
ROWS: list[list[Any]] = [
    ["恒通科技有限公司", VALID_USCC[0], "010-65528888", "老客户"],
    ["恒通科技", None, "010-65528888", None],
    ["恒通科技有限公司上海分公司", None, "021-61230456", None],
    ["宏达贸易有限公司", None, None, "展会"],
    [None, None, "13800138000", "没有名字"],
    ["鑫隆物流有限公司", None, "0755-26880000", None],
]


def xlsx(path: Path, header: list[str], rows: list[list[Any]], banner: str = "客户清单") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "客户"
    ws.append([banner])  # a title row above the header
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def customers(lb: LiveBridge) -> list[dict[str, Any]]:
    with lb.client() as c:
        data = c.get("/pull", params={"entities": "customer"}).json()["entities"]["customer"]
    cols = data["columns"]
    return [dict(zip(cols, values, strict=True))
            for values in zip(*(data["data"][col] for col in cols), strict=True)]


def table(path: Path, sheet: str) -> list[dict[str, Any]]:
    values = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


def invoke(lb: LiveBridge, *args: str) -> Any:
    return runner.invoke(app, [*args, "--server", lb.url, "--token", lb.admin_token])


def seed(lb: LiveBridge) -> str:
    """One stored customer, 宏达贸易有限公司; returns its id."""
    row = insert("customer", name="宏达贸易有限公司", phone="020-38880000")
    with lb.client() as c:
        r = c.post("/push", json=body(row))
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    return str(row["id"])


@pytest.fixture
def seeded(live_bridge: LiveBridge) -> tuple[LiveBridge, str]:
    """A bridge holding one customer, 宏达贸易有限公司; returns it and the customer's id."""
    return live_bridge, seed(live_bridge)


def test_dry_run_report_and_clusters_write_nothing(seeded: tuple[LiveBridge, str],
                                                   tmp_path: Path) -> None:
    lb, existing = seeded
    src = xlsx(tmp_path / "old.xlsx", HEADER, ROWS)
    more = tmp_path / "more.csv"
    more.write_bytes("客户名称,总机,地址\n鑫隆物流,0755-26880000,广东省深圳市南山区科技园路8号\n"
                     .encode("gbk"))
    out, clusters = tmp_path / "report.xlsx", tmp_path / "clusters.csv"
    res = invoke(lb, "import", str(src), str(more), "--report", str(out), "--dry-run",
                 "--clusters-csv", str(clusters), "--key-column", "客户名称")
    assert res.exit_code == 0, res.output
    assert "试运行" in res.output and "新建" in res.output
    assert [c["name"] for c in customers(lb)] == ["宏达贸易有限公司"]  # nothing written
    preview = table(out, "导入预览")
    assert [r["源行号"] for r in preview] == [1, 2, 3, 4, 5, 6, 7]
    assert preview[0]["文件 › 工作表"].endswith("客户") and preview[0]["行"] == 3
    words = [r["处理"] for r in preview]
    assert words[:6] == ["新建", "文件内重复", "分支机构", "匹配已有", "无效", "新建"]
    assert words[6] == "文件内重复" and preview[6]["重复于源行"] == 6  # across files
    assert preview[1]["重复于源行"] == 1
    assert preview[3]["匹配记录编号"] == existing
    assert preview[3]["匹配记录名称"] == "宏达贸易有限公司"
    assert "名称相同" in preview[3]["依据"]
    assert preview[4]["无效单元格"] and "必填" in preview[4]["原因（中文）"]
    assert "required" in preview[4]["原因（英文）"]
    assert preview[0]["客户名称 → 客户 › 公司名称"] == "恒通科技有限公司"
    summary = {r[1]: r[2] for r in openpyxl.load_workbook(out)["摘要"].iter_rows(values_only=True)}
    assert summary["新建"] == 2 and summary["文件内重复"] == 2 and summary["无效"] == 1
    with clusters.open(encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["key", "cluster"] and len(lines) == 8
    keys = {i: (k, c) for i, (k, c) in enumerate(lines[1:], start=1)}
    assert keys[1][0] == "恒通科技有限公司" and keys[1][1] == keys[2][1]
    assert keys[3][1] != keys[1][1]  # a branch is its own legal entity
    assert keys[4][1] == f"r:{existing}" and keys[5][0] == ""
    assert keys[6][1] == keys[7][1]


def test_confirm_edited_report_then_undo(live_bridge_any: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge_any
    existing = seed(lb)
    src = xlsx(tmp_path / "old.xlsx", ["公司名称", "总机"], [
        ["宏达贸易有限公司", "020-38889999"], ["恒通科技有限公司", "010-65528888"]])
    res = invoke(lb, "import", str(src), "--lang", "en")
    assert res.exit_code == 0 and "Nothing written" in res.output, res.output
    report = src.with_name("old.import-report.xlsx")
    book = openpyxl.load_workbook(report)
    import_id = book["Summary"]["C3"].value
    assert import_id and import_id in res.output
    review = table(report, "Review")
    assert [(r["Source row"], r["Field code"], r["Existing value"], r["Incoming value"],
             r["Choice (merge/new/skip)"], r["Take the incoming value"]) for r in review] == [
        (1, "customer.phone", "020 3888 0000", "020 3888 9999", "merge", "no")]
    book["Review"]["N2"] = "yes"  # the user takes the new phone
    book.save(report)
    wrong = invoke(lb, "import", "--confirm", str(report), "not-this-one")
    assert wrong.exit_code == 2 and "IMPORT_REPORT_OTHER_IMPORT" in wrong.output
    res = invoke(lb, "import", "--confirm", str(report), str(import_id), "--lang", "en")
    assert res.exit_code == 0 and "Imported" in res.output, res.output
    assert "written 2" in res.output and "rejected 0" in res.output  # one insert, one update
    stored = {c["name"]: c for c in customers(lb)}
    assert sorted(stored) == ["宏达贸易有限公司", "恒通科技有限公司"]
    assert stored["宏达贸易有限公司"]["id"] == existing
    assert stored["宏达贸易有限公司"]["phone"] == "020 3888 9999"  # the incoming value taken
    listed = invoke(lb, "imports")
    assert listed.exit_code == 0 and str(import_id) in listed.output
    assert "confirmed" in listed.output and "写入 2" in listed.output
    again = invoke(lb, "import", "--confirm", str(report), str(import_id))
    assert again.exit_code == 3 and "IMPORT_NOT_CHECKED" in again.output  # not twice
    undone = invoke(lb, "import-undo", str(import_id), "--lang", "en")
    assert undone.exit_code == 0 and "undone" in undone.output, undone.output
    after = customers(lb)
    assert [(c["id"], c["name"]) for c in after] == [(existing, "宏达贸易有限公司")]
    assert after[0]["phone"] == "020 3888 0000"


def test_yes_confirms_at_once(live_bridge: LiveBridge, tmp_path: Path) -> None:
    src = xlsx(tmp_path / "a.xlsx", ["公司名称", "总机"], [["甲科技有限公司", "010-65528888"],
                                                         ["乙贸易有限公司", None]])
    res = invoke(live_bridge, "import", str(src), "--yes")
    assert res.exit_code == 0, res.output
    assert "已导入" in res.output and "写入 2" in res.output
    assert sorted(c["name"] for c in customers(live_bridge)) == ["乙贸易有限公司",
                                                                  "甲科技有限公司"]
    again = invoke(live_bridge, "import", str(src), "--dry-run")
    assert again.exit_code == 0 and "匹配已有 2" in again.output, again.output
    # a salesperson imports their own sheet: the rows become theirs
    sales = live_bridge.make_user("wang", "sales", "t1", "east")
    own = xlsx(tmp_path / "mine.xlsx", ["公司名称", "总机"], [["丙物流有限公司", "021-61230456"]])
    res = runner.invoke(app, ["import", str(own), "--yes", "--server", live_bridge.url,
                              "--token", sales])
    assert res.exit_code == 0 and "写入 1" in res.output, res.output
    mine = [c for c in customers(live_bridge) if c["name"] == "丙物流有限公司"]
    assert mine and mine[0]["owner"] == "wang"


def test_map_override_and_saved_mapping(live_bridge: LiveBridge, tmp_path: Path) -> None:
    src = xlsx(tmp_path / "odd.xlsx", ["甲", "乙"], [["丙科技有限公司", "北京市朝阳区"]])
    refused = invoke(live_bridge, "import", str(src))
    assert refused.exit_code == 2 and "IMPORT_MAPPING_MISSING" in refused.output
    unknown = invoke(live_bridge, "import", str(src), "--map", "甲=customer.nope")
    assert unknown.exit_code == 2 and "nope" in unknown.output, unknown.output
    res = invoke(live_bridge, "import", str(src), "--map", "甲=customer.name", "--map",
                 "乙=customer.address", "--save-mapping", "旧系统")
    assert res.exit_code == 0, res.output
    mapping = table(src.with_name("odd.import-report.xlsx"), "映射")
    assert [(m["源列"], m["字段编码"]) for m in mapping] == [("甲", "customer.name"),
                                                           ("乙", "customer.address")]
    with BridgeClient(live_bridge.url, live_bridge.admin_token) as client:
        saved = client.mappings()
        assert client.mapping_get("旧系统")["columns"] == saved[0]["columns"]
    assert [(m["name"], m["columns"]) for m in saved] == [
        ("旧系统", {"甲": "customer.name", "乙": "customer.address"})]
    unknown_name = invoke(live_bridge, "import", str(src), "--mapping", "无此映射")
    assert unknown_name.exit_code == 3 and "IMPORT_MAPPING_NOT_FOUND" in unknown_name.output
    other = xlsx(tmp_path / "odd2.xlsx", ["甲", "乙"], [["丁科技有限公司", "上海市"]])
    reused = invoke(live_bridge, "import", str(other), "--mapping", "旧系统", "--yes")
    assert reused.exit_code == 0 and "写入 1" in reused.output, reused.output
    rows = [c for c in customers(live_bridge) if c["name"] == "丁科技有限公司"]
    assert rows and rows[0]["address"] == "上海市"


def test_bad_input_exit_codes(live_bridge: LiveBridge, tmp_path: Path) -> None:
    missing = invoke(live_bridge, "import", str(tmp_path / "nope.xlsx"))
    assert missing.exit_code == 2 and "IMPORT_SOURCE_NOT_FOUND" in missing.output
    assert "nope.xlsx" in missing.output and "Traceback" not in missing.output
    src = xlsx(tmp_path / "a.xlsx", ["公司名称", "总机"], [["甲公司", "010-65528888"]])
    no_key = invoke(live_bridge, "import", str(src), "--clusters-csv", str(tmp_path / "c.csv"))
    assert no_key.exit_code == 2 and "IMPORT_KEY_COLUMN_NEEDED" in no_key.output
    bad_key = invoke(live_bridge, "import", str(src), "--clusters-csv", str(tmp_path / "c.csv"),
                     "--key-column", "编号", "--lang", "en")
    assert bad_key.exit_code == 2 and "编号" in bad_key.output and "公司名称" in bad_key.output
    with live_bridge.client() as c:
        assert c.get("/imports").json() == []  # refused before anything was sent
    no_server = runner.invoke(app, ["import", str(src)], env={"CRM_SERVER": ""})
    assert no_server.exit_code == 3 and "NOT_SIGNED_IN" in no_server.output
    wrong_token = runner.invoke(app, ["import", str(src), "--server", live_bridge.url,
                                      "--token", "crm_wrong"])
    assert wrong_token.exit_code == 3, wrong_token.output
    entity = invoke(live_bridge, "import", str(src), "--entity", "nope", "--lang", "en")
    assert entity.exit_code == 2 and "IMPORT_ENTITY_UNSUPPORTED" in entity.output
    assert "nope" in entity.output and "customer" in entity.output
    blocked = tmp_path / "blocked.xlsx"
    blocked.mkdir()  # the report cannot be written there (as when Excel holds it open)
    res = invoke(live_bridge, "import", str(src), "--report", str(blocked))
    assert res.exit_code == 2 and "WORKBOOK_LOCKED" in res.output, res.output
    assert "试运行" in res.output  # the import id was shown before the report failed
    sales = live_bridge.make_user("li", "sales", "t1", "east")
    undo = runner.invoke(app, ["import-undo", "x", "--server", live_bridge.url, "--token", sales])
    assert undo.exit_code == 3 and "ADMIN_ONLY" in undo.output, undo.output
    history = runner.invoke(app, ["import", str(src), "--history", "--server", live_bridge.url,
                                  "--token", sales])
    assert history.exit_code == 3 and "IMPORT_HISTORY_FOR_ADMINS" in history.output
    not_report = invoke(live_bridge, "import", "--confirm", str(src), "x")
    assert not_report.exit_code == 2 and "IMPORT_REPORT_INVALID" in not_report.output
