"""Personal values in the audit trail: sealed per subject, readable for restore and undo
while the subject's key exists, unreadable after ``forget_subject`` with the chain still
verifying; push answers carry the chain head, and the add-in keeps it in ``_meta``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from bridge import audit
from bridge.db import Database
from bridge.settings import Settings
from tests.addin.conftest import fill, memory_keyring, new_workbook  # noqa: F401
from tests.bridge.helpers import body, insert, update
from tests.conftest import LiveBridge, start_bridge

PERSONAL = ("王小明", "13812345678", "xiaoming@example.cn", "wxm_2026")


@pytest.fixture
def keyed(settings: Settings, tmp_path: Path) -> Settings:
    """This test's own key file and checkpoint file."""
    settings.audit_key_file = str(tmp_path / "audit.key")
    settings.audit_checkpoint_file = str(tmp_path / "checkpoints.jsonl")
    return settings


@pytest.fixture
def keyed_bridge(keyed: Settings) -> Iterator[LiveBridge]:
    with start_bridge(keyed) as lb:
        yield lb


def audit_text(lb: LiveBridge) -> str:
    """Everything the audit tables hold, as one string (what a database reader sees)."""
    with lb.db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM sys_audit")).all()
        rows += conn.execute(sa.text("SELECT * FROM sys_audit_subject_key")).all()
    return repr(rows)


def test_sealed_values_restore_undo_and_erasure(keyed_bridge: LiveBridge) -> None:
    lb = keyed_bridge
    with lb.client() as admin:
        cust = insert("customer", name="隐私测试有限公司", region="east")
        contact = insert("contact", customer="隐私测试有限公司", name=PERSONAL[0],
                         mobile=PERSONAL[1], email=PERSONAL[2], wechat=PERSONAL[3],
                         title="采购经理")
        first = admin.post("/push", json=body(cust, contact)).json()
        assert first["counts"]["applied"] == 2
        b = body(update("contact", contact["id"], 1, {"name": "王大明", "title": "总监"},
                        {"name": PERSONAL[0], "title": "采购经理"}))
        second = admin.post("/push", json=b).json()
        assert second["counts"]["applied"] == 1
        with lb.db.read() as conn:
            assert second["audit_head"] == audit.head(lb.db, conn).wire()
        assert second["audit_head"]["seq"] == first["audit_head"]["seq"] + 1
        raw = audit_text(lb)
        assert not any(v in raw for v in (*PERSONAL, "王大明")), "personal values in clear"
        assert "采购经理" in raw and "隐私测试有限公司" in raw  # only personal fields sealed

        entries = admin.get("/audit", params={"record_id": contact["id"]}).json()
        assert entries[1]["changes"] == {"name": [PERSONAL[0], "王大明"],
                                         "title": ["采购经理", "总监"]}
        assert entries[0]["changes"]["email"] == [None, PERSONAL[2]]
        restored = admin.post("/audit/restore", json={"audit_id": entries[1]["id"],
                                                      "field": "name"}).json()
        assert restored["counts"]["applied"] == 1
        undo = admin.post("/audit/undo", json={"push_key": b["idempotency_key"]}).json()
        assert undo["results"][0]["status"] == "applied"  # title back; name already back
        row = admin.get("/pull").json()["entities"]["contact"]["data"]
        assert row["name"] == [PERSONAL[0]] and row["title"] == ["采购经理"]
        assert admin.get("/audit/verify").json()["ok"] is True

    with lb.db.write() as conn:
        assert audit.forget_subject(lb.db, conn, "contact", contact["id"], "admin")
    with lb.client() as admin:
        after = admin.get("/audit", params={"record_id": contact["id"]}).json()
        # insert, push b, restore of the name, undo of b (title only), the erasure itself
        assert [e.get("erased", False) for e in after] == [True, True, True, False, False]
        assert after[1]["changes"] == {"title": ["采购经理", "总监"]}
        assert after[-1]["action"] == "erase" and after[-1]["changes"] is None
        assert not any(PERSONAL[0] in str(e) for e in after)
        assert admin.get("/audit/verify").json()["ok"] is True
    with lb.db.read() as conn:
        assert audit.verify(lb.db, conn).ok
    with lb.db.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT wrapped_key FROM sys_audit_subject_key WHERE "
                                    "subject = :s"), {"s": f"contact:{contact['id']}"}).scalar()
    assert left is None


