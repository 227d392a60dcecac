"""The payload protocol between a thin spreadsheet host (the Office.js add-in, next a WPS
add-in) and the Python commands: what the host sends (:mod:`addin.payload.snapshot`) and
the host-neutral actions it applies afterwards (:mod:`addin.payload.actions`).

Nothing here knows Office.js: values are plain JSON, coordinates are 1-based sheet rows and
columns, and every business rule stays in :mod:`addin.commands`.
"""
