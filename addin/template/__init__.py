"""The CRM workbook template (``templates/crm_workbook*.xlsm``), generated from the dictionary.

``python -m addin.template`` rewrites the committed templates (``--check`` only verifies them).
The ``_lists`` contract the add-in relies on is documented in :mod:`addin.template.builder`.
"""

from __future__ import annotations

from addin.ribbon.render import render_custom_ui
from addin.template.builder import (
    CONFLICT_CHOICES,
    CONFLICT_KEYS,
    LISTS_FIRST_VALUE_ROW,
    LISTS_NAME_ROW,
    META_SHEET_PREFIX,
    build_workbook,
    list_range,
    list_sources,
    sheet_code_name,
)
from addin.template.package import add_custom_ui
from schema.dictionary import Dictionary
from schema.errors import Lang


def build_template(lang: Lang = "zh", dictionary: Dictionary | None = None) -> bytes:
    """The macro-enabled template for ``lang`` ("zh" or "en"): same input, same bytes."""
    return add_custom_ui(build_workbook(lang, dictionary), render_custom_ui())


__all__ = [
    "CONFLICT_CHOICES",
    "CONFLICT_KEYS",
    "LISTS_FIRST_VALUE_ROW",
    "LISTS_NAME_ROW",
    "META_SHEET_PREFIX",
    "build_template",
    "list_range",
    "list_sources",
    "sheet_code_name",
]
