"""The import routes over HTTP: who may touch an import, what a sales user learns (nothing
out of their scope), wrong states, the review's choices, and saved mappings."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from tests.bridge.helpers import VALID_USCC
from tests.bridge.imports.helpers import customer, dry_run, push, source, staged
from tests.conftest import LiveBridge


def _code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, str(r.json()["error"]["code"])


def test_a_sales_user_never_learns_an_out_of_scope_record(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    ma = lb.make_user("ma", "sales", "t1", "east")
    niu = lb.make_user("niu", "sales", "t2", "south")
    hidden = customer(name="隐形科技有限公司", uscc=VALID_USCC[1], phone="010-12345678")
    with lb.client(niu) as c:
        assert push(c, hidden)[0]["status"] == "applied"
    rows = source({"customer": {"name": "隐形科技有限公司", "uscc": VALID_USCC[1]}},
                  {"customer": {"name": "另一家隐形公司", "phone": "010-12345678"}})
    with lb.client(ma) as c:
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert [d[1]["decision"], d[2]["decision"]] == ["new", "new"]
        confirmed = c.post(f"/imports/{iid}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        out = confirmed.json()
        # the USCC is held out of sight: refused without a name
        assert [e["code"] for e in out["errors"]] == ["ROW_OUT_OF_SCOPE"]
        said = str(d) + confirmed.text + c.get(f"/imports/{iid}").text
        assert hidden["id"] not in said
        assert all(d[n]["record_id"] is None and d[n]["record_name"] is None for n in d)
        assert "010-12345678" not in confirmed.text
    with lb.client(niu) as c:  # someone else's import does not exist for them
        assert _code(c.get(f"/imports/{iid}")) == (404, "IMPORT_NOT_FOUND")
        assert _code(c.post(f"/imports/{iid}/dry-run")) == (404, "IMPORT_NOT_FOUND")
        assert c.get("/imports").json() == []
    with lb.client() as c:  # an admin sees every import
        assert [i["id"] for i in c.get("/imports").json()] == [iid]


def test_admins_only_for_history_and_undo(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    ma = lb.make_user("ma", "sales", "t1", "east")
    with lb.client(ma) as c:
        r = c.post("/imports", json={"entity": "customer", "history": True})
        assert _code(r) == (403, "IMPORT_HISTORY_FOR_ADMINS")
        iid = staged(c, source({"customer": {"name": "马氏贸易有限公司"}}))
        dry_run(c, iid)
        assert c.post(f"/imports/{iid}/confirm").status_code == 200
        assert _code(c.post(f"/imports/{iid}/undo")) == (403, "ADMIN_ONLY")
    with lb.client() as c:
        assert c.post(f"/imports/{iid}/undo").json()["state"] == "undone"
        assert _code(c.post(f"/imports/{iid}/undo")) == (409, "IMPORT_NOT_CONFIRMED")


def test_wrong_states_and_bad_rows_are_clear(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    one = source({"customer": {"name": "一号公司"}})
    with lb.client() as c:
        assert _code(c.post("/imports", json={"entity": "opportunity"})) == (
            422, "IMPORT_ENTITY_UNSUPPORTED")
        iid = staged(c, one)
        assert _code(c.post(f"/imports/{iid}/rows", json={"rows": one})) == (
            422, "IMPORT_ROW_REPEATED")
        odd = [{"source_row": 2, "values": {"order": {"order_no": "x"}}}]
        assert _code(c.post(f"/imports/{iid}/rows", json={"rows": odd})) == (
            422, "IMPORT_ENTITY_UNSUPPORTED")
        assert _code(c.post(f"/imports/{iid}/confirm")) == (409, "IMPORT_NOT_CHECKED")
        assert _code(c.post(f"/imports/{iid}/undo")) == (409, "IMPORT_NOT_CONFIRMED")
        assert _code(c.get(f"/imports/{iid}/decisions")) == (409, "IMPORT_NOT_CHECKED")
        dry_run(c, iid)
        more = source({"customer": {"name": "二号公司"}}, {"customer": {"name": "三号公司"}})[1:]
        assert _code(c.post(f"/imports/{iid}/rows", json={"rows": more})) == (
            409, "IMPORT_NOT_STAGED")
        assert c.get(f"/imports/{iid}").json()["rows"] == 1
        assert _code(c.get("/imports/no-such-import")) == (404, "IMPORT_NOT_FOUND")


def _stored(lb: LiveBridge, rid: str, column: str) -> Any:
    with lb.db.read() as conn:
        return conn.execute(text(f"SELECT {column} FROM crm_customer WHERE id = :i"),
                            {"i": rid}).scalar()


def test_the_review_choices_decide_confirm(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    huawei = customer(name="华为技术有限公司", phone="0755-28780808", notes="老客户")
    with lb.client() as c:
        push(c, huawei)
        rows = source({"customer": {"name": "华伟技术有限公司", "address": "深圳市龙岗区"}},
                      {"customer": {"name": "华为技术有限公司", "notes": "新备注"}},
                      {"customer": {"name": "坏公司", "phone": "abc"}},
                      {"customer": {"name": "独立新公司"}})
        iid = staged(c, rows)
        d = dry_run(c, iid)
        assert [d[n]["decision"] for n in (1, 2, 3, 4)] == ["uncertain", "match", "invalid", "new"]
        assert [(x["field"], x["existing"], x["incoming"]) for x in d[2]["differences"]] == [
            ("notes", "老客户", "新备注")]
        bad = c.post(f"/imports/{iid}/choices",
                     json={"choices": [{"source_row": 3, "choice": "merge"}]})
        assert _code(bad) == (422, "IMPORT_CHOICE_INVALID")
        unknown = c.post(f"/imports/{iid}/choices",
                         json={"choices": [{"source_row": 99, "choice": "skip"}]})
        assert _code(unknown) == (422, "IMPORT_ROW_UNKNOWN")
        odd = c.post(f"/imports/{iid}/choices", json={"choices": [
            {"source_row": 1, "choice": "merge", "record_id": "x" * 64}]})
        assert _code(odd) == (422, "IMPORT_CHOICE_INVALID")
        chosen = c.post(f"/imports/{iid}/choices", json={"choices": [
            {"source_row": 1, "choice": "merge", "record_id": huawei["id"]},
            {"source_row": 2, "choice": "merge", "keep": ["notes"]},
            {"source_row": 4, "choice": "skip"}]})
        assert chosen.status_code == 200, chosen.text
        out = c.post(f"/imports/{iid}/confirm").json()
        assert out["counts"]["skipped"] == 2 and out["counts"]["rejected"] == 0, out
        assert out["counts"]["applied"] == 1  # one update of the record, nothing inserted
    assert _stored(lb, huawei["id"], "address") == "深圳市龙岗区"  # a blank filled
    assert _stored(lb, huawei["id"], "notes") == "新备注"  # ``keep``: the incoming value wins
    assert _stored(lb, huawei["id"], "phone") == "0755 2878 0808"  # kept


def test_saved_mappings_are_shared(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    ma = lb.make_user("ma", "sales", "t1", "east")
    mapping = {"entity": "customer", "name": "老系统",
               "columns": {"公司名称": "customer.name", "联系人": "contact.name", "备用": ""}}
    with lb.client(ma) as c:
        assert _code(c.get("/import-mappings/老系统")) == (404, "IMPORT_MAPPING_NOT_FOUND")
        r = c.put("/import-mappings/老系统", json=mapping)
        assert r.status_code == 200, r.text
        bad = {**mapping, "columns": {"x": "customer.no_such_field"}}
        assert _code(c.put("/import-mappings/坏", json=bad)) == (422, "IMPORT_MAPPING_INVALID")
    with lb.client() as c:
        got = c.get("/import-mappings/老系统").json()
        assert (got["entity"], got["columns"], got["updated_by"]) == (
            "customer", mapping["columns"], "ma")
        assert [m["name"] for m in c.get("/import-mappings").json()] == ["老系统"]


def test_importing_the_same_file_twice_adds_nothing(live_bridge_any: LiveBridge) -> None:
    lb = live_bridge_any
    rows = source({"customer": {"name": "远航物流有限公司", "phone": "021-55550000"},
                   "contact": {"name": "李四", "title": "经理", "mobile": "13700137000"}},
                  {"customer": {"name": "远航物流公司"}, "contact": {"name": "王五"}})
    with lb.client() as c:
        for n, expected in ((1, 3), (2, 0)):
            iid = staged(c, rows)
            d = dry_run(c, iid)
            out = c.post(f"/imports/{iid}/confirm").json()
            assert out["counts"]["applied"] == expected, (n, d, out)
        pulled = c.get("/pull", params={"entities": "customer,contact"}).json()["entities"]
    assert pulled["customer"]["data"]["name"] == ["远航物流有限公司"]
    assert sorted(pulled["contact"]["data"]["name"]) == ["李四", "王五"]
    assert set(pulled["contact"]["data"]["customer"]) == {"远航物流有限公司"}
