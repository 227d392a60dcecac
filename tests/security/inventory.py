"""The bridge's operations as its OpenAPI document lists them, and what each one is (the
check-list's tests enumerate these, so a new route is covered or fails)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from bridge.app import create_app
from bridge.settings import Settings

PREFIX = "/api/v1"
PUBLIC = {"GET /health", "POST /auth/token"}  # answered without a token
# every operation taking an id in its path, and who may reach the object it names (API1)
OBJECT_RULES = {
    "POST /users/{username}/revoke": "admin",
    "PUT /reports/rules/{rule_id}": "admin",
    "DELETE /reports/rules/{rule_id}": "admin",
    "POST /imports/{import_id}/undo": "admin",
    "GET /imports/{import_id}": "creator",
    "POST /imports/{import_id}/rows": "creator",
    "POST /imports/{import_id}/dry-run": "creator",
    "GET /imports/{import_id}/decisions": "creator",
    "POST /imports/{import_id}/choices": "creator",
    "POST /imports/{import_id}/confirm": "creator",
    "GET /import-mappings/{name}": "team",  # saved mappings are shared by design
    "PUT /import-mappings/{name}": "team",
    "POST /admin/holds/{hold_id}/release": "admin",
}
# sensitive business flows (API6): admins only
SENSITIVE = {"POST /users", "POST /users/{username}/revoke", "POST /audit/restore",
             "POST /audit/undo", "POST /imports/{import_id}/undo", "POST /reports/rules/apply",
             "POST /reports/rules", "PUT /reports/rules/{rule_id}",
             "DELETE /reports/rules/{rule_id}", "GET /audit", "POST /admin/erase",
             "POST /admin/export-subject", "POST /admin/export-subject/workbook",
             "POST /admin/holds", "POST /admin/holds/{hold_id}/release"}


@cache
def document() -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="crm-openapi-"))
    doc: dict[str, Any] = create_app(Settings(
        database_url=f"sqlite:///{folder / 'crm.db'}")).openapi()
    return doc


def operations() -> dict[str, dict[str, Any]]:
    """``"METHOD /path"`` (without the ``/api/v1`` prefix) -> the OpenAPI operation."""
    return {f"{m.upper()} {p.removeprefix(PREFIX)}": op
            for p, ops in document()["paths"].items() for m, op in ops.items()}


def documents(op: dict[str, Any], code: str) -> bool:
    return any(code in a.get("description", "") for a in op["responses"].values())


def access(name: str, op: dict[str, Any]) -> str:
    """``public``, ``admin`` or ``user``: who may call the operation at all."""
    if name in PUBLIC:
        return "public"
    return "admin" if documents(op, "ADMIN_ONLY") else "user"


def path_params(op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]


def fill(name: str, **values: str) -> str:
    """The operation's path (with prefix) with its path parameters filled."""
    path = name.split(" ", 1)[1]
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return PREFIX + path


def served(app: Any) -> list[Any]:
    """Every route the app answers, flattened: ``APIRoute``s and, from FastAPI 0.165 on, the
    routes of an included router (its effective route contexts); plain routes and mounts as
    they are. Each has ``path`` and ``methods`` (a mount: None)."""
    out = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        out += list(contexts()) if callable(contexts) else [route]
    return out
