"""The wire contract between the add-in and the bridge (pydantic models, JSON over HTTP).

Field values travel as canonical JSON scalars (see ``schema.values``); which field codes
are allowed is checked against the live dictionary, never fixed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from schema.limits import unstorable_char

RowStatus = Literal["applied", "merged", "conflict", "rejected"]
RowOp = Literal["insert", "update", "delete"]
Scalar = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def storable_text(value: Any) -> Any:
    """``value``, refused (naming the character and where it is) when it is text the store
    cannot hold: NUL, other control characters a workbook cannot hold, lone surrogates."""
    if type(value) is str and not (value.isascii() and value.isprintable()):
        bad = unstorable_char(value)
        if bad is not None:
            raise PydanticCustomError(
                "unstorable_text", "contains {char} at position {position}, a character "
                "that cannot be stored", {"char": bad[1], "position": bad[0] + 1})
    return value


class RequestModel(BaseModel):
    """A request body: unknown keys refused, JSON types taken as sent (``"1"`` is not an
    integer, ``"yes"`` is not a boolean) and no text the store cannot hold. Every request
    model derives from it; a field whose values a parser reads leniently (cells) says
    ``Field(strict=False)``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable_text(value)


class ErrorItem(_Model):
    """One problem, in both languages, with where it is."""

    code: str
    message_zh: str
    message_en: str
    entity: str | None = None
    row: int | None = None
    id: str | None = None
    field: str | None = None
    allowed: list[str] | None = None


class WarningItem(ErrorItem):
    """Advice on a row that was still applied (e.g. ``SIMILAR_RECORD``), with the message's
    parameters a client acts on (``match_id``: the record it may duplicate)."""

    params: dict[str, Scalar] = Field(default_factory=dict)


class ErrorResponse(_Model):
    error: ErrorItem
    errors: list[ErrorItem] = Field(default_factory=list)


class RowHistory(RequestModel):
    """What an admin's import of old records carries beyond the fields (insert only): when
    the record was created in the old system, and for an opportunity the day each stage was
    entered (``{"lead": "2021-03-02", "won": "2021-06-30"}``) or, without it, the day it was
    closed, from which its history is built. The store keeps these as given, so reports on
    the past are true."""

    created_at: str | None = Field(default=None, max_length=32)
    closed_at: str | None = Field(default=None, max_length=32)
    stages: dict[str, str] = Field(default_factory=dict, max_length=64)

    @field_validator("stages", mode="after")
    @classmethod
    def _storable_stages(cls, value: dict[str, str]) -> dict[str, str]:
        """Stage codes and days are echoed in messages: no text the store cannot hold."""
        for k, v in value.items():
            storable_text(k)
            storable_text(v)
        return value


class RowChange(RequestModel):
    """One row of a push: insert (client-made UUID), update or delete. Cell values are
    any JSON scalar: the field's parser reads them (and names the field when it cannot)."""

    op: RowOp
    entity: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=64)
    base_version: int | None = Field(default=None, ge=1, le=2**31 - 1)  # an INTEGER column
    values: dict[str, Scalar] = Field(default_factory=dict, strict=False)
    base: dict[str, Scalar] = Field(default_factory=dict, strict=False)
    row: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1,
                            description="the client's row number, echoed back")
    history: RowHistory | None = None  # admins' imports only (see RowHistory)


class PushRequest(RequestModel):
    idempotency_key: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
    template_version: str = Field(min_length=1, max_length=32)
    all_or_none: bool = False
    rows: list[RowChange]


class FieldConflict(_Model):
    field: str
    base: Scalar
    theirs: Scalar
    mine: Scalar


class RowResult(_Model):
    entity: str
    id: str
    row: int | None = None
    status: RowStatus
    version: int | None = None
    errors: list[ErrorItem] = Field(default_factory=list)
    warnings: list[WarningItem] = Field(
        default_factory=list, description="advice on an applied row (e.g. SIMILAR_RECORD)")
    conflicts: list[FieldConflict] = Field(default_factory=list)
    server: dict[str, Scalar] | None = Field(
        default=None, description="the server's copy of the row (visible fields, id, version): "
                                  "on conflict, and on an applied or merged insert or update "
                                  "whose stored values differ from what was sent")


class AuditHead(_Model):
    """The audit chain's newest entry after a push: keep it to check the chain later
    (``crm-bridge audit verify --head SEQ:HASH``)."""

    seq: int
    hash: str


class PushResponse(_Model):
    idempotency_key: str
    replayed: bool = False
    cursor: int
    counts: dict[str, int]
    results: list[RowResult]
    audit_head: AuditHead | None = None


class EntityPull(_Model):
    """Columnar rows of one entity: ``data[column][i]`` is row i's value."""

    columns: list[str]
    data: dict[str, list[Any]]
    removed: list[str] = Field(default_factory=list)


class PullResponse(_Model):
    cursor: int
    full: bool
    entities: dict[str, EntityPull]
    # the watermark (bridge.export): which logged pull this is, whose, when (ISO 8601 UTC);
    # None from a bridge before issue 19
    pull_id: str | None = None
    pulled_by: str | None = None
    pulled_at: str | None = None


class UserOut(_Model):
    username: str
    display_name: str
    role: str
    team: str | None
    region: str | None
    active: bool


class MeResponse(_Model):
    user: UserOut
    dictionary_version: str
    visible_fields: dict[str, list[str]]
    writable_fields: dict[str, list[str]]
