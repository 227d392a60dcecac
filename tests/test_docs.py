"""The docs say what the code does: the README's commands exist (scripts, every crm-bridge /
crm-sheet subcommand); the generated blocks of docs/sync.md and docs/reports.md are current
(``python -m bridge.docgen``) and their hand-written tables name what the routes take."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
import typer.main
from fastapi.routing import APIRoute

from addin.cli import app as sheet_app
from bridge import docgen
from bridge.cli import app as bridge_app
from bridge.reports import rfm
from bridge.reports.params import ReportParams
from bridge.routes import reports as reports_routes

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(app: typer.Typer) -> set[str]:
    group = typer.main.get_command(app)
    out: set[str] = set()
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        out.add(name)
        for sub in getattr(cmd, "commands", {}):
            out.add(f"{name} {sub}")
    return out


def test_readme_scripts_exist_and_are_executable() -> None:
    for script in re.findall(r"^\./(scripts/\w+)", README, re.M):
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), script
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_readme_cli_commands_exist() -> None:
    bridge, sheet = _commands(bridge_app), _commands(sheet_app)
    used_bridge = re.findall(r"crm-bridge (\w+(?: (?!--)\w+)?)", README)
    used_sheet = re.findall(r"crm-sheet (\w[\w-]*)", README)
    assert used_bridge and used_sheet
    for cmd in used_bridge:
        assert cmd in bridge or cmd.split()[0] in bridge, cmd
    for cmd in used_sheet:
        assert cmd in sheet, cmd


# --- docs/sync.md and docs/reports.md: generated blocks and tables checked against the code ---

DOCS = ROOT / "docs"


@pytest.mark.parametrize("doc", sorted(docgen.BLOCKS))
def test_generated_blocks_are_current(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert sorted(docgen.block_names(text)) == sorted(docgen.BLOCKS[doc]), "a block is missing"
    assert text == docgen.regenerate(text, docgen.BLOCKS[doc]), \
        f"docs/{doc} is stale: run python -m bridge.docgen"


def test_a_status_the_docs_do_not_describe_stops_generation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    meanings = dict(docgen.STATUS_MEANING)
    meanings.pop("merged")
    monkeypatch.setattr(docgen, "STATUS_MEANING", meanings)
    with pytest.raises(docgen.DocDrift, match="merged"):
        docgen.row_statuses()


def test_a_changed_definition_makes_the_doc_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / "reports.md").read_text(encoding="utf-8")
    monkeypatch.setattr(rfm, "DEFINITIONS_EN", [*rfm.DEFINITIONS_EN[:-1], "Changed."])
    assert docgen.regenerate(text, docgen.BLOCKS["reports.md"]) != text


def test_the_audit_section_has_no_generated_block() -> None:
    """The audit section of docs/sync.md is written by hand (by whoever owns bridge/audit.py)."""
    text = (DOCS / "sync.md").read_text(encoding="utf-8")
    audit = text[text.index("## Audit"):]
    audit = audit[:audit.find("\n## ", 1)] if "\n## " in audit[1:] else audit
    assert "<!-- generated:" not in audit


def _table(text: str, header: str) -> list[list[str]]:
    """The rows of the markdown table whose header line starts with ``header``."""
    start = text.index(header)
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_report_parameters_table_names_every_report_parameter() -> None:
    text = (DOCS / "reports.md").read_text(encoding="utf-8")
    documented = {name for row in _table(text, "| parameter | used by |")
                  for name in re.findall(r"`(\w+)`", row[0])}
    assert documented == {f.name for f in dataclasses.fields(ReportParams)}


def test_report_endpoints_table_matches_the_routes() -> None:
    text = (DOCS / "reports.md").read_text(encoding="utf-8")
    documented = {(row[0], row[1].strip("`")): row[3] for row in _table(text, "| method | path |")}
    routes = {(m, "/api/v1" + r.path): r for r in reports_routes.router.routes
              if isinstance(r, APIRoute) for m in r.methods}
    assert set(documented) == set(routes)
    for key, what in documented.items():
        route = routes[key]
        if key[0] == "GET" and route.dependant.query_params:  # the reports: their parameters
            names = {p.name for p in route.dependant.query_params}
            assert set(re.findall(r"\w+", what.strip("`"))) == names, key
