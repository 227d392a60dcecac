"""Privacy: ``sys_legal_hold`` (holds that block erasure and retention) and
``sys_retention_rule`` (per-entity retention rules), ``bridge.privacy``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.tables import privacy_tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("sys_legal_hold", "sys_retention_rule")


def upgrade() -> None:
    md = sa.MetaData()
    privacy_tables(md)
    # 0001 builds from the current declarations: a fresh database has them already
    for name in TABLES:
        md.tables[name].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
