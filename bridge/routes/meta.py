"""Health, the signed-in user and the dictionary the server runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from bridge.routes.body import JsonRoute
from bridge.routes.deps import CurrentUser, Dict
from bridge.routes.responses import AUTH, errors
from schema.permissions import visible_fields, writable_fields
from schema.wire import MeResponse, UserOut

router = APIRouter(tags=["meta"], route_class=JsonRoute)


@router.get("/health", responses=errors())
def health(dictionary: Dict, request: Request) -> dict[str, Any]:
    """Up, the dictionary it runs, and each plugin's state (loaded, or why not)."""
    return {"status": "ok", "dictionary_version": dictionary.version,
            "plugins": getattr(request.app.state, "plugins", [])}


@router.get("/me", response_model=MeResponse, responses=errors(*AUTH))
def me(user: CurrentUser, dictionary: Dict) -> MeResponse:
    return MeResponse(
        user=UserOut(username=user.username, display_name=user.display_name, role=user.role,
                     team=user.team, region=user.region, active=user.active),
        dictionary_version=dictionary.version,
        visible_fields={e.code: [f.code for f in visible_fields(user.role, e)]
                        for e in dictionary},
        writable_fields={e.code: sorted(writable_fields(user.role, e)) for e in dictionary},
    )
