"""Keyed audit chain: ``sys_audit.seq`` and ``key_id``, and ``sys_audit_subject_key``.

Existing entries keep their unkeyed SHA-256 hashes (``key_id`` NULL) and get their places
(``seq`` 1, 2, 3... in id order); the first keyed entry the bridge writes after this
migration signs the last of them, which anchors the unkeyed prefix (docs/sync.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.tables import full_metadata
from schema.dictionary import build_dictionary

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # 0001 builds from the current declarations, so a fresh database has all of this
    columns = {c["name"] for c in sa.inspect(bind).get_columns("sys_audit")}
    if "seq" not in columns:
        op.add_column("sys_audit", sa.Column("seq", sa.BigInteger()))
        op.add_column("sys_audit", sa.Column("key_id", sa.String(16)))
        op.execute("UPDATE sys_audit SET seq = s.n FROM (SELECT id, row_number() OVER "
                   "(ORDER BY id) AS n FROM sys_audit) AS s WHERE sys_audit.id = s.id")
        op.create_index("ix_sys_audit_seq", "sys_audit", ["seq"], unique=True)
    full_metadata(build_dictionary()).tables["sys_audit_subject_key"].create(bind,
                                                                           checkfirst=True)


def downgrade() -> None:
    op.drop_table("sys_audit_subject_key")
    with op.batch_alter_table("sys_audit") as audit:
        audit.drop_index("ix_sys_audit_seq")
        audit.drop_column("key_id")
        audit.drop_column("seq")
