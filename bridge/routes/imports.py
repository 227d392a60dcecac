"""Imports (issue 10): stage source rows, dry run against the existing records, read the
decisions, record the review's choices, confirm through the push engine, undo; and the
team's saved column mappings. The bodies are ``schema.wire_import``'s models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from bridge.imports import confirm as confirming
from bridge.imports import dryrun, review, store
from bridge.routes.body import JsonRoute
from bridge.routes.deps import DB, STORABLE, AdminUser, CurrentUser, Dict
from bridge.routes.responses import AUTH, BODY, INPUT, errors
from schema.errors import ErrorCode
from schema.wire_import import (
    DECISIONS_PER_PAGE,
    ConfirmIn,
    ConfirmOut,
    DecisionPage,
    DryRunOut,
    ImportChoices,
    ImportCreate,
    ImportMapping,
    ImportMappingOut,
    ImportOut,
    ImportRows,
)

router = APIRouter(tags=["imports"], route_class=JsonRoute)
ImportId = Annotated[str, Path(min_length=1, max_length=36), STORABLE]
MappingName = Annotated[str, Path(min_length=1, max_length=100), STORABLE]
FOUND = (ErrorCode.IMPORT_NOT_FOUND,)


@router.post("/imports", response_model=ImportOut, status_code=201, responses=errors(
    *AUTH, *BODY, ErrorCode.IMPORT_ENTITY_UNSUPPORTED, ErrorCode.IMPORT_HISTORY_FOR_ADMINS))
def create_import(body: ImportCreate, user: CurrentUser, db: DB, dictionary: Dict) -> ImportOut:
    """Start an import; ``history`` (created-at, owner, stage history kept as given) is for
    admins."""
    return store.create(db, dictionary, user, body)


@router.get("/imports", response_model=list[ImportOut], responses=errors(*AUTH))
def list_imports(user: CurrentUser, db: DB) -> list[ImportOut]:
    """The caller's imports, newest first (an admin's: everyone's)."""
    return store.listing(db, user)


@router.get("/imports/{import_id}", response_model=ImportOut,
            responses=errors(*AUTH, *INPUT, *FOUND))
def get_import(import_id: ImportId, user: CurrentUser, db: DB) -> ImportOut:
    with db.read() as conn:
        return store.out(store.fetch(conn, db, user, import_id))


@router.post("/imports/{import_id}/rows", response_model=ImportOut, responses=errors(
    *AUTH, *BODY, *FOUND, ErrorCode.IMPORT_NOT_STAGED, ErrorCode.IMPORT_ROW_REPEATED,
    ErrorCode.IMPORT_TOO_MANY_ROWS, ErrorCode.IMPORT_ENTITY_UNSUPPORTED,
    ErrorCode.IMPORT_ROW_OVERSIZED))
def add_rows(import_id: ImportId, body: ImportRows, user: CurrentUser, db: DB) -> ImportOut:
    """Append a batch of mapped source rows (before the dry run)."""
    return store.add_rows(db, user, import_id, body.rows)


@router.post("/imports/{import_id}/dry-run", response_model=DryRunOut, responses=errors(
    *AUTH, *INPUT, *FOUND, ErrorCode.IMPORT_NOT_STAGED, ErrorCode.IMPORT_ROWS_CHANGING))
def dry_run(import_id: ImportId, user: CurrentUser, db: DB, dictionary: Dict) -> DryRunOut:
    """Decide every row (new, match, duplicate, branch, uncertain, invalid) and store the
    decisions; nothing is written to the records."""
    return dryrun.run(db, dictionary, user, import_id)


@router.get("/imports/{import_id}/decisions", response_model=DecisionPage, responses=errors(
    *AUTH, *INPUT, *FOUND, ErrorCode.IMPORT_NOT_CHECKED))
def decisions(import_id: ImportId, user: CurrentUser, db: DB,
              after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
              limit: Annotated[int, Query(ge=1, le=DECISIONS_PER_PAGE)] = DECISIONS_PER_PAGE,
              ) -> DecisionPage:
    """The dry run's decisions in source order, a page at a time."""
    return review.decisions(db, user, import_id, after, limit)


@router.post("/imports/{import_id}/choices", response_model=ImportOut, responses=errors(
    *AUTH, *BODY, *FOUND, ErrorCode.IMPORT_NOT_CHECKED, ErrorCode.IMPORT_ROW_UNKNOWN,
    ErrorCode.IMPORT_CHOICE_INVALID))
def choices(import_id: ImportId, body: ImportChoices, user: CurrentUser, db: DB) -> ImportOut:
    """Record the review sheet's choices (merge into a record, keep apart, skip)."""
    return review.choose(db, user, import_id, body.choices)


@router.post("/imports/{import_id}/confirm", response_model=ConfirmOut, responses=errors(
    *AUTH, *BODY, *FOUND, ErrorCode.IMPORT_NOT_CHECKED))
def confirm(import_id: ImportId, request: Request, user: CurrentUser, db: DB, dictionary: Dict,
            body: ConfirmIn | None = None) -> ConfirmOut:
    """Write the import through the push engine (validated, permission-checked, audited)."""
    return confirming.confirm(db, dictionary, user, import_id, body or ConfirmIn(),
                              request.app.state.settings.max_batch_rows)


@router.post("/imports/{import_id}/undo", response_model=ImportOut, responses=errors(
    *AUTH, *INPUT, ErrorCode.ADMIN_ONLY, *FOUND, ErrorCode.IMPORT_NOT_CONFIRMED))
def undo(import_id: ImportId, user: AdminUser, db: DB, dictionary: Dict) -> ImportOut:
    """Undo a confirmed import as a whole (admins): each of its pushes, newest first."""
    return confirming.undo(db, dictionary, user, import_id)


@router.get("/import-mappings", response_model=list[ImportMappingOut], responses=errors(*AUTH))
def mappings(_: CurrentUser, db: DB) -> list[ImportMappingOut]:
    """The team's saved column mappings."""
    return store.list_mappings(db)


@router.get("/import-mappings/{name}", response_model=ImportMappingOut,
            responses=errors(*AUTH, *INPUT, ErrorCode.IMPORT_MAPPING_NOT_FOUND))
def get_mapping(name: MappingName, _: CurrentUser, db: DB) -> ImportMappingOut:
    return store.get_mapping(db, name)


@router.put("/import-mappings/{name}", response_model=ImportMappingOut, responses=errors(
    *AUTH, *BODY, ErrorCode.IMPORT_ENTITY_UNSUPPORTED, ErrorCode.IMPORT_MAPPING_INVALID))
def put_mapping(name: MappingName, body: ImportMapping, user: CurrentUser, db: DB,
                dictionary: Dict) -> ImportMappingOut:
    """Save a column mapping under ``name`` for the whole team (replacing one of that name)."""
    return store.put_mapping(db, dictionary, user, name, body)
