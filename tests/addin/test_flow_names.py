"""Issue 16 item 5 as a salesperson meets it: a reference typed with full-width letters, in
other case or with other brackets finds the customer, in the workbook's own check and on the
bridge; a new customer whose name only differs that way is pushed with a warning offering
the existing record. Typed with openpyxl and saved between every step, on both backends."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.addin.conftest import fill, keys_of, rows, sheet_of
from tests.addin.test_e2e import pull, push, signed_in
from tests.conftest import LiveBridge


def test_references_typed_another_way_find_their_customer(live_bridge_any: LiveBridge,
                                                          tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("zhou.li", "sales", "east-1", "east")
    book = signed_in(tmp_path, "zhou", lb, token)
    fill(book, "customer", [{"name": "ACME Trading", "region": "华东"},
                            {"name": "星辰科技（上海）有限公司", "region": "华东"}])
    assert push(book).ok
    assert pull(book).ok
    fill(book, "contact", [{"customer": "ＡＣＭＥ trading", "name": "李经理"},
                           {"customer": "星辰科技(上海)有限公司", "name": "王经理"}])
    res = push(book)
    assert res.ok and res.counts["inserted"] == 2, res.lines()
    ids = {r["name"]: r["_id"] for r in rows(book, "customer")}
    contacts = {r["name"]: r["customer"] for r in rows(book, "contact")}
    # the server's copy shows the record's own name in the workbook
    assert contacts == {"李经理": "ACME Trading", "王经理": "星辰科技（上海）有限公司"}
    with lb.client() as c:
        stored = c.get("/pull", params={"entities": "contact"}).json()["entities"]["contact"]
    linked = dict(zip(stored["data"]["name"], stored["data"]["customer"], strict=True))
    assert set(linked.values()) <= {"ACME Trading", "星辰科技（上海）有限公司"}
    assert ids["ACME Trading"] and ids["星辰科技（上海）有限公司"]


def test_a_new_customer_named_like_an_existing_one_is_pushed_with_a_warning(
        live_bridge_any: LiveBridge, tmp_path: Path) -> None:
    lb = live_bridge_any
    token = lb.make_user("zhou.li", "sales", "east-1", "east")
    book = signed_in(tmp_path, "zhou", lb, token, lang="en")
    fill(book, "customer", [{"name": "星辰科技（上海）有限公司", "region": "华东"}])
    assert push(book).ok
    fill(book, "customer", [{"name": "星辰科技(上海)有限公司", "region": "华东"}])
    res = push(book)
    assert res.counts["inserted"] == 1, res.lines()
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = sheet_of(wb, "customer")
    keys = keys_of(ws)
    status = [ws.cell(r, keys["_status"]).value for r in range(3, ws.max_row + 1)]
    warned = [s for s in status if s and "may be the same" in s]
    assert len(warned) == 1, status


@pytest.mark.slow  # 5-8 s a backend: a longer end-to-end run
def test_two_workbooks_of_one_user_typing_the_same_row_make_two_records(
        live_bridge_any: LiveBridge, tmp_path: Path) -> None:
    """New rows' ids derive from the row and the workbook's sync state; the workbook's own
    id keeps two fresh workbooks apart (they used to send the same id: ROW_EXISTS)."""
    lb = live_bridge_any
    token = lb.make_user("zhou.li", "sales", "east-1", "east")
    seed = signed_in(tmp_path, "seed", lb, token)
    fill(seed, "customer", [{"name": "甲公司", "region": "华东"}])
    assert push(seed).ok
    books = [signed_in(tmp_path, name, lb, token) for name in ("desk", "laptop")]
    for book in books:
        assert pull(book).ok
        fill(book, "contact", [{"customer": "甲公司", "name": "王经理", "mobile": "13812345678"}])
    for book in books:
        res = push(book)
        assert res.ok and res.counts["inserted"] == 1, res.lines()
    assert rows(books[0], "contact")[0]["_id"] != rows(books[1], "contact")[0]["_id"]
