"""Privacy fixtures: a bridge (or a database) with its own audit key and checkpoint file,
and a scan of every stored value."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bridge.db import Database
from bridge.settings import Settings
from tests.conftest import LiveBridge, make_settings, start_bridge


def own_key(settings: Settings, tmp_path: Path) -> Settings:
    settings.audit_key_file = str(tmp_path / "audit.key")
    settings.audit_checkpoint_file = str(tmp_path / "checkpoints.jsonl")
    return settings


@pytest.fixture
def keyed(settings: Settings, tmp_path: Path) -> Settings:
    """This test's database (each backend) with its own key file and checkpoints."""
    return own_key(settings, tmp_path)


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[LiveBridge]:
    """A live bridge on SQLite with its own audit key."""
    with start_bridge(own_key(make_settings("sqlite", tmp_path), tmp_path)) as lb:
        yield lb


def stored_text(db: Database) -> str:
    """Every value of every column of every table the database holds (the audit trail's
    JSON included), as one text: what someone reading the database sees."""
    parts: list[str] = []
    schema = db.settings.database_schema if db.settings else None
    names = sa.inspect(db.engine).get_table_names(schema=schema or None)
    assert "sys_audit" in names and "crm_contact" in names
    with db.engine.connect() as conn:
        for name in names:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema or None)
            for row in conn.execute(sa.select(table)):
                parts += [str(v) for v in row]
    return "\n".join(parts)


def leaked(text: str, values: Iterable[str]) -> list[str]:
    """The values found in ``text``, as written or as JSON's ASCII escapes."""
    import json

    return [v for v in values if v in text or json.dumps(v)[1:-1] in text]
