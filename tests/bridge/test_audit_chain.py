"""The keyed audit chain on both backends: tail truncation (1 and N entries), a chain
re-hashed after an edit by someone without the key, gaps, forged checkpoints, a missing
key, unkeyed entries from before migration 0003, and periodic checkpoints."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from bridge import audit
from bridge.audit.chain import CONTENT, keyed_digest, legacy_digest
from bridge.audit.keys import AuditKey
from bridge.auth import as_utc, now
from bridge.cli import app
from bridge.db import Database
from bridge.settings import Settings

runner = CliRunner()


@pytest.fixture
def keyed(settings: Settings, tmp_path: Path) -> Settings:
    """This test's own key file and checkpoint file (made on first use)."""
    settings.audit_key_file = str(tmp_path / "audit.key")
    settings.audit_checkpoint_file = str(tmp_path / "checkpoints.jsonl")
    return settings


def write_entries(db: Database, n: int, per_tx: int = 4) -> audit.Head:
    """``n`` update entries, ``per_tx`` per transaction; returns the last head."""
    head = audit.Head(0, audit.GENESIS)
    for start in range(0, n, per_tx):
        with db.write() as conn:
            head = audit.append(db, conn, [
                audit.Entry("amy", "update", "customer", f"c{i}",
                            {"notes": [f"旧{i}", f"新{i}"]}, f"push-{start}", start + 1)
                for i in range(start, min(n, start + per_tx))])
    return head


def cli(settings: Settings, *args: str, key_file: str | None = None) -> Result:
    env = {"CRM_DATABASE_URL": settings.database_url,
           "CRM_DATABASE_SCHEMA": settings.database_schema or "",
           "CRM_AUDIT_KEY": "",
           "CRM_AUDIT_KEY_FILE": key_file or settings.audit_key_file,
           "CRM_AUDIT_CHECKPOINT_FILE": settings.audit_checkpoint_file}
    return runner.invoke(app, ["audit", *args], env=env)


def run_sql(db: Database, sql: str, **params: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def rehash_from(db: Database, seq: int, digest: Callable[[str, Any], str],
                edit: Callable[[dict[str, Any]], None], key_id: str | None = "keep") -> None:
    """What a database writer does to hide an edit: change the entry at ``seq``, then
    recompute every hash from there on with ``digest(prev, row)`` and relink."""
    t = db.table("sys_audit")
    with db.engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c.id))]
        prev = audit.GENESIS
        for r in rows:
            if r["seq"] >= seq:
                if r["seq"] == seq:
                    edit(r)
                if key_id != "keep":
                    r["key_id"] = key_id
                r["prev_hash"], r["hash"] = prev, digest(prev, r)
                conn.execute(t.update().where(t.c.id == r["id"]).values(
                    changes=r["changes"], key_id=r["key_id"], prev_hash=r["prev_hash"],
                    hash=r["hash"]))
            prev = r["hash"]


def _content(r: dict[str, Any]) -> tuple[str, list[Any]]:
    return as_utc(r["at"]).isoformat(), [r[c] for c in CONTENT]


def _edit(r: dict[str, Any]) -> None:
    r["changes"] = r["changes"].replace("新", "假")


def test_intact_chain_verifies_and_push_heads_match(db: Database, keyed: Settings) -> None:
    head = write_entries(db, 10)
    assert head.seq == 10
    with db.read() as conn:
        assert audit.head(db, conn) == head
        r = audit.verify(db, conn)
    assert r.ok and r.status == "intact" and r.entries == 10 and r.keyed == 10
    assert Path(keyed.audit_key_file).stat().st_mode & 0o777 == 0o600
    assert cli(keyed, "checkpoint").exit_code == 0
    ok = cli(keyed, "verify", "--head", f"{head.seq}:{head.hash}")
    assert ok.exit_code == 0 and "intact" in ok.stdout and "2 checkpoint" in ok.stdout


@pytest.mark.parametrize("cut", [1, 5])
def test_tail_truncation_is_detected(db: Database, keyed: Settings, cut: int) -> None:
    head = write_entries(db, 12)
    assert cli(keyed, "checkpoint").exit_code == 0
    run_sql(db, "DELETE FROM sys_audit WHERE seq > :n", n=12 - cut)
    with db.read() as conn:
        assert audit.verify(db, conn).ok  # the table alone cannot tell: the anchors do
    for args in (["verify"], ["verify", "--head", f"12:{head.hash}"]):
        r = cli(keyed, *args)
        assert r.exit_code == 1, r.output
        assert f"{cut} entries missing after seq {12 - cut}" in " ".join(r.output.split())


