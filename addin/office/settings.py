"""The Office service's settings (``CRM_OFFICE_*``) and the public address it builds the
manifest and its pages from."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_REQUEST_BYTES = 5_000_000  # Excel on the web refuses requests and responses over 5 MB
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class OfficeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_OFFICE_")

    sessions: str = ""  # folder shared by the workers of one machine; default: temp folder
    bridge_url: str = ""  # where the service reaches the bridge; default: as the request came
    session_ttl: int = 3600  # seconds a session lives after its last request
    max_session_bytes: int = 200 * 1024 * 1024  # everything one session may upload
    max_request_bytes: int = MAX_REQUEST_BYTES
    addin_id: str = ""  # the manifest's Id; default: a uuid5 of the public URL
    provider: str = "Excel CRM"
    public_url: str = ""  # from the bridge's CRM_PUBLIC_URL (see :func:`from_bridge`)

    def sessions_dir(self) -> Path:
        folder = Path(self.sessions) if self.sessions else \
            Path(tempfile.gettempdir()) / "excel-crm-office-sessions"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def manifest_id(self, base: str) -> str:
        """A stable Id per deployment: the setting, else a uuid5 of the public URL."""
        return self.addin_id or str(uuid.uuid5(uuid.NAMESPACE_URL, base.rstrip("/") + "/office"))


def from_bridge(bridge_settings: Any, **overrides: Any) -> OfficeSettings:
    """Office settings from the environment plus what the bridge's settings say."""
    public = str(getattr(bridge_settings, "public_url", "") or "")
    return OfficeSettings(**{"public_url": public, **overrides})


def is_local(host: str) -> bool:
    """Whether a host name (no port) is this machine, where Office accepts plain HTTP."""
    name = host.strip().lower().rstrip(".")
    return name in LOCAL_HOSTS or name.endswith(".localhost")
