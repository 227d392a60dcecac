"""Rebuild the committed workbook templates: ``python -m addin.template [--check]``."""

from __future__ import annotations

import sys
from pathlib import Path

from addin.template import build_template
from schema.errors import Lang

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_FILES: dict[Lang, str] = {"zh": "crm_workbook.xlsm", "en": "crm_workbook.en.xlsm"}


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` only compare) every template; 1 when one was stale."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    stale = []
    for lang, name in TEMPLATE_FILES.items():
        path = TEMPLATES_DIR / name
        data = build_template(lang)
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
