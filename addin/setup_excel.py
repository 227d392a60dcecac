"""``crm-sheet setup-excel``: prepare a Windows PC for the CRM ribbon (xlwings) in one step.

Each step is one row of the report:

1. ``python``: this interpreter (version, 64/32-bit) and Excel's bitness when the registry
   tells it. RunPython starts Python as a separate process, so the two need not match.
2. ``packages``: ``addin`` and xlwings (the version the template's VBA was built with;
   pywin32 on Windows) import in a fresh process started from a neutral folder, as Excel
   starts it. If ``addin`` is found only from where this command runs, its folder becomes
   the config's ``PYTHONPATH``.
3. ``config``: the user's ``~/.xlwings/xlwings.conf`` names this interpreter's
   ``pythonw.exe`` as ``INTERPRETER_WIN`` (and ``PYTHONPATH`` when needed); every other
   key is kept, the previous file is kept as ``xlwings.conf.bak``. A path inside the
   user's profile is written as ``%USERPROFILE%\\...``, so a user name outside the ANSI
   code page (which VBA reads the file in) does no harm.
4. ``addin``: ``crm_addin.xlam`` written into the user's XLSTART folder, which Excel opens
   at every start and trusts by default; written here rather than downloaded, it carries no
   Mark of the Web.

On macOS and Linux nothing is written: the xlwings ribbon needs Windows desktop Excel, and
the Office add-in (docs/office-service.md) serves Excel on the web and on a Mac.

Exit codes: 0 ready (with ``--dry-run``: nothing stands in the way); 1 a step failed (the
report says what to do); 2 not Windows.
"""

from __future__ import annotations

import json
import locale
import os
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import addin
from addin.ribbon.vba_support import ADDIN_FILE
from addin.template.builder import xlwings_version
from schema.errors import Lang

Status = Literal["ok", "done", "would", "failed", "skipped"]
EXIT_READY, EXIT_FAILED, EXIT_NOT_WINDOWS = 0, 1, 2
MIN_PYTHON = (3, 11)
CONFIG_DIR, CONFIG_FILE = ".xlwings", "xlwings.conf"
OFFICE_ADDIN_DOC = "docs/office-service.md"
_PROBE = (
    "import importlib, json, sys\n"
    "out = {}\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        mod = importlib.import_module(name)\n"
    "        out[name] = str(getattr(mod, '__version__', '') or 'yes')\n"
    "    except Exception:\n"
    "        out[name] = None\n"
    "print(json.dumps(out))\n"
)


@dataclass(frozen=True)
class Step:
    """One row of the report: what, how it went, and what it did or what to do."""

    name: str
    status: Status
    zh: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Host:
    """The machine as setup-excel sees it (tests inject another platform and folders)."""

    platform: str
    home: Path
    appdata: Path | None
    executable: Path
    version: tuple[int, int, int]
    bits: int
    excel_bits: int | None = None
    encoding: str = "utf-8"
    modules: tuple[str, ...] = ("addin", "xlwings")
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Host:
        appdata = os.environ.get("APPDATA")
        windows = sys.platform == "win32"
        return cls(sys.platform, Path.home(), Path(appdata) if appdata else None,
                   Path(sys.executable), (sys.version_info.major, sys.version_info.minor,
                                          sys.version_info.micro),
                   struct.calcsize("P") * 8, _excel_bits() if windows else None,
                   locale.getpreferredencoding(False),
                   ("addin", "xlwings", "win32api") if windows else ("addin", "xlwings"),
                   dict(os.environ))

    @property
    def pythonw(self) -> Path:
        return self.executable.with_name("pythonw.exe")

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_DIR / CONFIG_FILE

    @property
    def xlstart(self) -> Path | None:
        return self.appdata / "Microsoft" / "Excel" / "XLSTART" if self.appdata else None


