"""The wire contract between the add-in and the bridge (pydantic models, JSON over HTTP).

Field values travel as canonical JSON scalars (see ``schema.values``); which field codes
are allowed is checked against the live dictionary, never fixed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RowStatus = Literal["applied", "merged", "conflict", "rejected"]
RowOp = Literal["insert", "update", "delete"]
Scalar = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class RowChange(_Model):
    """One row of a push: insert (client-made UUID), update or delete."""

    op: RowOp
    entity: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=64)
    base_version: int | None = Field(default=None, ge=1)
    values: dict[str, Scalar] = Field(default_factory=dict)
    base: dict[str, Scalar] = Field(default_factory=dict)
    row: int | None = Field(default=None, description="the client's row number, echoed back")


class PushRequest(_Model):
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


class PushResponse(_Model):
    idempotency_key: str
    replayed: bool = False
    cursor: int
    counts: dict[str, int]
    results: list[RowResult]


class EntityPull(_Model):
    """Columnar rows of one entity: ``data[column][i]`` is row i's value."""

    columns: list[str]
    data: dict[str, list[Any]]
    removed: list[str] = Field(default_factory=list)


class PullResponse(_Model):
    cursor: int
    full: bool
    entities: dict[str, EntityPull]


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
