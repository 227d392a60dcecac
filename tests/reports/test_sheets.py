"""Report sheets: rebuilt in place with native charts; LibreOffice renders the charts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from addin.report_sheets import build_report_sheets
from bridge.auth import User

ADMIN = User("admin", "admin", "admin", None, None)


def _workbook(reports: tuple[dict, dict, dict], charts: bool = True) -> Workbook:
    wb = Workbook()
    wb.active.title = "客户"
    old = wb.create_sheet("销售漏斗")
    old["Z99"] = "stale"
    wb.create_sheet("商机")
    build_report_sheets(wb, *reports)
    if not charts:
        for ws in wb.worksheets:
            ws._charts = []
    return wb


def test_sheets_rebuilt_in_place(reports: tuple[dict, dict, dict], tmp_path: Path) -> None:
    wb = _workbook(reports)
    assert wb.sheetnames == ["客户", "销售漏斗", "商机", "RFM", "经营指标"]
    f = wb["销售漏斗"]
    assert f["Z99"].value is None  # recreated, not patched
    assert "2026-03-31" in f["A2"].value and "筛选" in f["A4"].value
    # each sheet states the window it used, and the funnel none (it has no RFM window)
    assert "RFM 窗口" not in f["A4"].value and "RFM 窗口: 90 天" in wb["RFM"]["A4"].value
    texts = [c.value for c in f["A"] if isinstance(c.value, str)]
    assert any("赢单率" in t for t in texts)  # the definitions are on the sheet
    assert len(f._charts) == 4 and len(wb["RFM"]._charts) == 3 and len(wb["经营指标"]._charts) == 3
    # rebuilding again (English) replaces the same sheets at the same places
    build_report_sheets(wb, *reports, lang="en")
    assert wb.sheetnames == ["客户", "Funnel", "商机", "RFM", "KPIs"]
    wb.save(tmp_path / "r.xlsx")
    again = load_workbook(tmp_path / "r.xlsx")
    rows = [[c.value for c in r] for r in again["Funnel"].iter_rows(max_col=3)]
    assert ["Initial contact", 3, 80] in [r[:3] for r in rows]  # D, E and O4 (10+30+40)


def _render(wb: Workbook, folder: Path, name: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = folder / f"{name}.xlsx"
    wb.save(xlsx)
    profile = (folder / "lo-profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), str(xlsx)],
                   check=True, capture_output=True, timeout=240)
    pdf = folder / f"{name}.pdf"
    assert pdf.exists()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / name)], check=True,
                   capture_output=True, timeout=120)
    return sorted(folder.glob(f"{name}-*.png"))


def _chart_ink(png: Path) -> tuple[int, int]:
    """(pixels in the chart series colours, non-white pixels in their bounding box). The
    tables use only white, greys, black and the header's dark blue #1F4E78, so the Office
    series colours #4F81BD and #C0504D (openpyxl charts' default style) mark where a chart
    was drawn."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    w, h = img.size
    px = img.load()
    series = ((79, 129, 189), (192, 80, 77))
    red = [(x, y) for y in range(h) for x in range(w)
           if any(all(abs(a - b) <= 12 for a, b in zip(px[x, y], c, strict=True))
                  for c in series)]
    if not red:
        return 0, 0
    x0, x1 = min(x for x, _ in red), max(x for x, _ in red)
    y0, y1 = min(y for _, y in red), max(y for _, y in red)
    ink = sum(1 for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)
              if sum(px[x, y]) < 3 * 235)
    return len(red), ink


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftoppm"),
                    reason="LibreOffice (soffice) or poppler (pdftoppm) not installed")
def test_charts_render_in_libreoffice(reports: tuple[dict, dict, dict], tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    with_charts = _render(_workbook(reports), tmp_path / "a", "charts")
    without = _render(_workbook(reports, charts=False), tmp_path / "b", "plain")
    assert with_charts and without
    # page 1 is the funnel sheet: its charts (count + reached per stage, by month) are drawn
    red, ink = _chart_ink(with_charts[0])
    assert red > 500 and ink > red + 500, (red, ink)  # bars plus axes, labels, legend
    # each report sheet's first page shows chart colours (the tables follow on later pages);
    # the same sheets without charts show none
    assert sum(_chart_ink(p)[0] > 0 for p in with_charts) >= 3
    assert all(_chart_ink(p)[0] == 0 for p in without)