def _excel_bits() -> int | None:  # pragma: no cover - Windows registry
    """64 or 32 from Office's registry keys (Click-to-Run, then MSI); None if unknown."""
    if sys.platform != "win32":
        return None
    import winreg

    keys = ((r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration", "Platform"),
            (r"SOFTWARE\Microsoft\Office\16.0\Outlook", "Bitness"))
    for key, value in keys:
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as k:
                text = str(winreg.QueryValueEx(k, value)[0]).lower()
        except OSError:
            continue
        return 64 if "64" in text else 32
    return None


def probe(python: Path, modules: tuple[str, ...], extra_path: str | None = None
          ) -> dict[str, str | None]:
    """Which of ``modules`` import (and their versions) in a fresh ``python`` started from
    a neutral folder, ignoring ``PYTHON*`` variables, with ``extra_path`` first on the path."""
    code = (f"import sys; sys.path.insert(0, {extra_path!r})\n" if extra_path else "") + _PROBE
    with tempfile.TemporaryDirectory() as neutral:
        try:
            done = subprocess.run([str(python), "-E", "-c", code, *modules], cwd=neutral,
                                  capture_output=True, text=True, timeout=120, check=False)
            found: dict[str, str | None] = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return dict.fromkeys(modules)
    return found


def check_python(host: Host) -> Step:
    version = ".".join(str(v) for v in host.version)
    excel = f"{host.excel_bits}-bit" if host.excel_bits else "?"
    if host.version[:2] < MIN_PYTHON:
        return Step("python", "failed", f"Python {version} 过旧：需要 3.11 或更高版本",
                    f"Python {version} is too old: 3.11 or newer is needed")
    return Step("python", "ok",
                f"Python {version}（{host.bits} 位）{host.executable}；Excel {excel}"
                "（RunPython 另起进程，位数无需一致）",
                f"Python {version} ({host.bits}-bit) {host.executable}; Excel {excel} "
                "(RunPython starts a separate process: the bitness need not match)")


def check_packages(host: Host) -> tuple[Step, str | None]:
    """The packages step and the ``PYTHONPATH`` the config needs (None: none)."""
    found = probe(host.executable, host.modules)
    pythonpath = None
    if not found.get("addin"):
        pythonpath = str(Path(addin.__file__).resolve().parents[1])
        found = probe(host.executable, host.modules, pythonpath)
    want = xlwings_version()
    missing = [m for m in host.modules if not found.get(m)]
    if missing:
        names = ", ".join(missing)
        return Step("packages", "failed",
                    f"此 Python 无法导入：{names}。请运行：\"{host.executable}\" -m pip install "
                    f"excel-crm xlwings=={want}",
                    f"This Python cannot import: {names}. Run: \"{host.executable}\" -m pip "
                    f"install excel-crm xlwings=={want}"), pythonpath
    if found["xlwings"] != want:
        return Step("packages", "failed",
                    f"xlwings 版本为 {found['xlwings']}，模板需要 {want}：pip install "
                    f"xlwings=={want}",
                    f"xlwings is {found['xlwings']}, the template needs {want}: pip install "
                    f"xlwings=={want}"), pythonpath
    via = f"（PYTHONPATH={pythonpath}）" if pythonpath else ""
    return Step("packages", "ok", f"addin 与 xlwings {want} 可以导入{via}",
                f"addin and xlwings {want} import"
                + (f" (PYTHONPATH={pythonpath})" if pythonpath else "")), pythonpath


def _profile_relative(path: str, host: Host) -> str:
    """``path`` as ``%USERPROFILE%\\...`` when it lies inside the user's profile."""
    profile = (host.env.get("USERPROFILE") or str(host.home)).rstrip("\\/")
    if path.lower().startswith(profile.lower()) and path[len(profile):][:1] in ("\\", "/"):
        return "%USERPROFILE%" + path[len(profile):]
    return path


def _config_lines(old: str, settings: dict[str, str]) -> str:
    """``old`` config text with ``settings`` replaced or appended, other lines kept."""
    lines, seen = [], set()
    for line in old.splitlines():
        key = line.split(",", 1)[0].strip().strip('"').upper()
        if key in settings:
            if key not in seen:
                lines.append(f'"{key}","{settings[key]}"')
                seen.add(key)
            continue
        lines.append(line)
    lines += [f'"{k}","{v}"' for k, v in settings.items() if k not in seen]
    return "\n".join(lines) + "\n"


def write_config(host: Host, pythonpath: str | None, dry_run: bool) -> Step:
    if not host.pythonw.is_file():
        return Step("config", "failed",
                    f"找不到 {host.pythonw}：请从 python.org 安装 Python（含 pythonw.exe）",
                    f"{host.pythonw} not found: install Python from python.org (it "
                    "includes pythonw.exe)")
    settings = {"INTERPRETER_WIN": _profile_relative(str(host.pythonw), host)}
    if pythonpath:
        settings["PYTHONPATH"] = _profile_relative(pythonpath, host)
    path = host.config_path
    try:
        old = path.read_text(encoding=host.encoding) if path.exists() else ""
        new = _config_lines(old, settings)
        data = new.encode(host.encoding)
    except (OSError, UnicodeError) as exc:
        return Step("config", "failed", f"无法读写 {path}：{exc}",
                    f"Cannot read or write {path}: {exc}")
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    if old == new:
        return Step("config", "ok", f"{path} 已设置：{shown}", f"{path} already set: {shown}")
    if dry_run:
        return Step("config", "would", f"将写入 {path}：{shown}", f"Would write {path}: {shown}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if old:
            path.with_name(CONFIG_FILE + ".bak").write_bytes(old.encode(host.encoding))
        path.write_bytes(data)
    except OSError as exc:
        return Step("config", "failed", f"无法写入 {path}：{exc}", f"Cannot write {path}: {exc}")
    return Step("config", "done", f"已写入 {path}：{shown}（其他设置保留）",
                f"Wrote {path}: {shown} (other settings kept)")


def install_addin(host: Host, folder: Path | None, dry_run: bool) -> Step:
    from addin.template.xlam import build_addin

    folder = folder or host.xlstart
    if folder is None:
        return Step("addin", "failed", "不知道 XLSTART 文件夹（未设置 APPDATA）：请用 --addin-dir",
                    "The XLSTART folder is unknown (APPDATA is not set): pass --addin-dir")
    target, data = folder / ADDIN_FILE, build_addin()
    if target.is_file() and target.read_bytes() == data:
        return Step("addin", "ok", f"{target} 已是最新", f"{target} is up to date")
    if dry_run:
        return Step("addin", "would", f"将写入 {target}", f"Would write {target}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        return Step("addin", "failed",
                    f"无法写入 {target}（Excel 是否正打开它？请关闭 Excel 后重试）：{exc}",
                    f"Cannot write {target} (is Excel using it? close Excel and run again): "
                    f"{exc}")
    return Step("addin", "done", f"已安装 {target}：重新打开 Excel 后出现“CRM”选项卡",
                f"Installed {target}: open Excel again to get the CRM tab")


def not_windows(host: Host) -> Step:
    return Step("platform", "skipped",
                f"此功能区需要 Windows 桌面版 Excel（当前：{host.platform}）。Excel 网页版和 Mac "
                f"版请使用 CRM Office 加载项：见 {OFFICE_ADDIN_DOC}",
                f"The xlwings ribbon needs Windows desktop Excel (this is {host.platform}). "
                f"For Excel on the web and on a Mac use the CRM Office add-in: see "
                f"{OFFICE_ADDIN_DOC}")


def run_setup(host: Host, *, dry_run: bool = False, addin_dir: Path | None = None
              ) -> tuple[list[Step], int]:
    """Every step's row and the exit code (see the module doc)."""
    if host.platform != "win32":
        return [not_windows(host)], EXIT_NOT_WINDOWS
    steps = [check_python(host)]
    packages, pythonpath = check_packages(host)
    steps += [packages, write_config(host, pythonpath, dry_run),
              install_addin(host, addin_dir, dry_run)]
    failed = any(s.status == "failed" for s in steps)
    return steps, EXIT_FAILED if failed else EXIT_READY


__all__ = ["EXIT_FAILED", "EXIT_NOT_WINDOWS", "EXIT_READY", "Host", "Step", "probe",
           "run_setup"]
