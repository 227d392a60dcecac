"""Erasure through the API and the CLI: the dry run lists what will go, a legal hold
blocks with a message naming it, the erasure clears the record, its audit values and its
copies, is audited without values, and the chain still verifies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bridge import audit
from bridge.cli import app
from tests.bridge.helpers import body, insert, update
from tests.bridge.privacy.conftest import leaked, stored_text
from tests.conftest import LiveBridge

runner = CliRunner()
PERSON = {"name": "林晓燕", "mobile": "139 1234 5678", "email": "lin.xy@example.cn",
          "wechat": "lxy_1990", "notes": "喜欢周五下午开会"}
OTHER = {"name": "赵建国", "mobile": "136 9876 5432", "email": "zhao.jg@example.cn"}


def seed(admin: httpx.Client) -> tuple[str, str, int]:
    """A customer with two contacts; the first renamed once. Ids and the pull cursor."""
    cust = insert("customer", name="擦除测试有限公司", region="east")
    one = insert("contact", customer="擦除测试有限公司", title="经理", **PERSON)
    two = insert("contact", customer="擦除测试有限公司", **OTHER)
    assert admin.post("/push", json=body(cust, one, two)).json()["counts"]["applied"] == 3
    b = body(update("contact", one["id"], 1, {"name": "林晓艳"}, {"name": PERSON["name"]}))
    assert admin.post("/push", json=b).json()["counts"]["applied"] == 1
    cursor = admin.get("/pull").json()["cursor"]
    return one["id"], two["id"], cursor


def test_dry_run_hold_and_erasure(bridge: LiveBridge) -> None:
    lb = bridge
    sales = lb.make_user("sam", "sales", "t1", "east")
    with lb.client() as admin:
        one, two, cursor = seed(admin)
        subject = f"contact:{one}"
        with lb.client(sales) as s:
            refused = s.post("/admin/erase", json={"subject": subject, "dry_run": True})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "ADMIN_ONLY"

        plan = admin.post("/admin/erase", json={"subject": subject, "dry_run": True}).json()
        assert plan["dry_run"] is True and plan["holds"] == []
        [rec] = plan["records"]
        assert rec["id"] == one and rec["entity"] == "contact"
        assert rec["fields"] == ["name", "mobile", "email", "wechat", "notes"]
        assert rec["sealed_entries"] == plan["audit"]["sealed_entries"] == 2
        assert plan["audit"]["subject_keys"] == 1
        assert plan["audit"]["clear_entries"] == 1  # the notes: not sealed by the dictionary
        assert not leaked(str(plan), [*PERSON.values(), "林晓艳"])  # counts, never values
        row = _contact(admin, one)
        assert row is not None and row["name"] == "林晓艳"  # a dry run changes nothing

        held = admin.post("/admin/holds", json={"entity": "contact", "record_id": one,
                                                "reason": "诉讼 2026-017"})
        assert held.status_code == 201
        hold_id = held.json()["id"]
        blocked = admin.post("/admin/erase", json={"subject": subject})
        assert blocked.status_code == 409
        e = blocked.json()["error"]
        assert e["code"] == "ERASE_HELD"
        for text in (e["message_en"], e["message_zh"]):
            assert f"#{hold_id}" in text and "诉讼 2026-017" in text and one in text
        assert "legal hold" in e["message_en"] and "法律保全" in e["message_zh"]
        again = admin.post("/admin/erase", json={"subject": subject, "dry_run": True}).json()
        assert [h["id"] for h in again["holds"]] == [hold_id]
        assert _contact(admin, one) is not None  # nothing erased

        assert admin.post(f"/admin/holds/{hold_id}/release").status_code == 200
        done = admin.post("/admin/erase", json={"subject": subject}).json()
        assert done["dry_run"] is False and done["records"][0]["fields"] == rec["fields"]

        pulled = admin.get("/pull", params={"since": cursor}).json()["entities"]["contact"]
        assert pulled["removed"] == [one]  # workbooks drop the row on their next pull
        assert _contact(admin, one) is None and _contact(admin, two) is not None
        trail = admin.get("/audit", params={"record_id": one}).json()
        assert [t.get("erased", False) for t in trail if t["action"] in ("insert", "update")] \
            == [True, True]
        last = trail[-1]
        assert last["action"] == "erase" and last["changes"]["subject"] == subject
        assert last["changes"]["fields"] == rec["fields"]
        assert admin.get("/audit/verify").json()["ok"] is True
    with lb.db.read() as conn:
        assert audit.verify(lb.db, conn).ok
    text = stored_text(lb.db)
    sealed_only = [v for k, v in PERSON.items() if k != "notes"]
    assert leaked(text, [*sealed_only, "林晓艳"]) == []
    assert leaked(text, [PERSON["notes"]]) == [PERSON["notes"]]  # the one clear entry
    assert leaked(text, list(OTHER.values())) == list(OTHER.values())  # its record keeps them
    with lb.client() as admin:  # the other contact's values are still readable
        first = admin.get("/audit", params={"record_id": two}).json()[0]
        assert first["changes"]["name"] == [None, OTHER["name"]]


def _contact(admin: httpx.Client, rid: str) -> dict[str, Any] | None:
    data = admin.get("/pull", params={"entities": "contact"}).json()["entities"]["contact"]
    cols = data["data"]
    for i, x in enumerate(cols["id"]):
        if x == rid:
            return {c: cols[c][i] for c in cols}
    return None


def test_cli_erase_dry_run_hold_and_customer(bridge: LiveBridge,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    lb = bridge
    url = lb.settings.url()
    monkeypatch.setenv("CRM_AUDIT_KEY_FILE", lb.settings.audit_key_file)  # the bridge's key
    monkeypatch.setenv("CRM_AUDIT_CHECKPOINT_FILE", lb.settings.audit_checkpoint_file)
    with lb.client() as admin:
        _, two, _ = seed(admin)
        cust = admin.get("/pull").json()["entities"]["customer"]["data"]["id"][0]
        order = insert("order", order_no="HT-ERASE-1", customer="擦除测试有限公司",
                       signed_on="2026-01-05", amount=1000, status="signed")
        assert admin.post("/push", json=body(order)).json()["counts"]["applied"] == 1
    bad = runner.invoke(app, ["erase", "contact:nope", "--db", url])
    assert bad.exit_code == 1 and "is not a data subject" in bad.output, bad.output
    res = runner.invoke(app, ["hold", "add", "contact", two, "--reason", "审计保全",
                              "--db", url])
    assert res.exit_code == 0, res.output
    dry = runner.invoke(app, ["erase", f"customer:{cust}", "--dry-run", "--db", url])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output)
    assert plan["referencing"] == {"order": 1} and plan["holds"][0]["reason"] == "审计保全"
    assert [r["entity"] for r in plan["records"]] == ["customer", "contact", "contact"]
    assert plan["records"][0]["fields"] == ["name"]
    # the company's name and the notes are not sealed by the dictionary: the trail keeps
    # them in clear (as a reference too), and the dry run says in how many entries: the
    # inserts of the customer, of both contacts and of the order
    assert plan["audit"]["clear_entries"] == 4
    held = runner.invoke(app, ["erase", f"customer:{cust}", "--db", url])
    assert held.exit_code == 4 and "legal hold #1" in held.output and "法律保全 #1" in \
        held.output, held.output
    assert runner.invoke(app, ["hold", "remove", "1", "--db", url]).exit_code == 0
    assert runner.invoke(app, ["hold", "remove", "1", "--db", url]).exit_code == 1
    res = runner.invoke(app, ["erase", f"customer:{cust}", "--db", url])
    assert res.exit_code == 0, res.output
    with lb.client() as admin:
        ents = admin.get("/pull").json()["entities"]
        assert ents["customer"]["data"]["id"] == [] and ents["contact"]["data"]["id"] == []
        orders = ents["order"]["data"]
        assert orders["order_no"] == ["HT-ERASE-1"] and orders["customer"] == [None]
        assert admin.get("/audit/verify").json()["ok"] is True
    sealed = [v for k, v in PERSON.items() if k != "notes"]
    assert leaked(stored_text(lb.db), [*sealed, *OTHER.values(), "林晓艳"]) == []
