"""Admin routes: users and tokens, the audit trail, restoring a field and undoing a push."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import MetaData

from bridge import audit
from bridge.auth import add_user, issue_token, list_users, revoke_user_tokens
from bridge.routes.body import JsonRoute
from bridge.routes.deps import DB, STORABLE, AdminUser, Dict, column_max
from bridge.routes.responses import ADMIN, BODY, INPUT, REVOKES_CREDENTIALS, errors
from bridge.sync.undo import restore_field, undo_push
from bridge.tables import system_tables
from schema.errors import ErrorCode
from schema.permissions import ROLES
from schema.wire import PushResponse, RequestModel, UserOut

_SYS = MetaData()
system_tables(_SYS)
AUDIT_ID_MAX = column_max(_SYS.tables["sys_audit"].c.id)
Username = Annotated[str, Path(min_length=1, max_length=64), STORABLE]
Text64 = Annotated[str | None, Query(max_length=64), STORABLE]

router = APIRouter(tags=["admin"], route_class=JsonRoute)


class NewUser(RequestModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$",
                      description="one of the roles in schema.permissions")
    team: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=200)


class NewToken(BaseModel):
    username: str
    token: str


class Restore(RequestModel):
    audit_id: int = Field(ge=1, le=AUDIT_ID_MAX)  # larger ids do not exist
    field: str = Field(min_length=1, max_length=64)


class Undo(RequestModel):
    push_key: str = Field(min_length=1, max_length=128)


@router.get("/users", response_model=list[UserOut], responses=errors(*ADMIN))
def users(_: AdminUser, db: DB) -> list[UserOut]:
    with db.engine.connect() as conn:
        return [UserOut(username=u.username, display_name=u.display_name, role=u.role,
                        team=u.team, region=u.region, active=u.active)
                for u in list_users(db, conn)]


@router.post("/users", response_model=NewToken, status_code=201,
             responses=errors(*ADMIN, *BODY, ErrorCode.USER_EXISTS))
def create_user(body: NewUser, request: Request, _: AdminUser, db: DB) -> NewToken:
    """Create a user and hand back their first token (shown once)."""
    with db.write() as conn:
        add_user(db, conn, body.username, body.role, body.team, body.region, body.display_name)
        token = issue_token(db, conn, body.username, days=request.app.state.settings.token_days)
    return NewToken(username=body.username, token=token)


@router.post("/users/{username}/revoke", responses=errors(*ADMIN, *INPUT),
             openapi_extra=REVOKES_CREDENTIALS)
def revoke(username: Username, _: AdminUser, db: DB) -> dict[str, int]:
    with db.write() as conn:
        return {"revoked": revoke_user_tokens(db, conn, username)}


@router.get("/audit", responses=errors(*ADMIN, *INPUT))
def audit_log(_: AdminUser, db: DB,
              entity: Text64 = None,
              record_id: Text64 = None,
              username: Text64 = None,
              push_key: Annotated[str | None, Query(max_length=128), STORABLE] = None,
              action: Annotated[str | None, Query(max_length=16), STORABLE] = None,
              after_id: Annotated[int, Query(ge=0, le=AUDIT_ID_MAX)] = 0,
              limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    """Audit entries, oldest first: who changed which field, old and new value, when, in
    which push; and who pulled what."""
    with db.read() as conn:
        return audit.query(db, conn, entity=entity, record_id=record_id, username=username,
                           push_key=push_key, action=action, after_id=after_id, limit=limit)


@router.get("/audit/verify", responses=errors(*ADMIN))
def audit_verify(_: AdminUser, db: DB) -> dict[str, Any]:
    with db.read() as conn:
        r = audit.verify(db, conn)
    return {"ok": r.ok, "entries": r.entries, "first_bad_id": r.first_bad_id,
            "reason": r.reason}


@router.post("/audit/restore", response_model=PushResponse,
             responses=errors(*ADMIN, *BODY, ErrorCode.AUDIT_NOT_FOUND, ErrorCode.ROW_NOT_FOUND))
def restore(body: Restore, user: AdminUser, db: DB, dictionary: Dict) -> PushResponse:
    """Set a field back to the value it had before an audited change (a new, audited
    change that goes through the same conflict rules)."""
    return restore_field(db, dictionary, user, body.audit_id, body.field)


@router.post("/audit/undo", response_model=PushResponse,
             responses=errors(*ADMIN, *BODY, ErrorCode.AUDIT_NOT_FOUND))
def undo(body: Undo, user: AdminUser, db: DB, dictionary: Dict) -> PushResponse:
    """Undo every change of one push, as a new audited push under the conflict rules."""
    return undo_push(db, dictionary, user, body.push_key)
