"""Mappings saved by name and reused on the next file of the same kind.

All saved mappings of a user live in one JSON file, ``mappings.json`` in the user's data
folder (``platformdirs``; ``CRM_MAPPINGS_DIR`` overrides the folder), keyed by name. A saved
mapping is applied to a new file column by column, matching labels after folding
(``addin.importing.header.fold_label``); columns it does not know get the suggestion, and
its targets are checked against the dictionary again (a field removed since is dropped).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from platformdirs import user_data_dir

from addin.errors import AddinError
from addin.importing.header import fold_label
from addin.importing.mapping import suggest_mapping, targets
from addin.importing.source import IGNORED, Mapping
from schema.dictionary import Dictionary
from schema.errors import ErrorCode

FILE_NAME = "mappings.json"
MAX_NAME = 100


def mappings_file(folder: Path | None = None) -> Path:
    """Where the saved mappings are kept."""
    if folder is None:
        env = os.environ.get("CRM_MAPPINGS_DIR")
        folder = Path(env) if env else Path(user_data_dir("excel-crm", appauthor=False))
    return folder / FILE_NAME


def _load_all(path: Path) -> dict[str, dict[str, object]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AddinError(ErrorCode.IMPORT_MAPPINGS_UNREADABLE, path=str(path),
                         detail=f"{type(exc).__name__}: {exc}"[:200]) from exc
    return data if isinstance(data, dict) else {}


def saved_names(folder: Path | None = None) -> list[str]:
    """The names of the saved mappings, sorted."""
    return sorted(_load_all(mappings_file(folder)))


def save_mapping(mapping: Mapping, name: str, folder: Path | None = None) -> Path:
    """Save ``mapping`` under ``name`` (replacing one of that name); returns the file."""
    name = name.strip()[:MAX_NAME]
    if not name:
        raise AddinError(ErrorCode.IMPORT_MAPPING_SYNTAX, value=name)
    path = mappings_file(folder)
    every = _load_all(path)
    every[name] = Mapping(mapping.entity, dict(mapping.columns), name).to_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     suffix=".tmp") as fh:
        json.dump(every, fh, ensure_ascii=False, indent=1)
    Path(fh.name).replace(path)  # never a half-written file
    return path


def load_mapping(name: str, folder: Path | None = None) -> Mapping:
    """The mapping saved as ``name``; ``IMPORT_LOCAL_MAPPING_NOT_FOUND`` lists the saved ones."""
    every = _load_all(mappings_file(folder))
    if name not in every:
        raise AddinError(ErrorCode.IMPORT_LOCAL_MAPPING_NOT_FOUND, name=name,
                         allowed="、".join(sorted(every)) or "-")
    return Mapping.from_json(every[name])


def reuse_mapping(saved: Mapping, columns: list[str], dictionary: Dictionary, *,
                  history: bool = False) -> Mapping:
    """``saved`` applied to a file with ``columns``: a column whose folded label a saved
    column has takes its target (if the dictionary still has it and no earlier column took
    it), any other column its suggestion."""
    allowed = set(targets(dictionary, saved.entity, history=history))
    by_label = {fold_label(c): t for c, t in saved.columns.items()}
    suggested = suggest_mapping(columns, dictionary, saved.entity, history=history)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        target = by_label.get(fold_label(col))
        if target is not None and (target == IGNORED or target in allowed):
            out[col] = target if target not in taken else IGNORED
        else:
            out[col] = IGNORED
        taken.add(out[col])
    for col in columns:  # columns the saved mapping did not know: the suggestion
        guess = suggested.columns[col]
        if fold_label(col) not in by_label and guess not in taken:
            out[col] = guess
            taken.add(guess)
    return Mapping(saved.entity, out, saved.name)
