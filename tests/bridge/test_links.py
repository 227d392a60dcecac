"""Links of dictionary 1.1.0, on both backends: a name that is not an identity, a branch's
head office (no self-link, no cycle), and payments and invoices tied to a customer, an
order or both (the order's customer filled in, a mismatch refused)."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
from sqlalchemy import select

from bridge.auth import User, add_user
from bridge.db import Database
from schema.sql import table_name
from schema.validation import validate_frame
from tests.bridge.helpers import VALID_USCC
from tests.bridge.test_history_push import ADMIN, D, _push, _row


def _update(rid: str, version: int, values: dict[str, Any], entity: str = "customer",
            row: int = 4) -> dict[str, Any]:
    return {"op": "update", "entity": entity, "id": rid, "base_version": version,
            "values": values, "row": row}


def _stored(db: Database, entity: str, rid: str, column: str) -> Any:
    t = db.table(table_name(entity))
    with db.read() as conn:
        return conn.execute(select(t.c[column]).where(t.c.id == rid)).scalar_one()


def test_two_companies_may_share_a_name_and_a_reference_by_it_is_ambiguous(db: Database
                                                                          ) -> None:
    a = _row("customer", {"name": "恒通公司", "address": "杭州", "uscc": VALID_USCC[0]})
    b = _row("customer", {"name": "恒通公司", "address": "济南", "uscc": VALID_USCC[1]})
    res = _push(db, ADMIN, a)
    assert res[0]["status"] == "applied"
    res = _push(db, ADMIN, b)[0]
    assert res["status"] == "applied"
    # two different valid USCCs are two companies: the matcher offers no similar record
    assert res["warnings"] == []
    res = _push(db, ADMIN, _row("contact", {"customer": "恒通公司", "name": "王经理"}))[0]
    assert res["status"] == "rejected"
    [e] = res["errors"]
    assert (e["code"], e["field"]) == ("REFERENCE_AMBIGUOUS", "customer")
    assert "恒通公司" in e["message_zh"] and "恒通公司" in e["message_en"]
    # the USCC stays unique
    res = _push(db, ADMIN, _row("customer", {"name": "恒通", "uscc": VALID_USCC[0]}))[0]
    assert [e["code"] for e in res["errors"]] == ["DUPLICATE_VALUE"]


def test_a_branch_links_to_its_head_office_never_to_itself_or_a_cycle(db: Database) -> None:
    hq = _row("customer", {"name": "星辰科技有限公司"})
    assert _push(db, ADMIN, hq)[0]["status"] == "applied"
    east = _row("customer", {"name": "星辰科技华东分公司", "parent": "星辰科技有限公司"})
    res = _push(db, ADMIN, east)[0]
    assert res["status"] == "applied", res
    assert _stored(db, "customer", east["id"], "parent") == hq["id"]
    shop = _row("customer", {"name": "星辰科技杭州办事处", "parent": "星辰科技华东分公司"})
    assert _push(db, ADMIN, shop)[0]["status"] == "applied"
    # the head office under its own branch's branch: a cycle of three
    res = _push(db, ADMIN, _update(hq["id"], 1, {"parent": "星辰科技杭州办事处"}, row=2))[0]
    assert res["status"] == "rejected"
    [e] = res["errors"]
    assert (e["code"], e["field"], e["row"]) == ("PARENT_CYCLE", "parent", 2)
    assert "Row 2" in e["message_en"] and "Head office" in e["message_en"]
    assert "上级单位/总部" in e["message_zh"]
    # itself
    res = _push(db, ADMIN, _update(east["id"], 1, {"parent": "星辰科技华东分公司"}))[0]
    assert [e["code"] for e in res["errors"]] == ["PARENT_CYCLE"]
    # two links in one push that close a loop: the first is refused
    other = _row("customer", {"name": "月光集团"})
    assert _push(db, ADMIN, other)[0]["status"] == "applied"
    res = _push(db, ADMIN, _update(hq["id"], 1, {"parent": "月光集团"}),
                _update(other["id"], 1, {"parent": "星辰科技杭州办事处"}))
    assert [r["status"] for r in res] == ["rejected", "applied"], res
    assert _stored(db, "customer", hq["id"], "parent") is None
    assert _stored(db, "customer", other["id"], "parent") == shop["id"]


def _order(db: Database, customer: str, no: str) -> None:
    res = _push(db, ADMIN, _row("order", {"order_no": no, "customer": customer,
                                          "signed_on": "2024-01-02", "amount": 100,
                                          "status": "signed"}))[0]
    assert res["status"] == "applied", res


def test_payments_and_invoices_tie_to_a_customer_an_order_or_both(db: Database) -> None:
    for name in ("甲公司", "乙公司"):
        assert _push(db, ADMIN, _row("customer", {"name": name}))[0]["status"] == "applied"
    _order(db, "甲公司", "HT-1")
    pay = {"kind": "payment", "paid_on": "2024-02-01", "amount": 50}
    by_order = _row("payment", {**pay, "order": "HT-1"})
    both = _row("payment", {**pay, "order": "HT-1", "customer": "甲公司"})
    refund = _row("payment", {**pay, "kind": "refund", "customer": "乙公司"})
    credit = _row("invoice", {"invoice_no": "FP-9", "kind": "credit_note",
                              "issued_on": "2024-03-01", "amount": 20, "customer": "乙公司"})
    res = _push(db, ADMIN, by_order, both, refund, credit)
    assert [r["status"] for r in res] == ["applied"] * 4, res
    assert res[0]["server"]["customer"] == "甲公司"  # filled in from the order: shown
    a_id = _stored(db, "payment", by_order["id"], "customer")
    assert a_id is not None and _stored(db, "payment", both["id"], "customer") == a_id
    assert _stored(db, "payment", refund["id"], "order") is None
    assert _stored(db, "payment", refund["id"], "customer") != a_id
    assert _stored(db, "invoice", credit["id"], "customer") is not None
    # a customer that is not the order's is refused, naming both
    res = _push(db, ADMIN, _row("payment", {**pay, "order": "HT-1", "customer": "乙公司"},
                                row=6))[0]
    assert res["status"] == "rejected"
    [e] = res["errors"]
    assert (e["code"], e["field"], e["row"]) == ("REFERENCE_MISMATCH", "customer", 6)
    assert "甲公司" in e["message_en"] and "HT-1" in e["message_en"] and "乙公司" in e["message_zh"]
    # neither: refused on the order, naming the customer too
    res = _push(db, ADMIN, _row("invoice", {"invoice_no": "FP-10", "kind": "invoice",
                                            "issued_on": "2024-03-01", "amount": 20}))[0]
    [e] = res["errors"]
    assert (e["code"], e["field"]) == ("REQUIRED_ONE_OF", "order")
    assert "客户" in e["message_zh"] and "Customer" in e["message_en"]
    # an update that sets the order fills the customer in
    res = _push(db, ADMIN, _update(refund["id"], 1, {"customer": None}, "payment"))[0]
    assert [e["code"] for e in res["errors"]] == ["REQUIRED_ONE_OF"]
    _order(db, "乙公司", "HT-2")
    res = _push(db, ADMIN, _update(refund["id"], 1, {"order": "HT-2", "customer": None},
                                   "payment"))[0]
    assert res["status"] == "applied", res
    assert res["server"]["customer"] == "乙公司"
    # moved to another order without naming a customer: it follows the order
    res = _push(db, ADMIN, _update(by_order["id"], 1, {"order": "HT-2"}, "payment"))[0]
    assert res["status"] == "applied" and res["server"]["customer"] == "乙公司", res
    # naming the old customer with the new order is a mismatch
    res = _push(db, ADMIN, _update(both["id"], 1, {"order": "HT-2", "customer": "甲公司"},
                                   "payment"))[0]
    assert [e["code"] for e in res["errors"]] == ["REFERENCE_MISMATCH"]


def test_the_sheet_side_validation_knows_the_one_of_rule() -> None:
    frame = pd.DataFrame({"kind": ["refund", "refund", "refund"],
                          "paid_on": ["2024-01-01"] * 3, "amount": [1, 2, 3],
                          "order": [None, "HT-1", None], "customer": [None, None, "甲"]},
                         dtype=object)
    errors = validate_frame(D, "payment", frame).errors
    assert [(e.row, e.field, e.code) for e in errors] == [(0, "order", "REQUIRED_ONE_OF")]


def test_a_salesperson_ties_a_refund_to_their_own_customer(db: Database) -> None:
    with db.write() as conn:
        sales: User = add_user(db, conn, f"s{uuid.uuid4().hex[:6]}", "sales", "t1", "east")
    assert _push(db, sales, _row("customer", {"name": "丙公司", "region": "east"})
                 )[0]["status"] == "applied"
    res = _push(db, sales, _row("payment", {"kind": "refund", "paid_on": "2024-02-01",
                                            "amount": 5, "customer": "丙公司"}))[0]
    assert res["status"] == "applied", res


def test_a_branch_may_travel_with_its_head_office(db: Database) -> None:
    # the branches come first in the push: the head office is written before them anyway
    shop = _row("customer", {"name": "云帆杭州办事处", "parent": "云帆华东分公司"}, row=2)
    east = _row("customer", {"name": "云帆华东分公司", "parent": "云帆科技有限公司"}, row=3)
    hq = _row("customer", {"name": "云帆科技有限公司"}, row=4)
    res = _push(db, ADMIN, shop, east, hq)
    assert [r["status"] for r in res] == ["applied"] * 3, res
    assert _stored(db, "customer", shop["id"], "parent") == east["id"]
    assert _stored(db, "customer", east["id"], "parent") == hq["id"]
    # two new records naming each other, or one naming itself, close a loop
    a = _row("customer", {"name": "甲方", "parent": "乙方"})
    b = _row("customer", {"name": "乙方", "parent": "甲方"})
    me = _row("customer", {"name": "自己", "parent": "自己"})
    res = _push(db, ADMIN, a, b, me)
    assert [r["status"] for r in res] == ["rejected"] * 3, res
    # b's head office (a) was refused: b would point at nothing
    assert [[e["code"] for e in r["errors"]] for r in res] == [
        ["PARENT_CYCLE"], ["REFERENCE_NOT_FOUND"], ["PARENT_CYCLE"]]
