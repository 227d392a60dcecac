"""The wire contract of an import (issue 10): staged source rows, the dry run's decisions,
the user's review choices, confirm and undo.

An import is staged in the bridge (so any bridge process sharing the database can carry
it on): the client creates it, sends its mapped source rows in batches, asks for the dry
run, reads the decisions page by page, sends the choices of the review sheet, then confirms.
Nothing reaches the entity tables before confirm; confirm goes through the push engine
(validated, permission-checked, audited) and an admin can undo the import as a whole.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from schema.wire import ErrorItem, RequestModel, RowHistory, Scalar, WarningItem, _Model

ImportState = Literal["staged", "checked", "confirmed", "undone"]
Decision = Literal["new", "match", "duplicate", "branch", "uncertain", "invalid"]
Choice = Literal["merge", "new", "skip"]
# the dry run's phases, in order, with their labels (zh, en): ``ImportOut.progress``
DRY_RUN_PHASES: dict[str, tuple[str, str]] = {
    "validate": ("校验", "validating"),
    "match": ("文件内比对", "matching the file's rows"),
    "lookup": ("查找已有记录", "looking up existing records"),
    "decide": ("判定", "deciding"),
    "save": ("保存结果", "saving the decisions"),
}
# survivorship (the newest verified value wins): the mapping target ``<entity>.verified_on``
# carries the day a source row was last verified; why a value won, with its words (zh, en)
VERIFIED_ON = "verified_on"
Winner = Literal["incoming", "existing"]
SURVIVOR_REASONS: dict[str, tuple[str, str]] = {
    "incoming_newer": ("导入值较新（核实日期晚于已有值的最后修改）",
                       "incoming is newer (verified after the stored value last changed)"),
    "existing_newer": ("已有值较新（最后修改晚于导入值的核实日期）",
                       "stored is newer (changed after the incoming value was verified)"),
    "same_time": ("日期相同，无法判断哪个较新，请人工确认",
                  "same date on both sides: a person decides"),
    "no_incoming_date": ("导入行没有核实日期，请人工确认",
                         "the incoming row has no verified date: a person decides"),
    "no_existing_date": ("已有值没有修改日期，请人工确认",
                         "the stored value has no change date: a person decides"),
}
ROWS_PER_BATCH = 5_000  # source rows per ``ImportRows`` request (stays far under 5 MB)
DECISIONS_PER_PAGE = 5_000


class ImportCreate(RequestModel):
    """Start an import of ``entity`` rows (each may carry its related contact).
    ``history`` (admins only): the rows carry created-at, owner, stage history and close
    dates that the store keeps as given, so reports on the past are true."""

    entity: str = Field(min_length=1, max_length=64)
    file_name: str = Field(default="", max_length=255)
    mapping_name: str | None = Field(default=None, max_length=100)
    history: bool = False


class ImportRow(RequestModel):
    """One source row, mapped: ``values[entity][field]`` for the main entity and any
    related one (``{"customer": {...}, "contact": {...}}``). Cells are JSON scalars read by
    the field's parser, as in a push (dates as ISO text)."""

    source_row: int = Field(ge=1, le=2**31 - 1)  # unique in the import: 1, 2, 3... over all files
    sheet: str | None = Field(default=None, max_length=255)  # "file › sheet" as the user knows it
    line: int | None = Field(default=None, ge=1, le=2**31 - 1)  # the row number in that sheet
    values: dict[str, dict[str, Scalar]] = Field(strict=False)
    history: dict[str, RowHistory] = Field(default_factory=dict)  # per entity, history imports
    # when the row's values were last verified (a date or a date-time, ISO or as typed):
    # a newer one wins over a stored value changed before it (``FieldDifference.winner``)
    verified_on: str | None = Field(default=None, max_length=40)


class ImportRows(RequestModel):
    rows: list[ImportRow] = Field(max_length=ROWS_PER_BATCH)


class DryRunProgress(_Model):
    """How far a running dry run is: its phase (a key of ``DRY_RUN_PHASES``), and within
    it ``done`` of ``total`` steps (rows, or chunks of rows)."""

    phase: str
    step: int  # the phase's number, 1 .. len(DRY_RUN_PHASES)
    done: int = 0
    total: int = 0


