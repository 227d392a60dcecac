"""Push and pull."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from bridge.routes.body import parse_json
from bridge.routes.deps import DB, CurrentUser, Dict
from bridge.routes.responses import AUTH, BODY, INPUT, errors
from bridge.sync.pull import pull as do_pull
from bridge.sync.push import fingerprint, push_json
from schema.errors import ErrorCode
from schema.wire import PullResponse, PushRequest, PushResponse


class _BodyRequest(Request):
    """A request whose JSON body is parsed by orjson (half the time of ``json``, whose
    errors it subclasses) and fingerprinted as received, for the idempotency check."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self.state.body_fingerprint = fingerprint(body)
            self._json = parse_json(body)
        return self._json


class _BodyRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_BodyRequest(request.scope, request.receive))

        return route


router = APIRouter(tags=["sync"], route_class=_BodyRoute)


@router.post("/push", response_model=PushResponse, responses=errors(
    *AUTH, *BODY, ErrorCode.TEMPLATE_VERSION_INVALID, ErrorCode.TEMPLATE_OUTDATED,
    ErrorCode.TEMPLATE_NEWER, ErrorCode.BATCH_TOO_LARGE, ErrorCode.IDEMPOTENCY_KEY_REUSED))
def push(req: PushRequest, request: Request, user: CurrentUser, db: DB,
         dictionary: Dict) -> Response:
    """Apply a batch of row changes; each row comes back applied, merged, conflict or
    rejected. Replaying the idempotency key returns the stored answer."""
    settings = request.app.state.settings
    body = push_json(db, dictionary, user, req, settings.max_batch_rows,
                     settings.idempotency_days, getattr(request.state, "body_fingerprint", None))
    return Response(body, media_type="application/json")


@router.get("/pull", response_model=PullResponse,
            responses=errors(*AUTH, *INPUT, ErrorCode.UNKNOWN_ENTITY, ErrorCode.CURSOR_INVALID,
                             ErrorCode.EXPORT_PULL_CAP, ErrorCode.EXPORT_DAY_CAP))
def pull(request: Request, user: CurrentUser, db: DB, dictionary: Dict,
         since: Annotated[int | None, Query(ge=0, le=2**62)] = None,
         entities: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """Rows the caller may see, columnar; with ``since``, only changes after that cursor.
    Refused (nothing sent) over a cap of the caller's role (``bridge.export``)."""
    wanted = [e for e in entities.split(",") if e] if entities else None
    body = do_pull(db, dictionary, user, since, wanted, request.app.state.settings)
    return Response(orjson.dumps(body), media_type="application/json")