def test_a_chain_rehashed_after_an_edit_without_the_key_is_caught(db: Database,
                                                                  keyed: Settings) -> None:
    write_entries(db, 8)
    real = audit.keys.load(keyed)
    assert real is not None
    guess = AuditKey(b"an attacker's own key of 32 chars or more")
    forger = _as_id(guess, real.id)
    rehash_from(db, 3, lambda prev, r: keyed_digest(forger, prev, r["seq"], *_content(r)),
                _edit)
    r = cli(keyed, "verify")
    out = " ".join(r.output.split())
    assert r.exit_code == 1 and "rewritten" in out and "seq 3" in out and "HMAC" in out, out


def _as_id(key: AuditKey, key_id: str) -> AuditKey:
    """``key`` claiming another key's id (the id is public: it is stored in every entry)."""
    fake = AuditKey(key.secret)
    object.__setattr__(fake, "id", key_id)
    return fake


def test_a_chain_rewritten_as_unkeyed_is_not_accepted(db: Database, keyed: Settings) -> None:
    write_entries(db, 6)
    rehash_from(db, 4, lambda prev, r: legacy_digest(prev, *_content(r)), _edit, key_id=None)
    r = cli(keyed, "verify")
    assert r.exit_code == 1 and "unkeyed entry after keyed" in " ".join(r.output.split())
    rehash_from(db, 1, lambda prev, r: legacy_digest(prev, *_content(r)), lambda r: None,
                key_id=None)  # all of it unkeyed: nothing vouches for it
    r = cli(keyed, "verify")
    assert r.exit_code == 3 and "cannot check authenticity" in " ".join(r.output.split())


def test_a_rewrite_with_the_key_is_caught_by_checkpoints_only(db: Database,
                                                              keyed: Settings) -> None:
    write_entries(db, 4)
    assert cli(keyed, "checkpoint").exit_code == 0  # seq 4
    write_entries(db, 4)
    assert cli(keyed, "checkpoint").exit_code == 0  # seq 8
    key = audit.keys.load(keyed)
    assert key is not None
    rehash_from(db, 6, lambda prev, r: keyed_digest(key, prev, r["seq"], *_content(r)), _edit)
    with db.read() as conn:
        assert audit.verify(db, conn).ok  # key holder: every HMAC is valid again
    r = cli(keyed, "verify")
    out = " ".join(r.output.split())
    assert r.exit_code == 1 and "rewritten at or before seq 8, after seq 4" in out, out


def test_gaps_forged_checkpoints_and_a_missing_key(db: Database, keyed: Settings,
                                                   tmp_path: Path) -> None:
    write_entries(db, 9)
    assert cli(keyed, "checkpoint").exit_code == 0
    none = cli(keyed, "verify", key_file=str(tmp_path / "absent.key"))
    assert none.exit_code == 3 and "cannot check authenticity" in " ".join(none.output.split())
    assert not (tmp_path / "absent.key").exists()  # verifying never makes a key
    forged = tmp_path / "forged.jsonl"
    line = Path(keyed.audit_checkpoint_file).read_text().replace('"seq":9', '"seq":20')
    forged.write_text(line)
    r = cli(keyed, "verify", "--checkpoints", str(forged))
    assert r.exit_code == 1 and "MAC" in r.output
    run_sql(db, "DELETE FROM sys_audit WHERE seq IN (4, 5)")
    r = cli(keyed, "verify")
    out = " ".join(r.output.split())
    assert r.exit_code == 1 and "2 entries missing after seq 3" in out, out


def test_unkeyed_entries_from_before_the_migration_are_anchored_by_the_first_keyed(
        db: Database, keyed: Settings) -> None:
    t = db.table("sys_audit")
    prev = audit.GENESIS
    with db.write() as conn:  # entries as the bridge wrote them before migration 0003
        for i in range(1, 4):
            row = {"at": now(), "username": "amy",
                   "action": "update", "entity": "customer", "record_id": f"old{i}",
                   "changes": f'{{"notes":[null,"v{i}"]}}', "push_key": "old",
                   "change_seq": i, "seq": i, "key_id": None, "prev_hash": prev}
            row["hash"] = prev = legacy_digest(prev, *_content(row))
            conn.execute(t.insert().values(**row))
    with db.read() as conn:
        assert audit.verify(db, conn).status == "unverified"  # nothing keyed vouches yet
    write_entries(db, 3)
    with db.read() as conn:
        r = audit.verify(db, conn)
    assert r.ok and (r.unkeyed, r.keyed, r.head.seq if r.head else 0) == (3, 3, 6)
    run_sql(db, "UPDATE sys_audit SET changes = :c WHERE seq = 2", c='{"notes":[null,"x"]}')
    with db.read() as conn:
        assert audit.verify(db, conn).status == "rewritten"


