"""Bridge settings, read from ``CRM_*`` environment variables (one URL selects the database)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_AUDIT_KEY_CHARS = 32


def data_folder() -> Path:
    """The user's data folder for the bridge (the SQLite default, the audit key file)."""
    folder = Path(user_data_dir("excel-crm", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_database_url() -> str:
    """A SQLite file in the user's data folder: the embedded default."""
    return f"sqlite:///{data_folder() / 'crm.db'}"


class AuditKeyError(Exception):
    """The audit key setting or file cannot be used (too short, unreadable)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_")

    database_url: str = ""  # empty: the SQLite default above
    database_schema: str | None = None  # PostgreSQL schema (tests give each run its own)
    max_batch_rows: int = 20_000
    max_body_bytes: int = 64 * 1024 * 1024
    token_days: int = 90  # also the longest token a password sign-in may ask for
    # password sign-in (bridge.throttle): this many failures of one user name, or of one
    # client address (0: not counted), within the window answer 429 until the oldest ages out
    signin_failures: int = 5
    signin_address_failures: int = 50
    signin_window_seconds: int = 900
    idempotency_days: int = 7
    pool_size: int = 8
    # the audit trail's HMAC key: CRM_AUDIT_KEY (at least 32 characters), else the key file
    # (default: audit.key in the data folder, created with mode 0600 when first needed)
    audit_key: str = ""
    audit_key_file: str = ""
    # checkpoints of the chain head outside the database (append-only JSON lines)
    audit_checkpoint_file: str = ""  # default: data folder, one file per database
    audit_checkpoint_every: int = 1000  # entries between automatic checkpoints; 0: never
    audit_checkpoint_seconds: int = 3600  # and at most this long apart while writes happen
    # plugins (entry point group crm_bridge.plugins): "all", "none" or names, comma-separated
    plugins: str = "all"
    # the address users reach this bridge at (https://crm.example.com): the Office add-in's
    # manifest and pages are built from it; empty: the address each request came in on
    public_url: str = ""
    # reverse proxies whose X-Forwarded-Proto / -For are believed (IPs or networks,
    # comma-separated, "*" for any); empty: none, the connection itself says http or https
    forwarded_allow_ips: str = ""

    def url(self) -> str:
        return self.database_url or default_database_url()

    def plugin_choice(self) -> set[str] | None:
        """The plugin names to load, or None for every installed one."""
        text = self.plugins.strip().lower()
        if text in ("", "all", "*"):
            return None
        if text == "none":
            return set()
        return {n.strip() for n in text.split(",") if n.strip()}

    def database_fingerprint(self) -> str:
        """A short name for this database (URL and schema), to keep checkpoint files apart."""
        ident = f"{self.url()}|{self.database_schema or ''}"
        return hashlib.sha256(ident.encode()).hexdigest()[:12]

    def audit_key_path(self) -> Path:
        return Path(self.audit_key_file) if self.audit_key_file \
            else data_folder() / "audit.key"

    def checkpoint_path(self) -> Path:
        if self.audit_checkpoint_file:
            return Path(self.audit_checkpoint_file)
        return data_folder() / f"audit-checkpoints-{self.database_fingerprint()}.jsonl"

    def load_audit_key(self, create: bool = False) -> bytes | None:
        """The audit HMAC key, or None when there is none (``create``: make the key file,
        mode 0600, when neither the setting nor the file exists)."""
        if self.audit_key:
            if len(self.audit_key) < MIN_AUDIT_KEY_CHARS:
                raise AuditKeyError(f"CRM_AUDIT_KEY must have at least {MIN_AUDIT_KEY_CHARS} "
                                    "characters")
            return self.audit_key.encode()
        path = self.audit_key_path()
        if create and not path.exists():
            _create_key_file(path)
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditKeyError(f"cannot read the audit key file {path}: {exc}") from None
        if len(text) < MIN_AUDIT_KEY_CHARS:
            raise AuditKeyError(f"the audit key file {path} holds fewer than "
                                f"{MIN_AUDIT_KEY_CHARS} characters")
        return text.encode()


def _create_key_file(path: Path) -> None:
    """Write 32 random bytes (hex) to ``path`` with mode 0600, atomically (written aside,
    then linked into place); a file another process made first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(os.urandom(32).hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process's key won
            os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)
