"""Rendered report pages: the demo workbook, refreshed in zh-CN and English, each report sheet
printed by LibreOffice (headless) to PDF and its first page to PNG.

    python -m bench.render_reports                    # into docs/images/reports/
    python -m bench.render_reports --out /tmp/pages --keep-pdf

Steps: a fresh SQLite store seeded by ``bridge.demo`` (the east-region manager ``zhao.min``
signs in), a real bridge on a loopback port, a workbook per language from the template,
``pull`` and ``refresh_reports`` through the add-in's commands (the openpyxl port), then per
report sheet a copy of the workbook holding that sheet only, converted with
``soffice --headless --convert-to pdf`` and ``pdftoppm`` (poppler-utils). Prints each
page's count and size; ``tests/reports/test_rendered.py`` checks the PDFs' text.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from addin import commands
from addin.port_openpyxl import OpenpyxlPort
from addin.reportbook import SHEET_NAMES
from bridge.app import create_app
from bridge.db import connect, create_schema
from bridge.demo import seed
from bridge.server import serve_in_thread
from bridge.settings import Settings
from schema.dictionary import build_dictionary
from schema.errors import Lang

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images" / "reports"
MANAGER = "zhao.min"  # the demo's east-region manager
FILE_KINDS = {"funnel": "funnel", "rfm": "rfm", "kpis": "kpis"}


@dataclass
class Rendered:
    """One report sheet rendered: its PDF (first-page PNG), pages and the report JSON."""

    kind: str
    lang: Lang
    pdf: Path
    png: Path | None
    pages: int
    page_size: str
    report: dict[str, Any] = field(repr=False, default_factory=dict)


def pdf_info(pdf: Path) -> tuple[int, str]:
    """(pages, page size text) from ``pdfinfo``."""
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                         text=True).stdout
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return int(info["Pages"].strip()), info.get("Page size", "").strip()


def pdf_text(pdf: Path, layout: bool = True) -> list[str]:
    """The text of each page (``pdftotext``, ``-layout`` or in reading order, which keeps a
    chart's title together; pages split at form feeds)."""
    out = subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def _to_pdf(xlsx: Path, out: Path, profile: str) -> Path:
    subprocess.run(["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir",
                    str(out), str(xlsx)], check=True, capture_output=True, timeout=300)
    return out / (xlsx.stem + ".pdf")


def only_sheet(book: Path, sheet: str, target: Path) -> Path:
    """A copy of ``book`` holding only ``sheet`` (what LibreOffice then prints)."""
    wb = load_workbook(book)
    for ws in list(wb.worksheets):
        if ws.title != sheet:
            wb.remove(ws)
    for name in list(wb.defined_names):
        del wb.defined_names[name]  # the dropdown lists' names point at removed sheets
    wb.active = 0
    wb[sheet].sheet_state = "visible"
    wb.save(target)
    return target


def demo_workbooks(work: Path, langs: tuple[Lang, ...]) -> tuple[dict[Lang, Path],
                                                                 dict[Lang, dict[str, Any]]]:
    """The demo store, a bridge, and one refreshed workbook per language; also each
    language's report JSON (as the bridge answered, for the checks)."""
    d = build_dictionary()
    settings = Settings(database_url=f"sqlite:///{work / 'demo.db'}")
    db = connect(settings, d)
    create_schema(db)
    token = seed(db, d).tokens[MANAGER]
    books: dict[Lang, Path] = {}
    answers: dict[Lang, dict[str, Any]] = {}
    try:
        with serve_in_thread(create_app(settings, d, db)) as url:
            for lang in langs:
                path = work / f"demo.{lang}.xlsm"
                path.write_bytes(commands.template_bytes(lang))
                port = OpenpyxlPort.open(path)
                port.write_meta({"server_url": url})
                port.save()
                with commands.connect(OpenpyxlPort.open(path), token=token) as client:
                    commands.pull(OpenpyxlPort.open(path), client)
                    commands.refresh_reports(OpenpyxlPort.open(path), client)
                    answers[lang] = {k: client.get_json(f"/reports/{k}", {})
                                     for k in SHEET_NAMES}
                books[lang] = path
    finally:
        db.engine.dispose()
    return books, answers


def render(out: Path, langs: tuple[Lang, ...] = ("zh", "en"), dpi: int = 100,
           png: bool = True, work: Path | None = None) -> list[Rendered]:
    """Render every report sheet of the demo workbook in each language into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    work = work or Path(tempfile.mkdtemp(prefix="crm-render-"))
    work.mkdir(parents=True, exist_ok=True)
    profile = f"-env:UserInstallation={(work / 'lo-profile').as_uri()}"
    books, answers = demo_workbooks(work, langs)
    done: list[Rendered] = []
    for lang, book in books.items():
        for kind, names in SHEET_NAMES.items():
            name = f"{FILE_KINDS[kind]}.{lang}"
            pdf = _to_pdf(only_sheet(book, names[lang], work / f"{name}.xlsx"), work, profile)
            shutil.copy(pdf, out / pdf.name)
            image = None
            if png:
                subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1",
                                "-singlefile", str(pdf), str(out / name)], check=True,
                               capture_output=True, timeout=120)
                image = out / f"{name}.png"
            pages, size = pdf_info(out / pdf.name)
            done.append(Rendered(kind, lang, out / pdf.name, image, pages, size,
                                 answers[lang][kind]))
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNGs")
    ap.add_argument("--dpi", type=int, default=100)
    ap.add_argument("--keep-pdf", action="store_true", help="keep the PDFs beside the PNGs")
    ap.add_argument("--lang", choices=("zh", "en"), action="append",
                    help="one language (repeatable; default both)")
    args = ap.parse_args(argv)
    for tool in ("soffice", "pdftoppm", "pdfinfo"):
        if shutil.which(tool) is None:
            ap.error(f"{tool} is not installed (LibreOffice, poppler-utils)")
    started = time.perf_counter()
    langs = tuple(args.lang or ("zh", "en"))
    done = render(args.out, langs, args.dpi)
    for r in done:
        if not args.keep_pdf:
            r.pdf.unlink()
        print(json.dumps({"sheet": f"{r.kind}.{r.lang}", "pages": r.pages,
                          "page_size": r.page_size,
                          "png": r.png.name if r.png else None,
                          "png_kb": round(r.png.stat().st_size / 1024) if r.png else None}))
    print(f"rendered {len(done)} sheets in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
