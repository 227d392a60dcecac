"""Alembic brings a fresh database exactly to the tables the dictionary declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bridge.db import Database, create_schema


def test_migrated_database_matches_the_metadata(db: Database) -> None:
    create_schema(db)  # a second run is a no-op
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [d for d in diffs if d[0] in ("add_table", "remove_table", "add_column",
                                            "remove_column")] == []
        assert MigrationContext.configure(conn).get_current_revision() == "0005"
    assert "crm_customer" in inspect(db.engine).get_table_names()
