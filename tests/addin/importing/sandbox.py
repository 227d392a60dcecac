"""Read files in a child process with an address-space limit and a timeout, so a hostile
file that would take gigabytes or hang fails its test instead of the machine."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 1024**3  # 1 GiB of address space for the child
TIMEOUT_S = 120

_CHILD = r"""
import json, sys
from pathlib import Path
from addin.errors import AddinError
from addin.importing.files import read_tables
max_cells = int(sys.argv[1])
for name in sys.argv[2:]:
    try:
        tables = read_tables(Path(name), max_cells=max_cells) if max_cells else \
            read_tables(Path(name))
        out = {"tables": [{"sheet": t.sheet, "format": t.format, "columns": t.columns,
                           "rows": len(t.rows)} for t in tables]}
    except AddinError as exc:
        out = {"code": str(exc.code), "en": exc.message_en, "zh": exc.message_zh}
    print(json.dumps({"file": name, **out}), flush=True)
"""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def read_in_sandbox(paths: list[Path], max_cells: int = 0) -> dict[str, dict[str, Any]]:
    """``read_tables`` of each path in one limited child: str(path) -> ``{"tables": [...]}``
    or ``{"code": ..., "en": ..., "zh": ...}``. A crash, a traceback or a timeout fails."""
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(max_cells), *map(str, paths)],
        capture_output=True, text=True, timeout=TIMEOUT_S, preexec_fn=_limit, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.returncode == 0, f"the reader died ({proc.returncode}): {proc.stderr[-2000:]}"
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return {r.pop("file"): r for r in results}
