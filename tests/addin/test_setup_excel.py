"""``crm-sheet setup-excel`` on Linux: the Windows branch through an injected platform and
folders (a temp HOME and APPDATA; no registry, no Excel), the interpreter probed for real."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.ribbon.vba_support import ADDIN_FILE
from addin.setup_excel import (
    EXIT_FAILED,
    EXIT_NOT_WINDOWS,
    EXIT_READY,
    Host,
    Step,
    probe,
    run_setup,
)
from addin.template.builder import xlwings_version
from addin.template.xlam import build_addin

runner = CliRunner()


def _python(folder: Path, target: str) -> Path:
    """A ``python.exe`` in ``folder`` that runs ``target`` (and the ``pythonw.exe`` beside
    it, as python.org's Windows installer puts them)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "python.exe"
    exe.write_text(f'#!/bin/sh\nexec "{target}" "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    (folder / "pythonw.exe").write_bytes(b"MZ")
    return exe


def _windows(tmp: Path, python: str = sys.executable, **kw: object) -> Host:
    home = tmp / "home" / "张伟"
    exe = _python(home / "AppData" / "Local" / "Programs" / "Python311", python)
    return Host("win32", home, home / "AppData" / "Roaming", exe, (3, 11, 7), 64,
                excel_bits=32, encoding="cp1252", env={"USERPROFILE": str(home)},
                **kw)  # type: ignore[arg-type]


def _by_name(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps}


def test_a_windows_pc_gets_the_config_and_the_addin(tmp_path: Path) -> None:
    host = _windows(tmp_path)
    conf = host.config_path
    conf.parent.mkdir(parents=True)
    conf.write_text('"LICENSE_KEY","abc"\n"INTERPRETER_WIN","C:\\old\\pythonw.exe"\n'
                    '"SHOW CONSOLE","False"\n', encoding="cp1252")
    steps, code = run_setup(host)
    rows = _by_name(steps)
    assert code == EXIT_READY, steps
    assert [s.status for s in steps] == ["ok", "ok", "done", "done"]
    assert "64" in rows["python"].en and "Excel 32-bit" in rows["python"].en
    assert xlwings_version() in rows["packages"].en
    written = conf.read_text(encoding="cp1252").splitlines()
    pythonw = "%USERPROFILE%" + str(host.pythonw)[len(str(host.home)):]
    assert written == ['"LICENSE_KEY","abc"', f'"INTERPRETER_WIN","{pythonw}"',
                       '"SHOW CONSOLE","False"']  # no PYTHONPATH: addin is installed
    assert "C:\\old\\pythonw.exe" in conf.with_name("xlwings.conf.bak").read_text("cp1252")
    xlam = host.appdata / "Microsoft" / "Excel" / "XLSTART" / ADDIN_FILE  # type: ignore[operator]
    assert xlam.read_bytes() == build_addin()

    again, code = run_setup(host)  # nothing left to do: everything reported in place
    assert code == EXIT_READY and [s.status for s in again] == ["ok"] * 4


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    host = _windows(tmp_path)
    steps, code = run_setup(host, dry_run=True)
    assert code == EXIT_READY and [s.status for s in steps] == ["ok", "ok", "would", "would"]
    assert not host.config_path.exists()
    assert not (host.appdata / "Microsoft").exists()  # type: ignore[operator]
    assert "INTERPRETER_WIN=%USERPROFILE%" in _by_name(steps)["config"].en


def test_an_interpreter_without_the_packages_is_reported_with_the_fix(tmp_path: Path) -> None:
    """The base interpreter of this venv has neither xlwings nor the package installed: the
    package folder is offered as PYTHONPATH, xlwings is still missing, the row says the
    pip command, and the exit code is 1."""
    base = getattr(sys, "_base_executable", "")
    found = probe(Path(base), ("addin", "xlwings")) if base else {}
    if not base or found.get("xlwings") or found.get("addin"):
        pytest.skip(f"no base interpreter without the packages ({base!r}: {found})")
    host = _windows(tmp_path, python=base)
    steps, code = run_setup(host, addin_dir=tmp_path / "addins")
    rows = _by_name(steps)
    assert code == EXIT_FAILED
    assert rows["packages"].status == "failed" and "xlwings" in rows["packages"].en
    assert f"xlwings=={xlwings_version()}" in rows["packages"].en and "pip" in rows["packages"].zh
    assert 'PYTHONPATH' in host.config_path.read_text("cp1252")  # the package's own folder
    assert (tmp_path / "addins" / ADDIN_FILE).is_file()


def test_missing_pythonw_and_an_unwritable_addin_fail_with_what_to_do(tmp_path: Path) -> None:
    host = _windows(tmp_path)
    host.pythonw.unlink()
    blocked = tmp_path / "XLSTART"
    (blocked / ADDIN_FILE).mkdir(parents=True)  # a folder where the file should go
    steps, code = run_setup(host, addin_dir=blocked)
    rows = _by_name(steps)
    assert code == EXIT_FAILED
    assert rows["config"].status == "failed" and "python.org" in rows["config"].en
    assert rows["addin"].status == "failed" and "close Excel" in rows["addin"].en
    assert not host.config_path.exists()


def test_a_path_the_code_page_cannot_hold_is_refused_not_mangled(tmp_path: Path) -> None:
    """Outside the profile there is no %USERPROFILE% to stand in for the name."""
    host = _windows(tmp_path)
    other = _python(tmp_path / "程序" / "Python311", sys.executable)
    host = Host(**{**host.__dict__, "executable": other})
    steps, code = run_setup(host)
    assert code == EXIT_FAILED and _by_name(steps)["config"].status == "failed"
    assert not host.config_path.exists()


def test_old_python_is_refused(tmp_path: Path) -> None:
    host = Host(**{**_windows(tmp_path).__dict__, "version": (3, 9, 13)})
    steps, code = run_setup(host, dry_run=True)
    assert code == EXIT_FAILED and "3.11" in _by_name(steps)["python"].en


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_elsewhere_it_points_at_the_office_addin_and_writes_nothing(
        tmp_path: Path, platform: str) -> None:
    host = Host(**{**_windows(tmp_path).__dict__, "platform": platform})
    steps, code = run_setup(host)
    assert code == EXIT_NOT_WINDOWS and len(steps) == 1
    assert "Windows desktop Excel" in steps[0].en and "docs/office-service.md" in steps[0].en
    assert "Office 加载项" in steps[0].zh
    assert not host.config_path.exists() and not (host.appdata / "Microsoft").exists()  # type: ignore[operator]


def test_the_command_on_this_linux_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    out = runner.invoke(app, ["setup-excel", "--lang", "en"])
    assert out.exit_code == EXIT_NOT_WINDOWS, out.output
    assert "Office add-in" in " ".join(out.output.split())
    assert not (tmp_path / ".xlwings").exists() and os.listdir(tmp_path) == []
