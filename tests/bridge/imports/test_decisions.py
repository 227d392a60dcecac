"""The dry run's decisions on a hand-made file, over HTTP on both backends: an USCC match,
a phone match, name variants, a branch of an existing record and of a row, a duplicate in
the file, an uncertain pair and invalid rows; then confirm and undo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from schema.dictionary import build_dictionary
from schema.sql import table_name
from tests.bridge.helpers import VALID_USCC
from tests.bridge.imports.helpers import customer, dry_run, push, source, staged
from tests.conftest import LiveBridge

HENGTONG = customer(name="恒通科技（北京）有限公司", uscc=VALID_USCC[0], phone="010-65528888")
XINGCHEN = customer(name="星辰贸易有限公司", phone="021-55551234")
HUAWEI = customer(name="华为技术有限公司")

FILE = source(
    {"customer": {"name": "恒通科技有限公司", "uscc": VALID_USCC[0], "address": "北京市朝阳区"}},
    {"customer": {"name": "星晨贸易有限公司", "phone": "021 5555 1234"}},
    {"customer": {"name": "华为技术有限公司上海分公司"}},
    {"customer": {"name": "新月物流有限公司", "phone": "13800138000"},
     "contact": {"name": "张三", "mobile": "13900139000"}},
    {"customer": {"name": "新月物流公司", "address": "上海市浦东新区"}},
    {"customer": {"name": "华伟技术有限公司"}},
    {"customer": {"name": "坏数据公司", "phone": "abc"}},
    {"customer": {"name": "新月物流有限公司上海分公司"}},
    {"customer": {"name": "", "notes": "无名"}},
    {"customer": {"name": "星辰贸易有限公司", "phone": "021-66667777"}},
)


def _seed(lb: LiveBridge) -> None:
    with lb.client() as c:
        assert [r["status"] for r in push(c, HENGTONG, XINGCHEN, HUAWEI)] == ["applied"] * 3


def _entity_rows(lb: LiveBridge) -> dict[str, list[tuple[Any, ...]]]:
    """Every live record of every entity table (its id and field values), and the match
    keys."""
    out = {}
    with lb.db.read() as conn:
        for entity in build_dictionary():
            cols = ", ".join(f'"{c}"' for c in ["id", *entity.field_codes()])
            out[entity.code] = sorted(tuple(map(str, r)) for r in conn.execute(text(
                f"SELECT {cols} FROM {table_name(entity.code)} WHERE deleted = false")))
        out["keys"] = sorted(tuple(r) for r in conn.execute(text(
            "SELECT entity, key, record_id FROM sys_match_key")))
    return out


def test_the_dry_run_decides_every_row(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    _seed(lb)
    with lb.client() as c:
        d = dry_run(c, staged(c, FILE))
    kinds = {n: d[n]["decision"] for n in d}
    assert kinds == {1: "match", 2: "match", 3: "branch", 4: "new", 5: "duplicate",
                     6: "uncertain", 7: "invalid", 8: "branch", 9: "invalid", 10: "match"}
    assert d[1]["record_id"] == HENGTONG["id"] and d[1]["reasons"] == ["same_uscc"]
    assert d[1]["record_name"] == "恒通科技（北京）有限公司" and d[1]["score"] == 1.0
    assert d[1]["cluster"] == f"r:{HENGTONG['id']}" and d[1]["differences"] == []
    assert d[2]["record_id"] == XINGCHEN["id"]
    assert set(d[2]["reasons"]) == {"name_typo", "same_phone"}
    assert d[3]["record_id"] == HUAWEI["id"] and d[3]["parent_row"] is None
    assert d[5]["duplicate_of"] == 4 and d[5]["cluster"] == d[4]["cluster"] == "s:4"
    assert d[8]["parent_row"] == 4 and d[8]["cluster"] == "s:8"
    assert d[6]["record_id"] == HUAWEI["id"] and d[6]["reasons"] == ["name_typo"]
    [bad] = d[7]["errors"]
    assert (bad["code"], bad["entity"], bad["field"], bad["row"]) == (
        "INVALID_PHONE", "customer", "phone", 7)
    assert [e["code"] for e in d[9]["errors"]] == ["REQUIRED"]
    assert d[9]["sheet"] == "客户.xlsx › Sheet1" and d[9]["line"] == 10
    # a different non-blank phone is a difference for the review sheet, not an overwrite
    [diff] = d[10]["differences"]
    assert (diff["field"], diff["existing"], diff["incoming"]) == (
        "phone", "021 5555 1234", "021 6666 7777")


def test_confirm_writes_through_the_push_engine_and_undo_restores(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    _seed(lb)
    before = _entity_rows(lb)
    with lb.client() as c:
        iid = staged(c, FILE)
        dry_run(c, iid)
        r = c.post(f"/imports/{iid}/confirm", json={"uncertain": "new"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["import"]["state"] == "confirmed" and out["import"]["push_keys"]
        assert out["counts"]["rejected"] == 0, out["errors"]
        assert out["counts"]["skipped"] == 2  # the two invalid rows
        after = _entity_rows(lb)
        names = {row[1] for row in after["customer"]}
        assert {"新月物流有限公司", "华伟技术有限公司", "华为技术有限公司上海分公司",
                "新月物流有限公司上海分公司"} <= names
        assert "新月物流公司" not in names  # the duplicate was folded into row 4
        assert len(after["customer"]) == 3 + 4
        assert [row[2] for row in after["contact"]] == ["张三"]
        assert len(after["keys"]) > len(before["keys"])
        with lb.db.read() as conn:  # row 1 filled the blank address of the matched record
            address = conn.execute(text("SELECT address FROM crm_customer WHERE id = :i"),
                                   {"i": HENGTONG["id"]}).scalar()
        assert address == "北京市朝阳区"
        again = c.post(f"/imports/{iid}/confirm")
        assert again.status_code == 409 and again.json()["error"]["code"] == "IMPORT_NOT_CHECKED"
        undone = c.post(f"/imports/{iid}/undo")
        assert undone.status_code == 200, undone.text
        assert undone.json()["state"] == "undone"
    assert _entity_rows(lb) == before
    with lb.db.read() as conn:
        address = conn.execute(text("SELECT address FROM crm_customer WHERE id = :i"),
                               {"i": HENGTONG["id"]}).scalar()
    assert address is None
