"""The bridge's own tables (users, tokens, passwords and failed sign-ins, change counter,
idempotency, audit, stage history, match keys and staged imports).

Entity tables come from the dictionary (``schema.sql``); these are declared beside them on
the same ``MetaData``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from schema.dictionary import Dictionary
from schema.sql import build_metadata


def system_tables(md: MetaData) -> None:
    Table(
        "sys_user", md,
        Column("username", String(64), primary_key=True),
        Column("display_name", String(200), nullable=False),
        Column("role", String(32), nullable=False),
        Column("team", String(64)),
        Column("region", String(64)),
        Column("active", Boolean, nullable=False, default=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "sys_token", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("username", String(64), ForeignKey("sys_user.username"), nullable=False),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("label", String(200)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True)),
    )
    # one row, 'change_seq': every push takes it first, which serialises writers, so the
    # cursor order is the commit order and the audit chain has one tail.
    Table(
        "sys_counter", md,
        Column("name", String(32), primary_key=True),
        Column("value", BigInteger, nullable=False),
    )
    Table(
        "sys_idempotency", md,
        Column("username", String(64), primary_key=True),
        Column("key", String(128), primary_key=True),
        Column("body_hash", String(64), nullable=False),
        Column("response", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )
    Table(
        "sys_audit", md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("username", String(64), nullable=False),
        Column("action", String(16), nullable=False),  # insert|update|delete|pull|...
        Column("entity", String(64)),
        Column("record_id", String(36)),
        Column("changes", Text),  # JSON {field: [old, new]} or pull details
        Column("push_key", String(128)),
        Column("change_seq", BigInteger),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Column("seq", BigInteger),  # position in the chain: 1, 2, 3... (bridge.audit)
        Column("key_id", String(16)),  # which HMAC key signed it; NULL: unkeyed (before 0003)
        Index("ix_sys_audit_record", "entity", "record_id"),
        Index("ix_sys_audit_push", "push_key"),
        Index("ix_sys_audit_seq", "seq", unique=True),
    )
    # per-subject keys of personal values in audit entries; erasure destroys the key
    Table(
        "sys_audit_subject_key", md,
        Column("subject", String(128), primary_key=True),  # "<entity>:<record id>"
        Column("wrapped_key", Text),  # NULL once destroyed
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("destroyed_at", DateTime(timezone=True)),
    )
    Table(
        "sys_stage_history", md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("opportunity_id", String(36), nullable=False, index=True),
        Column("stage", String(64), nullable=False),
        Column("entered_at", DateTime(timezone=True), nullable=False),
        Column("change_seq", BigInteger, nullable=False),
    )
    # admin tag rules (bridge.reports.rules): JSON condition over RFM metrics -> target value
    Table(
        "sys_tag_rule", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("label_zh", String(100), nullable=False),
        Column("label_en", String(100), nullable=False),
        Column("condition", Text, nullable=False),
        Column("target", String(64), nullable=False),
        Column("value", String(100), nullable=False),
        Column("priority", Integer, nullable=False, default=0),
        Column("active", Boolean, nullable=False, default=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("updated_by", String(64), nullable=False),
    )


def signin_tables(md: MetaData) -> None:
    """Password hashes and failed sign-ins (``bridge.passwords``, ``bridge.throttle``)."""
    # one argon2id hash per user who may sign in with a password; revoked_at: the admin
    # revoked the user's credentials (``crm-bridge user revoke``) until a new password is set
    Table(
        "sys_password", md,
        Column("username", String(64), ForeignKey("sys_user.username"), primary_key=True),
        Column("hash", String(255), nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True)),
    )
    # one row per failed (or still running) sign-in, per subject: the SHA-256 of the user
    # name or the client address, never the name itself (a password typed as a user name
    # must not be kept); counted over a window by every bridge process alike
    Table(
        "sys_signin_failure", md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("subject", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Index("ix_sys_signin_failure_subject", "subject", "at"),
    )


def import_tables(md: MetaData) -> None:
    """Match keys kept by the push engine, and staged imports (``bridge.imports``)."""
    # a record's blocking keys (schema.matching.blocking_keys): one row per key; the key
    # (entity, key, record_id) is the lookup's covering index, the other index finds a
    # record's keys to replace them
    Table(
        "sys_match_key", md,
        Column("entity", String(64), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("record_id", String(36), primary_key=True),
        Index("ix_sys_match_key_record", "entity", "record_id"),
    )
    # a record's parsed profile (bridge.matching.profiles), written beside its keys
    Table(
        "sys_match_profile", md,
        Column("entity", String(64), primary_key=True),
        Column("record_id", String(36), primary_key=True),
        Column("profile", Text, nullable=False),
    )
    Table(
        "sys_import", md,
        Column("id", String(36), primary_key=True),
        Column("entity", String(64), nullable=False),
        Column("file_name", String(255), nullable=False),
        Column("mapping_name", String(100)),
        Column("created_by", String(64), nullable=False, index=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("state", String(16), nullable=False),  # schema.wire_import.ImportState
        Column("history", Boolean, nullable=False, default=False),
        Column("rows", Integer, nullable=False, default=0),
        Column("counts", Text, nullable=False),  # JSON {decision: rows}
        Column("push_keys", Text, nullable=False),  # JSON [key, ...]
    )
    Table(
        "sys_import_row", md,
        Column("import_id", String(36), ForeignKey("sys_import.id"), primary_key=True),
        Column("source_row", Integer, primary_key=True),
        Column("sheet", String(255)),
        Column("line", Integer),
        Column("values", Text, nullable=False),  # JSON {entity: {field: value}}
        Column("history", Text),  # JSON {entity: RowHistory}
        Column("decision", Text),  # JSON {"decision": RowDecision, "choice": RowChoice}
    )
    Table(
        "sys_import_mapping", md,
        Column("name", String(100), primary_key=True),
        Column("entity", String(64), nullable=False),
        Column("columns", Text, nullable=False),  # JSON {source label: "entity.field"}
        Column("updated_by", String(64), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


def full_metadata(dictionary: Dictionary) -> MetaData:
    """Entity tables plus system tables (a PostgreSQL schema is chosen by search_path)."""
    md = MetaData()
    build_metadata(dictionary, md)
    system_tables(md)
    signin_tables(md)
    import_tables(md)
    return md
