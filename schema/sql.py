"""SQLAlchemy tables derived from the dictionary: one table per entity, plus system columns."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeEngine

from schema.dictionary import Dictionary
from schema.names import name_key
from schema.types import SCOPE_FIELDS, Entity, Field, FieldType

TABLE_PREFIX = "crm_"


def table_name(entity_code: str) -> str:
    return f"{TABLE_PREFIX}{entity_code}"


def column_type(f: Field) -> TypeEngine[Any]:
    """The SQL type that stores a canonical value of ``f``."""
    t = f.type
    if t is FieldType.TEXT:
        return Text() if (f.max_length or 0) > 500 else String(f.max_length or 500)
    if t is FieldType.INTEGER:
        return Integer()
    if t is FieldType.MONEY:
        return Numeric(18, 2, asdecimal=False)
    if t is FieldType.DATE:
        return Date()
    if t is FieldType.DATETIME:
        return DateTime(timezone=True)
    if t is FieldType.BOOLEAN:
        return Boolean()
    if t is FieldType.REFERENCE:
        return String(36)
    sizes = {FieldType.ENUM: 64, FieldType.MULTI_ENUM: 500, FieldType.EMAIL: 254,
             FieldType.PHONE: 48, FieldType.URL: 500, FieldType.USCC: 18}
    return String(sizes[t])


RECORD_COLUMNS = ("id", "version", "created_by", "created_at", "updated_by", "updated_at",
                  "deleted", "change_seq")  # every entity table's first columns, in order

# The matching key (``schema.names.name_key``) of a record's display name, stored and
# indexed on every entity that references point at, so a name typed in any width, case or
# bracket style finds its record by one indexed lookup.
NAME_KEY = "name_key"


def named_entities(dictionary: Dictionary) -> frozenset[str]:
    """Codes of the entities some reference field points at: the ones with a ``NAME_KEY``."""
    return frozenset(f.ref for e in dictionary for f in e.fields
                     if f.type is FieldType.REFERENCE and f.ref is not None)


@lru_cache(maxsize=65_536)
def display_key(value: object) -> str | None:
    """The ``NAME_KEY`` stored for a display value (None for a blank); remembered, since a
    push looks up, warns on and writes the same names."""
    if value is None:
        return None
    return name_key(str(value)) or None


def entity_table(metadata: MetaData, entity: Entity, named: bool = False) -> Table:
    """Declare ``entity``'s table on ``metadata`` (system columns first, then the fields,
    then the ``NAME_KEY`` when references point at ``entity``: ``named``)."""
    name = table_name(entity.code)
    cols: list[Column[Any]] = [  # RECORD_COLUMNS
        Column("id", String(36), primary_key=True),
        Column("version", Integer, nullable=False),
        Column("created_by", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_by", String(64), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("deleted", Boolean, nullable=False, server_default=text("false")),
        Column("change_seq", BigInteger, nullable=False, index=True),
    ]
    for f in entity.fields:
        if f.type is FieldType.REFERENCE:
            assert f.ref is not None
            cols.append(Column(f.code, String(36), ForeignKey(f"{table_name(f.ref)}.id"),
                               index=True))
        else:
            cols.append(Column(f.code, column_type(f), info={"personal": f.personal}))
    if named:
        cols.append(Column(NAME_KEY, Text(), index=True))
    table = Table(name, metadata, *cols)
    for f in entity.fields:
        if f.unique:
            Index(f"uq_{name}_{f.code}", table.c[f.code], unique=True,
                  sqlite_where=text("deleted = 0"), postgresql_where=text("deleted = false"))
    for scope_col in SCOPE_FIELDS:
        if scope_col in table.c and scope_col != "shared":  # a yes/no column needs none
            Index(f"ix_{name}_{scope_col}", table.c[scope_col])
    return table


def build_metadata(dictionary: Dictionary, metadata: MetaData | None = None) -> MetaData:
    """All entity tables of ``dictionary`` on ``metadata`` (a new one by default)."""
    md = metadata if metadata is not None else MetaData()
    named = named_entities(dictionary)
    for entity in dictionary:
        entity_table(md, entity, entity.code in named)
    return md
