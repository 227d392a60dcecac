"""Tag rules (reports): the ``sys_tag_rule`` table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from bridge.tables import full_metadata
from schema.dictionary import build_dictionary

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 builds from the current declarations, so a fresh database may have it already
    full_metadata(build_dictionary()).tables["sys_tag_rule"].create(op.get_bind(),
                                                                    checkfirst=True)


def downgrade() -> None:
    op.drop_table("sys_tag_rule")
