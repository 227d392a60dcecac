"""Imports: match keys (``sys_match_key``) and staged imports (``sys_import``,
``sys_import_row``, ``sys_import_mapping``); the match keys of existing customers are
filled in batches.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.matching.keys import COLUMNS, MATCHED, match_keys
from bridge.tables import import_tables
from schema.sql import table_name

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 5_000
TABLES = ("sys_match_key", "sys_import", "sys_import_row", "sys_import_mapping")


def upgrade() -> None:
    bind = op.get_bind()
    md = sa.MetaData()
    import_tables(md)
    # 0001 builds from the current declarations: a fresh database has the tables
    md.create_all(bind, checkfirst=True)
    for entity, parts in sorted(MATCHED.items()):
        _fill(bind, md.tables["sys_match_key"], entity, sorted(set(parts.values())))


def _fill(bind: sa.Connection, keys: sa.Table, entity: str, fields: list[str]) -> None:
    """Write the keys of every live record that has none, a batch at a time."""
    rec = sa.table(table_name(entity), sa.column("id"), sa.column("deleted"),
                   *(sa.column(f) for f in fields))
    has_keys = sa.select(keys.c.record_id).where(keys.c.entity == entity,
                                                 keys.c.record_id == rec.c.id).exists()
    last = ""
    while True:
        rows = bind.execute(sa.select(rec.c.id, *(rec.c[f] for f in fields))
                            .where(rec.c.id > last, rec.c.deleted.is_(False), ~has_keys)
                            .order_by(rec.c.id).limit(BATCH)).all()
        if not rows:
            return
        found = [dict(zip(COLUMNS, (entity, r[0], k), strict=True)) for r in rows
                 for k in match_keys(entity, dict(zip(fields, r[1:], strict=True)))]
        if found:
            bind.execute(sa.insert(keys), found)
        last = rows[-1][0]


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
