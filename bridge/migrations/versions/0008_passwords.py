"""Password sign-in: ``sys_password`` (argon2id hashes) and ``sys_signin_failure`` (failed
sign-ins counted per user name and client address, ``bridge.throttle``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.tables import signin_tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("sys_password", "sys_signin_failure")


def upgrade() -> None:
    md = sa.MetaData()
    sa.Table("sys_user", md, sa.Column("username", sa.String(64), primary_key=True))
    signin_tables(md)
    # 0001 builds from the current declarations: a fresh database has them already
    for name in TABLES:
        md.tables[name].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
