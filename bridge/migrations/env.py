"""Alembic environment: runs on the connection handed over by ``bridge.db.migrate``."""

from __future__ import annotations

from alembic import context

from bridge.tables import full_metadata
from schema.dictionary import build_dictionary

config = context.config
target_metadata = full_metadata(build_dictionary())
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when run from the alembic command line
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url") or "").connect()
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
