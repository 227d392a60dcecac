"""Building blocks of the data dictionary: field types, enum values, fields and entities.

Everything else (validation, SQL tables, wire models, workbook layout) is derived from
instances of these classes; nothing outside ``schema/dictionary.py`` names a business field.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from schema.errors import Lang


class FieldType(StrEnum):
    """The value kinds a dictionary field can hold."""

    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    MULTI_ENUM = "multi_enum"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    USCC = "uscc"
    REFERENCE = "reference"
    BOOLEAN = "boolean"


class Access(StrEnum):
    """What a role may do with one field."""

    HIDDEN = "hidden"
    READ = "read"
    WRITE = "write"


class Scope(StrEnum):
    """Which rows of an entity a role reaches."""

    NONE = "none"
    OWN = "own"  # rows the user owns, plus rows of their team marked shared
    TEAM = "team"
    REGION = "region"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class EnumValue:
    """One allowed value of an enum: a stable code and its two labels."""

    code: str
    zh: str
    en: str

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, slots=True)
class EnumType:
    """A named, ordered vocabulary shared by fields (stage, region, tier...)."""

    code: str
    zh: str
    en: str
    values: tuple[EnumValue, ...]
    _lookup: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        out: dict[str, str] = {}
        for v in self.values:
            for spelling in (v.code, v.zh, v.en):  # folded as the parser folds a cell
                out[unicodedata.normalize("NFKC", spelling).strip().casefold()] = v.code
        object.__setattr__(self, "_lookup", out)

    def codes(self) -> list[str]:
        return [v.code for v in self.values]

    def lookup(self) -> dict[str, str]:
        """Map every accepted spelling (code, zh label, en label, case-folded) to its code."""
        return self._lookup

    def value(self, code: str) -> EnumValue:
        for v in self.values:
            if v.code == code:
                return v
        raise KeyError(code)


@dataclass(frozen=True, slots=True)
class Field:
    """One business field of an entity."""

    code: str
    type: FieldType
    zh: str
    en: str
    required: bool = False
    unique: bool = False
    enum: EnumType | None = None
    ref: str | None = None  # entity code a REFERENCE points to
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    hint_zh: str = ""
    hint_en: str = ""
    # role code -> access, overriding the role's default for this entity
    access: dict[str, Access] = field(default_factory=dict, hash=False, compare=False)
    custom: bool = False  # admin-defined at run time
    # a natural person's data (PIPL, GDPR): sealed per subject in the audit trail, erasable
    personal: bool = False

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def __post_init__(self) -> None:
        if self.type in (FieldType.ENUM, FieldType.MULTI_ENUM) and self.enum is None:
            raise ValueError(f"field {self.code}: enum type needs an enum")
        if self.type is FieldType.REFERENCE and not self.ref:
            raise ValueError(f"field {self.code}: reference needs a target entity")


@dataclass(slots=True)
class Entity:
    """A record kind: one SQL table, one sheet, one pandera schema."""

    code: str
    zh: str
    en: str
    module: str  # customers | opportunities | interactions | tags
    fields: list[Field]
    display_field: str = "name"  # the field references resolve by (name, not id)
    parent: str | None = None  # the reference field that scopes a child to its parent

    def label(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def field(self, code: str) -> Field:
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(f"{self.code}.{code}")

    def has_field(self, code: str) -> bool:
        return any(f.code == code for f in self.fields)

    def field_codes(self) -> list[str]:
        return [f.code for f in self.fields]


# The row-permission fields every entity carries (owner, team, region, sharing), named once.
SCOPE_FIELDS: tuple[str, ...] = ("owner", "team", "region", "shared")

# System columns every record carries (not business fields; not editable in sheets).
SYSTEM_COLUMNS: tuple[str, ...] = (
    "id",
    "version",
    *SCOPE_FIELDS,
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "deleted",
    "change_seq",
)

# System columns a pull returns beside the business fields.
PULLED_SYSTEM_COLUMNS: tuple[str, ...] = ("id", "version", *SCOPE_FIELDS)
