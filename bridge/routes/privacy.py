"""Privacy routes (admins only): erase a data subject (with a dry run), export everything
about one (JSON or a workbook), and legal holds (``bridge.privacy``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import Field

from bridge.privacy import hold
from bridge.privacy.erase import erase
from bridge.privacy.export import subject_export
from bridge.privacy.workbook import workbook_bytes
from bridge.routes.body import JsonRoute
from bridge.routes.deps import DB, STORABLE, AdminUser, Dict
from bridge.routes.responses import ADMIN, BODY, INPUT, errors
from schema.errors import ErrorCode
from schema.wire import RequestModel

router = APIRouter(tags=["privacy"], route_class=JsonRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUBJECT = (ErrorCode.SUBJECT_INVALID, ErrorCode.SUBJECT_NOT_FOUND)
HOLD_ID_MAX = 2_147_483_647  # an Integer column


class EraseRequest(RequestModel):
    subject: Annotated[str, Field(min_length=1, max_length=200,
                                  description="contact:<id> or customer:<id>"), STORABLE]
    dry_run: bool = False


class SubjectRequest(RequestModel):
    subject: Annotated[str, Field(min_length=1, max_length=200), STORABLE]


class HoldRequest(RequestModel):
    entity: Annotated[str, Field(min_length=1, max_length=64), STORABLE]
    record_id: Annotated[str, Field(min_length=1, max_length=36), STORABLE]
    reason: Annotated[str, Field(min_length=1, max_length=500), STORABLE]


@router.post("/admin/erase", responses=errors(*ADMIN, *BODY, *SUBJECT, ErrorCode.ERASE_HELD))
def erase_subject(body: EraseRequest, user: AdminUser, db: DB,
                  dictionary: Dict) -> dict[str, Any]:
    """Erase a data subject's personal fields, records and audit values (``dry_run``: only
    say what would go: records, fields, audit entries, copies, holds)."""
    return erase(db, dictionary, user, body.subject, dry_run=body.dry_run)


@router.post("/admin/export-subject", responses=errors(*ADMIN, *BODY, *SUBJECT))
def export_subject(body: SubjectRequest, user: AdminUser, db: DB,
                   dictionary: Dict) -> dict[str, Any]:
    """Everything stored about one subject: records, audit history (opened), holds."""
    return subject_export(db, dictionary, user, body.subject)


@router.post("/admin/export-subject/workbook", response_class=Response,
             responses={200: {"content": {XLSX: {}}, "description": "the workbook"},
                        **errors(*ADMIN, *BODY, *SUBJECT)})
def export_subject_workbook(body: SubjectRequest, user: AdminUser, db: DB,
                            dictionary: Dict) -> Response:
    """The same export as an ``.xlsx`` workbook."""
    data = workbook_bytes(subject_export(db, dictionary, user, body.subject))
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": 'attachment; filename="subject-export.xlsx"'})


@router.get("/admin/holds", responses=errors(*ADMIN, *INPUT))
def holds(_: AdminUser, db: DB,
          released: Annotated[bool, Query()] = False) -> list[dict[str, Any]]:
    """Legal holds: the active ones (``released``: released ones too)."""
    with db.read() as conn:
        return hold.list_holds(db, conn, released)


@router.post("/admin/holds", status_code=201,
             responses=errors(*ADMIN, *BODY, ErrorCode.UNKNOWN_ENTITY,
                              ErrorCode.RECORD_NOT_FOUND))
def add_hold(body: HoldRequest, user: AdminUser, db: DB, dictionary: Dict) -> dict[str, Any]:
    """Put a record under a legal hold: erasure and retention leave it alone."""
    with db.write() as conn:
        return hold.add_hold(db, dictionary, conn, user, body.entity, body.record_id,
                             body.reason)


@router.post("/admin/holds/{hold_id}/release",
             responses=errors(*ADMIN, *INPUT, ErrorCode.HOLD_NOT_FOUND))
def release_hold(hold_id: Annotated[int, Path(ge=1, le=HOLD_ID_MAX)], user: AdminUser,
                 db: DB) -> dict[str, Any]:
    """Release an active legal hold."""
    with db.write() as conn:
        return hold.release_hold(db, conn, user, hold_id)


__all__ = ["router"]
