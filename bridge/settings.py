"""Bridge settings, read from ``CRM_*`` environment variables (one URL selects the database)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """A SQLite file in the user's data folder: the embedded default."""
    folder = Path(user_data_dir("excel-crm", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'crm.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_")

    database_url: str = ""  # empty: the SQLite default above
    database_schema: str | None = None  # PostgreSQL schema (tests give each run its own)
    max_batch_rows: int = 20_000
    max_body_bytes: int = 64 * 1024 * 1024
    token_days: int = 90
    idempotency_days: int = 7
    pool_size: int = 8

    def url(self) -> str:
        return self.database_url or default_database_url()
