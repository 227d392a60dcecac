"""Subject access as a workbook and JSON (CLI and API), and retention rules run with an
injected clock: dry run, holds, references, audit."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bridge.auth import User
from bridge.cli import app
from bridge.privacy import hold, retention
from schema.dictionary import build_dictionary
from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge

runner = CliRunner()
ADMIN = User("admin", "Admin", "admin", None, None)


def _same_key(lb: LiveBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_AUDIT_KEY_FILE", lb.settings.audit_key_file)
    monkeypatch.setenv("CRM_AUDIT_CHECKPOINT_FILE", lb.settings.audit_checkpoint_file)


def test_export_subject_workbook_and_json(bridge: LiveBridge, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    lb = bridge
    _same_key(lb, monkeypatch)
    cust = insert("customer", name="导出测试公司")
    person = insert("contact", customer="导出测试公司", name="=钱小梅", mobile="138 0013 8000",
                    email="qian@example.cn")
    with lb.client() as admin:
        assert admin.post("/push", json=body(cust, person)).json()["counts"]["applied"] == 2
        b = body(update("contact", person["id"], 1, {"title": "总监"}, {"title": None}))
        assert admin.post("/push", json=b).json()["counts"]["applied"] == 1
        api = admin.post("/admin/export-subject",
                         json={"subject": f"contact:{person['id']}"}).json()
        xlsx = admin.post("/admin/export-subject/workbook",
                          json={"subject": f"contact:{person['id']}"})
        missing = admin.post("/admin/export-subject", json={"subject": f"contact:{cust['id']}"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SUBJECT_NOT_FOUND"
    assert api["records"]["contact"][0]["name"] == "=钱小梅"
    assert [e["action"] for e in api["audit"]] == ["insert", "update"]
    assert api["audit"][0]["changes"]["mobile"] == [None, "138 0013 8000"]  # opened
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["subject", "contact", "audit", "holds"]
    ws = wb["contact"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(2, head.index("name") + 1)
    assert cell.value == "=钱小梅" and cell.data_type == "s"  # text, never a formula

    res = runner.invoke(app, ["export-subject", f"contact:{person['id']}",
                              str(tmp_path / "out" / "qian"), "--db", lb.settings.url()])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "qian.json").read_text("utf-8"))
    assert data["records"] == api["records"]
    # the earlier exports (API, workbook) are part of what is stored about the subject
    assert [e["action"] for e in data["audit"]] == ["insert", "update", "export", "export"]
    book = openpyxl.load_workbook(tmp_path / "out" / "qian.xlsx")
    audit_rows = list(book["audit"].iter_rows(min_row=2, values_only=True))
    assert len(audit_rows) == 4 and "138 0013 8000" in str(audit_rows[0])
    with lb.client() as admin:
        exports = admin.get("/audit", params={"action": "export"}).json()
        assert len(exports) == 3 and exports[0]["changes"] == {"records": 1,
                                                               "audit_entries": 2}
        assert admin.get("/audit/verify").json()["ok"] is True


def test_retention_with_an_injected_clock(bridge: LiveBridge,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    lb = bridge
    _same_key(lb, monkeypatch)
    d, url = build_dictionary(), lb.settings.url()
    cust = insert("customer", name="保留测试公司")

    def ticket(subject: str, status: str, closed: str | None) -> dict[str, object]:
        return insert("ticket", customer="保留测试公司", subject=subject, status=status,
                      opened_on="2020-01-02", closed_on=closed)

    old, recent, open_, held = (ticket("旧工单", "closed", "2021-03-01"),
                                ticket("新工单", "closed", "2025-06-01"),
                                ticket("未关闭", "open", None),
                                ticket("保全工单", "closed", "2021-02-01"))
    with lb.client() as admin:
        res = admin.post("/push", json=body(cust, old, recent, open_, held)).json()
        assert res["counts"]["applied"] == 5
        cursor = admin.get("/pull").json()["cursor"]
    bad = runner.invoke(app, ["retention", "set", "x", "--entity", "ticket", "--date-field",
                              "subject", "--days", "10", "--db", url])
    assert bad.exit_code == 2 and "is not a date of ticket" in bad.output, bad.output
    res = runner.invoke(app, ["retention", "set", "closed-tickets", "--entity", "ticket",
                              "--date-field", "closed_on", "--days", str(3 * 365),
                              "--where", "status=closed", "--db", url])
    assert res.exit_code == 0, res.output
    with lb.db.write() as conn:
        hold.add_hold(lb.db, d, conn, ADMIN, "ticket", held["id"], "投诉处理中")
    dry = runner.invoke(app, ["retention", "run", "--dry-run", "--as-of", "2025-01-01",
                              "--db", url])
    assert dry.exit_code == 0, dry.output
    [rule] = json.loads(dry.output)["rules"]
    assert rule["removed"] == [old["id"]] and rule["held"] == [held["id"]]
    assert rule["cutoff"] == "2022-01-02"
    later = retention.run(lb.db, d, ADMIN, date(2029, 1, 1), dry_run=True)["rules"][0]
    assert sorted(later["removed"]) == sorted([old["id"], recent["id"]])  # the clock moved
    res = runner.invoke(app, ["retention", "run", "--as-of", "2025-01-01", "--db", url])
    assert res.exit_code == 0 and json.loads(res.output)["dry_run"] is False, res.output
    with lb.client() as admin:
        tickets = admin.get("/pull", params={"since": cursor}).json()["entities"]["ticket"]
        assert tickets["removed"] == [old["id"]]
        entries = admin.get("/audit", params={"action": "retention"}).json()
        assert [(e["record_id"], e["changes"]["rule"]) for e in entries] == [
            (old["id"], "closed-tickets")]
        assert admin.get("/audit/verify").json()["ok"] is True
    again = retention.run(lb.db, d, ADMIN, date(2025, 1, 1))["rules"][0]
    assert again["removed"] == []  # nothing left to remove

    customers = retention.Rule("old-customers", "customer", "created_at", 1)
    with lb.db.write() as conn:
        retention.set_rule(lb.db, d, conn, ADMIN, customers)
    kept = retention.run(lb.db, d, ADMIN, date(2100, 1, 1), dry_run=True)["rules"]
    assert {r["rule"]: r["referenced"] for r in kept}["old-customers"] == [cust["id"]]
