"""The dry run on real-looking data, over HTTP on both backends: rows of one company sharing
a USCC fold together while a USCC shared by two companies is a clash; a USCC with a bad
check character is a matching hint, dropped with a warning; an invalid row keeps its real
cluster; two customers of one name each keep their own contact; an in-file uncertain pair
is reported and the review's choice decides it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.bridge.helpers import VALID_USCC, insert
from tests.bridge.imports.helpers import dry_run, push, source, staged
from tests.conftest import LiveBridge

BAD_USCC = VALID_USCC[1][:-1] + ("M" if VALID_USCC[1][-1] != "M" else "N")


def _confirm(c: httpx.Client, iid: str) -> dict[str, Any]:
    r = c.post(f"/imports/{iid}/confirm")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    assert out["counts"]["rejected"] == 0, out["errors"]
    return out


def _customers(lb: LiveBridge) -> list[tuple[Any, ...]]:
    with lb.db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(text(
            "SELECT id, name, uscc FROM crm_customer WHERE deleted = false")))


def test_shared_uscc_folds_in_a_cluster_and_clashes_across(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    rows = source(
        {"customer": {"name": "恒通科技有限公司", "uscc": VALID_USCC[0]}},
        {"customer": {"name": "恒通科技（北京）有限公司", "uscc": VALID_USCC[0],
                      "phone": "010-65528888"}},
        {"customer": {"name": "上海星辰物流有限公司", "uscc": VALID_USCC[0]}},
        {"customer": {"name": "新月物流有限公司", "phone": "abc"}},
        {"customer": {"name": "新月物流有限公司", "phone": "13800138000"}},
    )
    with lb.client() as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert d[1]["decision"] == "new" and d[2]["decision"] == "duplicate"
        assert d[2]["duplicate_of"] == 1 and d[2]["cluster"] == d[1]["cluster"] == "s:1"
        assert d[3]["decision"] == "invalid" and d[3]["cluster"] == "s:3"
        [clash] = d[3]["errors"]
        assert (clash["code"], clash["field"], clash["row"]) == (
            "IMPORT_UNIQUE_CLASH", "uscc", 3)
        assert VALID_USCC[0] in clash["message_en"] and "row 1" in clash["message_en"]
        # an invalid row is still matched: it is in the cluster of its company, the valid
        # row is the head
        assert d[4]["decision"] == "invalid" and d[4]["errors"][0]["code"] == "INVALID_PHONE"
        assert d[4]["cluster"] == d[5]["cluster"] == "s:4" and d[5]["decision"] == "new"
        out = _confirm(c, iid)
        assert out["counts"]["skipped"] == 2
    assert {r[1]: r[2] for r in _customers(lb)} == {"新月物流有限公司": None,
                                                    "恒通科技有限公司": VALID_USCC[0]}


def test_a_bad_check_character_is_a_hint_and_dropped(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    other_bad = VALID_USCC[3][:-1] + ("M" if VALID_USCC[3][-1] != "M" else "N")
    rows = source(
        {"customer": {"name": "华为技术有限公司", "uscc": VALID_USCC[1]}},
        {"customer": {"name": "华伟技术有限公司", "uscc": BAD_USCC, "address": "深圳市龙岗区"}},
        {"customer": {"name": "星辰贸易有限公司", "uscc": other_bad, "phone": "021-55551234"}},
    )
    with lb.client() as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert d[2]["errors"] == [] and d[3]["errors"] == []
        [warn] = d[2]["warnings"]
        assert (warn["code"], warn["field"], warn["row"]) == ("IMPORT_USCC_DROPPED", "uscc", 2)
        assert BAD_USCC in warn["message_zh"] and BAD_USCC in warn["message_en"]
        assert warn["params"]["value"] == BAD_USCC
        # the typo'd name meets row 1 through the USCC hint: the same company
        assert d[2]["decision"] == "duplicate" and d[2]["cluster"] == "s:1"
        assert set(d[2]["reasons"]) == {"name_typo", "uscc_hint"}
        assert d[3]["decision"] == "new" and d[3]["warnings"][0]["field"] == "uscc"
        _confirm(c, iid)
    stored = {r[1]: r[2] for r in _customers(lb)}
    assert stored == {"华为技术有限公司": VALID_USCC[1], "星辰贸易有限公司": None}
    with lb.db.read() as conn:  # the rest of the dropped row is kept
        assert conn.execute(text("SELECT address FROM crm_customer WHERE name = '华为技术有限公司'")
                            ).scalar() == "深圳市龙岗区"


def test_two_customers_of_one_name_keep_their_own_contacts(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    rows = source(
        {"customer": {"name": "恒通公司", "uscc": VALID_USCC[1], "address": "北京市朝阳区"},
         "contact": {"name": "张三", "mobile": "13900139000"}},
        {"customer": {"name": "恒通公司", "uscc": VALID_USCC[2], "address": "上海市浦东新区"},
         "contact": {"name": "李四", "mobile": "13900139001"}},
    )
    with lb.client() as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert [d[1]["decision"], d[2]["decision"]] == ["new", "new"]
        assert d[1]["cluster"] != d[2]["cluster"]
        _confirm(c, iid)
    with lb.db.read() as conn:
        linked = dict(conn.execute(text(
            "SELECT p.name, c.uscc FROM crm_contact p JOIN crm_customer c "
            "ON c.id = p.customer WHERE p.deleted = false")).all())
    assert linked == {"张三": VALID_USCC[1], "李四": VALID_USCC[2]}


def _uncertain_pair(c: httpx.Client) -> tuple[str, dict[int, dict[str, Any]]]:
    rows = source({"customer": {"name": "华为技术有限公司"}},
                  {"customer": {"name": "华伟技术有限公司"}})
    iid = staged(c, rows)
    return iid, dry_run(c, iid)


def test_an_in_file_uncertain_pair_is_reported_and_merged_on_choice(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        iid, d = _uncertain_pair(c)
        assert d[1]["decision"] == "new"
        assert d[2]["decision"] == "uncertain" and d[2]["uncertain_of"] == 1
        assert d[2]["reasons"] == ["name_typo"] and d[2]["score"] == 0.4
        assert d[2]["record_id"] is None and d[2]["cluster"] == "s:2"
        r = c.post(f"/imports/{iid}/choices",
                   json={"choices": [{"source_row": 2, "choice": "merge"}]})
        assert r.status_code == 200, r.text
        assert _confirm(c, iid)["counts"]["applied"] == 1
    assert [r[1] for r in _customers(lb)] == ["华为技术有限公司"]


def test_an_in_file_uncertain_pair_without_a_choice_stays_apart(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    with lb.client() as c:
        iid, d = _uncertain_pair(c)
        assert d[2]["decision"] == "uncertain"
        assert _confirm(c, iid)["counts"]["applied"] == 2
    assert sorted(r[1] for r in _customers(lb)) == ["华为技术有限公司", "华伟技术有限公司"]


def test_a_push_reference_by_id_names_one_of_two_same_name_customers(
        live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    beijing = insert("customer", name="恒通公司", uscc=VALID_USCC[1], address="北京市")
    shanghai = insert("customer", name="恒通公司", uscc=VALID_USCC[2], address="上海市")
    with lb.client() as c:
        assert [r["status"] for r in push(c, beijing, shanghai)] == ["applied"] * 2
        by_name, by_id = push(c, insert("contact", name="王五", customer="恒通公司"),
                              insert("contact", name="赵六", customer=shanghai["id"]))
    assert by_name["status"] == "rejected"
    assert by_name["errors"][0]["code"] == "REFERENCE_AMBIGUOUS"
    assert by_id["status"] == "applied", by_id
    with lb.db.read() as conn:
        linked = conn.execute(text("SELECT customer FROM crm_contact WHERE name = '赵六'")
                              ).scalar()
    assert linked == shanghai["id"]
