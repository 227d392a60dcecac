"""Bridge tokens live in the operating system's credential store (``keyring``), never in a
workbook: service ``excel-crm``, user name = the normalized server URL.

Where a machine has no credential store (a server, a container, a bare Linux desktop), the
token comes from ``CRM_TOKEN`` or from a file only its owner can read named by
``CRM_TOKEN_FILE``; signing in there says so instead of failing with a traceback.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from addin.client import normalize_server
from addin.port import AddinError
from schema.errors import ErrorCode

SERVICE = "excel-crm"
ENV_TOKEN = "CRM_TOKEN"  # headless runs (CI, scripts) may pass the token this way
ENV_TOKEN_FILE = "CRM_TOKEN_FILE"  # or name a file holding it, readable only by its owner


def save_token(server_url: str, token: str) -> None:
    """Keep ``token`` in the credential store; :class:`AddinError` when there is none."""
    try:
        keyring.set_password(SERVICE, normalize_server(server_url), token.strip())
    except KeyringError as exc:  # includes NoKeyringError
        raise AddinError(ErrorCode.CREDENTIAL_STORE_UNAVAILABLE, env=ENV_TOKEN,
                         env_file=ENV_TOKEN_FILE,
                         detail=exc.__class__.__name__) from None


def load_token(server_url: str) -> str | None:
    """The token for ``server_url``: ``CRM_TOKEN``, else ``CRM_TOKEN_FILE``, else the
    credential store."""
    env = os.environ.get(ENV_TOKEN, "").strip()
    if env:
        return env
    path = os.environ.get(ENV_TOKEN_FILE, "").strip()
    if path:
        return _read_token_file(Path(path))
    try:
        return keyring.get_password(SERVICE, normalize_server(server_url)) or None
    except KeyringError:
        return None


def _read_token_file(path: Path) -> str:
    """The token in ``path``, refused when the file is missing, empty or readable by others
    (on POSIX: no group or other permission bits)."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AddinError(ErrorCode.TOKEN_FILE_UNUSABLE, path=str(path),
                         detail=exc.strerror) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AddinError(ErrorCode.TOKEN_FILE_UNUSABLE, path=str(path),
                         detail=f"permissions {stat.filemode(mode)}; run chmod 600")
    if not text:
        raise AddinError(ErrorCode.TOKEN_FILE_UNUSABLE, path=str(path), detail="empty")
    return text


def write_token_file(path: Path, token: str) -> None:
    """Keep ``token`` in ``path`` instead of the credential store: written to a file created
    readable only by its owner (mode 600), then moved over ``path`` in one step."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token.strip() + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise AddinError(ErrorCode.TOKEN_FILE_UNUSABLE, path=str(path),
                         detail=exc.strerror) from None


def delete_token(server_url: str) -> None:
    with contextlib.suppress(PasswordDeleteError, KeyringError):
        keyring.delete_password(SERVICE, normalize_server(server_url))