class ImportOut(_Model):
    id: str
    entity: str
    file_name: str
    state: ImportState
    created_by: str
    created_at: str
    history: bool
    rows: int
    counts: dict[str, int] = Field(default_factory=dict)  # decision -> rows; after confirm
    push_keys: list[str] = Field(default_factory=list)     # the pushes confirm made
    progress: DryRunProgress | None = None  # while a dry run runs (``GET /imports/{id}``)


class FieldDifference(_Model):
    """Survivorship: an incoming value that differs from the stored one (both non-blank).

    ``winner`` (the newest verified value wins): ``incoming`` when the row's verified date
    is newer than the stored field's last change (``existing_changed``), ``existing`` when
    older; None (a tie, or a side without a date: ``why``) goes to the review sheet and
    the stored value stays unless the choice says ``keep``. ``why`` is a key of
    ``SURVIVOR_REASONS``; None is ``no_incoming_date``."""

    field: str
    entity: str
    existing: Scalar
    incoming: Scalar
    winner: Winner | None = None
    why: str | None = None
    incoming_verified: str | None = None  # the row's verified moment (ISO)
    existing_changed: str | None = None  # the stored field's last change (ISO, UTC)


class RowDecision(_Model):
    """What the dry run decided for one source row.

    - ``new``: no match; ``match``: the existing record ``record_id`` (``score``, ``reasons``
      such as ``same_uscc``, ``same_phone``, ``name_equal``); ``duplicate``: the same legal
      entity as source row ``duplicate_of`` (merged into it); ``branch``: a branch of the
      existing ``record_id`` or of source row ``parent_row`` (imported as its own customer
      with a parent link); ``uncertain``: maybe ``record_id`` (an existing record) or the
      company of source row ``uncertain_of`` (an earlier row of the file), a person decides;
      ``invalid``: ``errors`` name the field and the reason.
    - ``cluster``: shared by the rows that are one legal entity, existing records included
      (``r:<record id>`` for an existing record, ``s:<first source row>`` otherwise).
    """

    source_row: int
    sheet: str | None = None
    line: int | None = None
    decision: Decision
    cluster: str
    record_id: str | None = None
    record_name: str | None = None
    duplicate_of: int | None = None
    parent_row: int | None = None
    uncertain_of: int | None = None  # an in-file ``uncertain``: maybe that source row's company
    score: float | None = None
    reasons: list[str] = Field(default_factory=list)
    errors: list[ErrorItem] = Field(default_factory=list)
    warnings: list[WarningItem] = Field(default_factory=list)
    differences: list[FieldDifference] = Field(default_factory=list)


class DryRunOut(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    import_: ImportOut = Field(alias="import")
    counts: dict[str, int]  # decision -> rows


class DecisionPage(_Model):
    decisions: list[RowDecision]
    next_after: int | None  # pass as ``after`` for the next page; None: the last page


class RowChoice(RequestModel):
    """The user's decision from the review sheet: ``merge`` into ``record_id`` (an
    existing record), ``new`` (keep apart) or ``skip`` (leave the row out). For a field
    difference, ``keep`` lists the fields whose incoming value wins, ``keep_existing`` the
    fields whose incoming value does not win however newly it was verified."""

    source_row: int = Field(ge=1, le=2**31 - 1)
    choice: Choice
    record_id: str | None = Field(default=None, max_length=64)
    keep: list[str] = Field(default_factory=list, max_length=200)
    keep_existing: list[str] = Field(default_factory=list, max_length=200)


class ImportChoices(RequestModel):
    choices: list[RowChoice] = Field(max_length=ROWS_PER_BATCH)


class ConfirmOut(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    import_: ImportOut = Field(alias="import")
    counts: dict[str, int]  # applied / merged / rejected / skipped
    errors: list[ErrorItem] = Field(default_factory=list)


class ConfirmIn(RequestModel):
    """How confirm treats an ``uncertain`` row the review left without a choice: kept apart
    as a new record (``new``, the default) or left out (``skip``)."""

    uncertain: Literal["new", "skip"] = "new"


class ImportMapping(RequestModel):
    """A saved column mapping, shared by the team (``addin.importing.source.Mapping``'s
    JSON): source column label -> ``entity.field`` (or the ignored marker)."""

    entity: str = Field(min_length=1, max_length=64)
    columns: dict[str, str] = Field(default_factory=dict, max_length=500)
    name: str | None = Field(default=None, max_length=100)


class ImportMappingOut(_Model):
    entity: str
    columns: dict[str, str]
    name: str
    updated_by: str
    updated_at: str
