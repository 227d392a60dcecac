"""The audit trail's secret (an HMAC-SHA256 key the database does not hold), from the
bridge's settings: ``CRM_AUDIT_KEY`` or the key file (see ``bridge.settings``)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from bridge.db import Database
from bridge.settings import Settings

_KEY_ID = b"crm-audit key id"
_KEK = b"crm-audit subject key wrapping"


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The secret, its public id (stored in each entry) and what is derived from it."""

    secret: bytes = field(repr=False)
    id: str = ""  # public: an HMAC of a fixed label, 16 hex digits

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", hmac.digest(self.secret, _KEY_ID, "sha256").hex()[:16])

    def sign(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data``, hex."""
        return hmac.digest(self.secret, data, "sha256").hex()

    def kek(self) -> bytes:
        """The key that wraps per-subject keys (so reading the database alone reveals no
        personal value of the audit trail)."""
        return hmac.digest(self.secret, _KEK, hashlib.sha256)


_loaded: dict[tuple[str, str], AuditKey] = {}


def _settings(db: Database) -> Settings:
    return db.settings if db.settings is not None else Settings()


def load(settings: Settings, create: bool = False) -> AuditKey | None:
    """The key ``settings`` name, or None; ``create`` makes the key file when absent."""
    ident = (settings.audit_key, str(settings.audit_key_path()))
    if ident in _loaded:
        return _loaded[ident]
    secret = settings.load_audit_key(create=create)
    if secret is None:
        return None
    _loaded[ident] = key = AuditKey(secret)
    return key


def signing_key(db: Database) -> AuditKey:
    """The key new entries are signed with (created on first use when none is set)."""
    key = load(_settings(db), create=True)
    assert key is not None
    return key


def checking_key(db: Database) -> AuditKey | None:
    """The key to verify with, or None (verification then says it cannot check
    authenticity); never creates one."""
    return load(_settings(db))
