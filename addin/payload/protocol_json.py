"""The action vocabulary and limits as JSON for the Office.js client
(``addin/office/static/protocol.json``), so the client is checked against the one
declaration in :mod:`addin.payload.actions`::

    python -m addin.payload.protocol_json > addin/office/static/protocol.json
"""

from __future__ import annotations

import json
from typing import Any

from addin.payload.actions import MAX_BYTES, OPS, SPLITTABLE

EXCEL_WEB_LIMIT = 5 * 1024 * 1024  # Excel on the web refuses larger requests and responses


def protocol() -> dict[str, Any]:
    """Every op with its keys, the ops split by rows for transport, the byte limits."""
    return {
        "ops": {op: list(keys) for op, keys in OPS.items()},
        "splittable": dict(SPLITTABLE),
        "max_bytes": MAX_BYTES,
        "excel_web_limit": EXCEL_WEB_LIMIT,
    }


def render() -> str:
    return json.dumps(protocol(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - the command line
    print(render(), end="")
