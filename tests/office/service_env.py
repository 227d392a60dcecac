"""A bridge with the Office service on a loopback port, its sessions in the test's own
folder (shared by the service's tests; the js helper's tests have their own)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import LiveBridge, make_settings, start_bridge


@contextmanager
def office_bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  **env: str) -> Iterator[LiveBridge]:
    """A real bridge (SQLite) whose ``/office/`` keeps sessions under ``tmp_path``;
    ``env``: more ``CRM_*`` settings (``CRM_OFFICE_SESSION_TTL="1"``)."""
    monkeypatch.setenv("CRM_OFFICE_SESSIONS", str(tmp_path / "sessions"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with start_bridge(make_settings("sqlite", tmp_path)) as bridge:
        yield bridge


def office(bridge: LiveBridge, token: str | None = None, **kw: Any) -> httpx.Client:
    """A client of ``/office`` signed in with ``token`` (the admin's by default)."""
    headers = {"Authorization": f"Bearer {token or bridge.admin_token}"}
    return httpx.Client(base_url=bridge.url + "/office", headers=headers, timeout=120, **kw)


def workbook(*names: str, hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"name": "crm.xlsx", "active": names[0] if names else None, "sheets": [
        {"name": n, "visibility": "very_hidden" if n in hidden else "visible"} for n in names]}


def error_of(resp: httpx.Response) -> dict[str, Any]:
    """The bridge's error body: a code and both messages."""
    body = resp.json()
    err: dict[str, Any] = body["error"]
    assert err["code"] and err["message_zh"] and err["message_en"], body
    return err
