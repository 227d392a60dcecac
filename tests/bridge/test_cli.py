"""The crm-bridge CLI on a real SQLite file: users, tokens, demo data, audit verification."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from bridge.cli import app

runner = CliRunner()


def test_user_lifecycle_demo_and_audit_tamper_detection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    r = runner.invoke(app, ["user", "add", "amy", "--role", "sales", "--team", "t1",
                            "--region", "east", "--db", url])
    assert r.exit_code == 0 and "crm_" in r.stdout
    again = runner.invoke(app, ["user", "add", "amy", "--role", "sales", "--db", url])
    assert again.exit_code == 1
    bad = runner.invoke(app, ["user", "add", "bob", "--role", "boss", "--db", url])
    assert bad.exit_code == 2
    assert "amy" in runner.invoke(app, ["user", "list", "--db", url]).stdout
    assert "revoked 1" in runner.invoke(app, ["user", "revoke", "amy", "--db", url]).stdout

    tokens = tmp_path / "tokens.json"
    demo_db = f"sqlite:///{tmp_path / 'demo.db'}"
    d = runner.invoke(app, ["demo", "--db", demo_db, "--customers", "40", "--tokens-file",
                            str(tokens)])
    assert d.exit_code == 0, d.output
    assert {"admin", "zhang.wei", "hu.fang"} <= set(json.loads(tokens.read_text()))
    applied = runner.invoke(app, ["rules", "apply", "--db", demo_db])  # no rules yet: no-op
    assert applied.exit_code == 0, applied.output
    ok = runner.invoke(app, ["audit", "verify", "--db", demo_db])
    assert ok.exit_code == 0 and "intact" in ok.stdout

    engine = sa.create_engine(demo_db)
    with engine.begin() as conn:  # tamper: rewrite one field value in an old entry
        conn.execute(sa.text("UPDATE sys_audit SET changes = replace(changes, '有限公司', "
                             "'无限公司') WHERE id = 3"))
    engine.dispose()
    broken = runner.invoke(app, ["audit", "verify", "--db", demo_db])
    assert broken.exit_code == 1 and "entry 3" in broken.output