def test_periodic_checkpoints(db: Database, keyed: Settings) -> None:
    keyed.audit_checkpoint_every = 5
    write_entries(db, 23, per_tx=3)
    lines = Path(keyed.audit_checkpoint_file).read_text().splitlines()
    seqs = [int(x.split('"seq":')[1].split(",")[0]) for x in lines]
    assert seqs and seqs == sorted(seqs) and all(s % 3 == 0 for s in seqs)  # committed heads
    assert len(seqs) >= 3
    assert cli(keyed, "verify").exit_code == 0
    run_sql(db, "DELETE FROM sys_audit WHERE seq > 2")
    assert cli(keyed, "verify").exit_code == 1


def test_hmac_is_the_documented_construction(keyed: Settings) -> None:
    key = audit.keys.load(keyed, create=True)
    assert key is not None
    want = hmac.new(key.secret, b"v1|" + audit.GENESIS.encode() + b'|[1,"' + key.id.encode()
                    + b'","t",1,2,3,4,5,6,7]', hashlib.sha256).hexdigest()
    assert keyed_digest(key, audit.GENESIS, 1, "t", [1, 2, 3, 4, 5, 6, 7]) == want


def test_init_makes_the_key_file_once_with_mode_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "audit.key"
    env = {"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CRM_AUDIT_KEY": "",
           "CRM_AUDIT_KEY_FILE": str(key_file)}
    first = runner.invoke(app, ["init"], env=env)
    assert first.exit_code == 0 and "audit key" in first.stdout
    secret = key_file.read_text()
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(secret.strip()) == 64
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    assert key_file.read_text() == secret  # never replaced
    short = runner.invoke(app, ["init"], env={**env, "CRM_AUDIT_KEY": "too short"})
    assert short.exit_code == 1 and "32" in short.output


def test_migration_0003_keeps_an_old_chain_verifying(db: Database, keyed: Settings) -> None:
    """A database as 0002 left it (no seq, no key_id, no key table), with unkeyed entries
    whose ids have gaps (PostgreSQL sequences skip on rollback), brought to 0003."""
    from bridge.db import migrate

    t, prev = db.table("sys_audit"), audit.GENESIS
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_sys_audit_seq"))
        conn.execute(sa.text("ALTER TABLE sys_audit DROP COLUMN seq"))
        conn.execute(sa.text("ALTER TABLE sys_audit DROP COLUMN key_id"))
        conn.execute(sa.text("DROP TABLE sys_audit_subject_key"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
        for i in (1, 2, 5, 9):
            row = {"id": i, "at": now(), "username": "amy", "action": "update",
                   "entity": "customer", "record_id": f"old{i}",
                   "changes": f'{{"notes":[null,"v{i}"]}}', "push_key": "old",
                   "change_seq": i, "prev_hash": prev}
            row["hash"] = prev = legacy_digest(prev, *_content(row))
            conn.execute(sa.text("INSERT INTO sys_audit (id, at, username, action, entity, "
                                 "record_id, changes, push_key, change_seq, prev_hash, hash) "
                                 "VALUES (:id, :at, :username, :action, :entity, :record_id, "
                                 ":changes, :push_key, :change_seq, :prev_hash, :hash)"), row)
        if db.dialect == "postgresql":  # explicit ids leave the id sequence behind
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('sys_audit', 'id'), 9)"))
    migrate(db)
    with db.read() as conn:
        seqs = conn.execute(sa.select(t.c.seq).order_by(t.c.id)).scalars().all()
        assert seqs == [1, 2, 3, 4]
        assert audit.verify(db, conn).status == "unverified"  # nothing keyed vouches yet
    head = write_entries(db, 2)
    with db.read() as conn:
        r = audit.verify(db, conn)
    assert r.ok and (r.unkeyed, r.keyed, head.seq) == (4, 2, 6)
