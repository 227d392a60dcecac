"""Small builders for push bodies used across bridge tests."""

from __future__ import annotations

import uuid
from typing import Any

from schema.dictionary import DICTIONARY_VERSION

VALID_USCC = ["91350100M000100Y43", "91110000600037341L", "91310000MA1FL1MMXL",
              "91440300708461136T", "9144030071526726XG"]


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


def body(*rows: dict[str, Any], all_or_none: bool = False) -> dict[str, Any]:
    return {"idempotency_key": key(), "template_version": DICTIONARY_VERSION,
            "all_or_none": all_or_none, "rows": list(rows)}


def insert(entity: str, **values: Any) -> dict[str, Any]:
    return {"op": "insert", "entity": entity, "id": str(uuid.uuid4()), "values": values}


def update(entity: str, id: str, version: int, values: dict[str, Any],
           base: dict[str, Any]) -> dict[str, Any]:
    return {"op": "update", "entity": entity, "id": id, "base_version": version,
            "values": values, "base": base}


def delete(entity: str, id: str, version: int) -> dict[str, Any]:
    return {"op": "delete", "entity": entity, "id": id, "base_version": version}


def alembic_head() -> str:
    """The newest migration revision (tests compare with it, not with a fixed number, so a
    re-chained migration does not break them)."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import bridge.db

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(bridge.db.__file__).with_name("migrations")))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
