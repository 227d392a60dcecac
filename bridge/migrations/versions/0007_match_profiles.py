"""Stored match profiles (``sys_match_profile``, ``bridge.matching.profiles``): each matched
record's parsed signals beside its match keys, filled in batches for the live records.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.matching import profiles
from bridge.matching.keys import MATCHED, cached_profile, company_record
from bridge.tables import import_tables
from schema.sql import table_name

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 5_000
TABLE = "sys_match_profile"


def upgrade() -> None:
    bind = op.get_bind()
    md = sa.MetaData()
    import_tables(md)
    # 0001 builds from the current declarations: a fresh database has the table
    md.tables[TABLE].create(bind, checkfirst=True)
    for entity, parts in sorted(MATCHED.items()):
        _fill(bind, md.tables[TABLE], entity, sorted(set(parts.values())))


def _fill(bind: sa.Connection, table: sa.Table, entity: str, fields: list[str]) -> None:
    """Write the profile of every live record that has none, a batch at a time."""
    rec = sa.table(table_name(entity), sa.column("id"), sa.column("deleted"),
                   *(sa.column(f) for f in fields))
    has = sa.select(table.c.record_id).where(table.c.entity == entity,
                                             table.c.record_id == rec.c.id).exists()
    last = ""
    while True:
        rows = bind.execute(sa.select(rec.c.id, *(rec.c[f] for f in fields))
                            .where(rec.c.id > last, rec.c.deleted.is_(False), ~has)
                            .order_by(rec.c.id).limit(BATCH)).all()
        if not rows:
            return
        bind.execute(sa.insert(table), [
            {"entity": entity, "record_id": r[0], "profile": profiles.encode(cached_profile(
                company_record(entity, dict(zip(fields, r[1:], strict=True)))))}
            for r in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table(TABLE)