@pytest.mark.usefixtures("memory_keyring")
def test_the_addin_keeps_the_last_audit_head(keyed_bridge: LiveBridge, tmp_path: Path) -> None:
    lb = keyed_bridge
    path = new_workbook(tmp_path / "a.xlsm")
    token = lb.make_user("alice", "sales", "t1", "east")
    assert commands.sign_in(OpenpyxlPort.open(path), lb.url, token).ok
    fill(path, "customer", [{"name": "锚点公司", "region": "华东"}])
    port = OpenpyxlPort.open(path)
    with commands.connect(port, token=token) as client:
        assert commands.push(port, client).ok
    kept = OpenpyxlPort.open(path).read_meta()["audit_head"]
    with lb.db.read() as conn:
        h = audit.head(lb.db, conn)
    assert kept == f"{h.seq}:{h.hash}"


_core = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=40)
# a marker no other stored text holds, so finding the value in the tables means it leaked
_text = st.builds(lambda core, mark: f"{mark}{core}{mark}", _core, st.sampled_from("姓微號"))


@examples(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subjects=st.lists(st.tuples(_text, _text), min_size=1, max_size=4),
       erase=st.lists(st.booleans(), min_size=4, max_size=4))
def test_erased_subjects_are_unreadable_and_the_chain_verifies(
        db: Database, keyed: Settings, subjects: list[tuple[str, str]],
        erase: list[bool]) -> None:
    ids = [str(uuid.uuid4()) for _ in subjects]
    with db.write() as conn:
        audit.append(db, conn, [
            audit.Entry("amy", "insert", "contact", rid, {"name": [None, name],
                                                          "wechat": [None, wx],
                                                          "title": [None, "经理"]}, "k", 1)
            for rid, (name, wx) in zip(ids, subjects, strict=True)])
        for rid, gone in zip(ids, erase, strict=False):
            if gone:
                audit.forget_subject(db, conn, "contact", rid, "admin")
    with db.read() as conn:
        assert audit.verify(db, conn).ok
        got = {e["record_id"]: e for e in audit.query(db, conn, action="insert",
                                                       limit=100_000)}
        raw = repr(conn.execute(sa.text("SELECT * FROM sys_audit")).all()) + repr(
            conn.execute(sa.text("SELECT * FROM sys_audit_subject_key")).all())
    for rid, (name, wx), gone in zip(ids, subjects, erase, strict=False):
        assert name not in raw and wx not in raw  # never in clear, erased or not
        e = got[rid]
        assert e["changes"]["title"] == [None, "经理"]
        if gone:
            assert e.get("erased") is True and "name" not in e["changes"]
        else:
            assert e["changes"]["name"] == [None, name] and e["changes"]["wechat"] == [None, wx]


def test_a_subject_written_again_after_erasure_gets_a_new_key(db: Database,
                                                              keyed: Settings) -> None:
    rid = str(uuid.uuid4())

    def entry(name: str) -> audit.Entry:
        return audit.Entry("amy", "update", "contact", rid, {"name": ["x", name]}, "k", 1)

    with db.write() as conn:
        audit.append(db, conn, [entry("旧名")])
        assert audit.forget_subject(db, conn, "contact", rid, "admin")
        assert not audit.forget_subject(db, conn, "contact", rid, "admin")  # nothing left
        audit.append(db, conn, [entry("新名")])
    with db.read() as conn:
        got = audit.query(db, conn, record_id=rid, action="update")
        assert audit.verify(db, conn).ok
    assert got[0].get("erased") is True and "name" not in got[0]["changes"]
    assert got[1]["changes"] == {"name": ["x", "新名"]} and "erased" not in got[1]
