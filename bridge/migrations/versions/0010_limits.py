"""Rate limits and export control: ``sys_rate_window`` (requests per token and per client
address in fixed windows, ``bridge.limits``) and ``sys_pull`` (every pull, its rows and
whether it was refused or flagged, ``bridge.export``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.tables import limit_tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("sys_rate_window", "sys_pull")


def upgrade() -> None:
    md = sa.MetaData()
    limit_tables(md)
    # 0001 builds from the current declarations: a fresh database has them already
    for name in TABLES:
        md.tables[name].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
