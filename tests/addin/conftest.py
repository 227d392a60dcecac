"""Fixtures of the add-in tests: an in-memory keyring, template workbooks and a user's hands
(openpyxl edits that find columns by their row-1 keys, like a person reading headers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import openpyxl
import pytest
from keyring.backend import KeyringBackend

from addin.port_openpyxl import OpenpyxlPort
from addin.template import build_template
from schema.layout import FIRST_DATA_ROW

_TEMPLATES: dict[str, bytes] = {}


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict (tests never touch the real credential store)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    yield ring
    keyring.set_keyring(previous)


def template(lang: str = "zh") -> bytes:
    if lang not in _TEMPLATES:
        _TEMPLATES[lang] = build_template(lang)
    return _TEMPLATES[lang]


def new_workbook(path: Path, lang: str = "zh") -> Path:
    OpenpyxlPort.from_bytes(template(lang), path).save()
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return new_workbook(tmp_path / "crm.xlsm")


def sheet_of(wb: Any, entity: str) -> Any:
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(min_row=2, values_only=True)}
    name = next(k[6:] for k, v in meta.items() if k and k.startswith("sheet:") and v == entity)
    return wb[name]


def keys_of(ws: Any) -> dict[str, int]:
    return {c.value: c.column for c in ws[1] if c.value}


def fill(path: Path, entity: str, rows: list[dict[str, Any]]) -> list[int]:
    """Type ``rows`` (field code -> value) below the last used row; returns their rows."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = keys_of(ws)
    last = max([FIRST_DATA_ROW - 1] + [c.row for row in ws.iter_rows(min_row=FIRST_DATA_ROW)
                                       for c in row if c.value is not None])
    out = []
    for i, row in enumerate(rows, start=last + 1):
        for key, value in row.items():
            cell = ws.cell(row=i, column=keys[key])
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed with a leading apostrophe: text, not a formula
        out.append(i)
    wb.save(path)
    return out


def edit(path: Path, entity: str, match: tuple[str, Any], changes: dict[str, Any]) -> int:
    """Change the cells of the first row whose ``match[0]`` column shows ``match[1]``."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = keys_of(ws)
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row=r, column=keys[match[0]]).value == match[1]:
            for key, value in changes.items():
                ws.cell(row=r, column=keys[key]).value = value
            wb.save(path)
            return r
    raise AssertionError(f"no {entity} row with {match}")


def rows(path: Path, entity: str) -> list[dict[str, Any]]:
    """Every data row as key -> value (blank rows skipped)."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = sheet_of(wb, entity)
    keys = keys_of(ws)
    out = []
    for r in ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True):
        rec = {k: r[c - 1] if c - 1 < len(r) else None for k, c in keys.items()}
        if any(v is not None for v in rec.values()):
            out.append(rec)
    return out


def table(path: Path, name: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    return [r for r in wb[name].iter_rows(values_only=True) if any(v is not None for v in r)]
