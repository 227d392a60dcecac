"""Sign-in route: a user name and password exchanged for a bridge token (``bridge.signin``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bridge.errors import ApiError
from bridge.passwords import MAX_LENGTH
from bridge.routes.body import JsonRoute
from bridge.routes.deps import DB
from bridge.routes.responses import BODY, SIGNS_IN, errors
from bridge.signin import sign_in
from schema.errors import ErrorCode
from schema.wire import RequestModel, UserOut

router = APIRouter(tags=["auth"], route_class=JsonRoute)


class PasswordSignIn(RequestModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    days: int | None = Field(default=None, ge=1, le=3660,
                             description="token lifetime in days (default and at most: the "
                                         "server's token_days setting)")


class SignedIn(BaseModel):
    """A new token (shown once), like the admin's ``NewToken``, with its expiry and user."""

    username: str
    token: str
    expires: datetime
    user: UserOut


@router.post("/auth/token", response_model=SignedIn, status_code=201,
             responses=errors(*BODY, ErrorCode.SIGNIN_FAILED, ErrorCode.SIGNIN_DISABLED,
                              ErrorCode.SIGNIN_THROTTLED),
             openapi_extra=SIGNS_IN)
def password_token(body: PasswordSignIn, request: Request, db: DB,
                   tasks: BackgroundTasks) -> SignedIn | Response:
    """Exchange a user name and password for a new bridge token. A wrong user name or
    password answers one ``SIGNIN_FAILED`` that does not say which; after
    ``signin_failures`` failures of one name (or ``signin_address_failures`` of one client
    address) within ``signin_window_seconds`` it answers 429 with ``Retry-After``."""
    address = request.client.host if request.client else None
    try:
        issued = sign_in(db, request.app.state.settings, body.username, body.password,
                         body.days, address, defer=tasks.add_task)
    except ApiError as exc:  # answered here so the deferred audit entry runs after it
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers,
                            background=tasks)
    u = issued.user
    return SignedIn(username=u.username, token=issued.token, expires=issued.expires,
                    user=UserOut(username=u.username, display_name=u.display_name, role=u.role,
                                 team=u.team, region=u.region, active=u.active))
