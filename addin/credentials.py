"""Bridge tokens live in the operating system's credential store (``keyring``), never in a
workbook: service ``excel-crm``, user name = the normalized server URL."""

from __future__ import annotations

import contextlib
import os

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from addin.client import normalize_server

SERVICE = "excel-crm"
ENV_TOKEN = "CRM_TOKEN"  # headless runs (CI, scripts) may pass the token this way


def save_token(server_url: str, token: str) -> None:
    keyring.set_password(SERVICE, normalize_server(server_url), token.strip())


def load_token(server_url: str) -> str | None:
    """The stored token for ``server_url``; ``CRM_TOKEN`` wins when set."""
    env = os.environ.get(ENV_TOKEN, "").strip()
    if env:
        return env
    try:
        return keyring.get_password(SERVICE, normalize_server(server_url)) or None
    except KeyringError:
        return None


def delete_token(server_url: str) -> None:
    with contextlib.suppress(PasswordDeleteError, KeyringError):
        keyring.delete_password(SERVICE, normalize_server(server_url))
