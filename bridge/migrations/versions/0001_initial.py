"""Initial schema: entity tables derived from the dictionary, plus the system tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from bridge.tables import full_metadata
from schema.dictionary import build_dictionary

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    full_metadata(build_dictionary()).create_all(op.get_bind())


def downgrade() -> None:
    full_metadata(build_dictionary()).drop_all(op.get_bind())
