"""The README's commands exist: scripts, and every crm-bridge / crm-sheet subcommand."""

from __future__ import annotations

import os
import re
from pathlib import Path

import typer.main

from addin.cli import app as sheet_app
from bridge.cli import app as bridge_app

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
    used_sheet = re.findall(r"crm-sheet (\w+)", README)
    assert used_bridge and used_sheet
    for cmd in used_bridge:
        assert cmd in bridge or cmd.split()[0] in bridge, cmd
    for cmd in used_sheet:
        assert cmd in sheet, cmd
