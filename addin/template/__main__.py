"""Rebuild the committed workbook templates and the ribbon add-in: ``python -m addin.template
[--check]``."""

from __future__ import annotations

import sys
from pathlib import Path

from addin.template import build_template
from addin.template.xlam import ADDIN_FILE, build_addin
from schema.errors import Lang

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_FILES: dict[Lang, str] = {"zh": "crm_workbook.xlsm", "en": "crm_workbook.en.xlsm"}


def built_files() -> dict[str, bytes]:
    """Every committed file of ``templates/`` by name: the workbooks and the add-in."""
    files = {name: build_template(lang) for lang, name in TEMPLATE_FILES.items()}
    return files | {ADDIN_FILE: build_addin()}


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` only compare) every template; 1 when one was stale."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for name, data in built_files().items():
        path = TEMPLATES_DIR / name
        if path.exists() and path.read_bytes() == data:
            continue
        stale.append(name)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if stale:
        print(("out of date: " if check else "rewrote: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
