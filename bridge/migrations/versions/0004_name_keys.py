"""Name keys: a ``name_key`` column (indexed) on every entity references point at, filled
from each record's display name with ``schema.names.name_key``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.tables import full_metadata
from schema.dictionary import build_dictionary
from schema.sql import NAME_KEY, display_key, named_entities, table_name

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    bind = op.get_bind()
    dictionary = build_dictionary()
    tables = full_metadata(dictionary).tables
    for code in sorted(named_entities(dictionary)):
        table = tables[table_name(code)]
        present = {c["name"] for c in sa.inspect(bind).get_columns(table.name)}
        # 0001 builds from the current declarations: a fresh database has the column
        if NAME_KEY not in present:
            op.add_column(table.name, sa.Column(NAME_KEY, sa.Text(), nullable=True))
            op.create_index(f"ix_{table.name}_{NAME_KEY}", table.name, [NAME_KEY])
        _fill(bind, table, dictionary.entity(code).display_field)


def _fill(bind: sa.Connection, table: sa.Table, display: str) -> None:
    """Set the key of every record whose key is missing, a batch at a time."""
    update = table.update().where(table.c.id == sa.bindparam("rid")) \
        .values({NAME_KEY: sa.bindparam("key")})
    last = ""
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c[display])
                            .where(table.c[NAME_KEY].is_(None), table.c[display].is_not(None),
                                   table.c.id > last)
                            .order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(update, [{"rid": rid, "key": display_key(name)} for rid, name in rows])
        last = rows[-1][0]


def downgrade() -> None:
    dictionary = build_dictionary()
    for code in sorted(named_entities(dictionary)):
        name = table_name(code)
        with op.batch_alter_table(name) as batch:
            batch.drop_index(f"ix_{name}_{NAME_KEY}")
            batch.drop_column(NAME_KEY)
