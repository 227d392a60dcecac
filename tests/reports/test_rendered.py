"""Rendered pages (issue 13, Must show): the demo workbook refreshed in zh-CN and English,
each report sheet printed by LibreOffice to PDF, and the PDF's text checked: labels where
codes would be, no debug line, the time zone stated, every chart there, A4 landscape and one
page wide (every page shows column A's title, which a second page across would not)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from addin.reportbook.charts import SPECS, chart_titles
from addin.reportbook.header import TITLES
from addin.reportbook.tables import shown_columns
from bench.render_reports import Rendered, pdf_text, render
from schema.dictionary import build_dictionary
from schema.errors import Lang

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not all(shutil.which(t) for t in ("soffice", "pdftotext",
                                                                   "pdfinfo")),
                                 reason="LibreOffice or poppler-utils not installed")]
DEBUG_LINE = re.compile(r"\b[a-z_]+=[\w.\-]+;")
SEGMENT_CODES = ("important_value", "important_develop", "important_keep", "important_retain",
                 "general_value", "general_develop", "general_keep", "general_retain",
                 "no_purchase")
MAX_PAGES = 12  # the demo's longest sheet (RFM, 180 customers) prints on 4-5 pages


def _english_words(rep: dict[str, Any]) -> set[str]:
    """Lower-case words of the English labels and definitions (prose, not codes)."""
    d = build_dictionary()
    text = " ".join(v.en for e in d.enums.values() for v in e.values)
    text += " ".join(rep.get("definitions", {}).get("en", []))
    text += " ".join(c["en"] for t in rep["tables"].values() for c in t["columns"])
    return set(re.findall(r"[a-z_]+", text))


def _codes(lang: Lang, rep: dict[str, Any]) -> set[str]:
    """Codes that must never be printed where their label belongs: every vocabulary code of
    the reported fields and the RFM segments; in English, less the codes that are also
    words of the English labels and definitions ("won", "competitor")."""
    d = build_dictionary()
    out = set(SEGMENT_CODES)
    for enum in ("stage", "region", "industry", "product_line", "source_channel",
                 "value_tier", "lost_reason"):
        out |= {v.code for v in d.enums[enum].values}
    return out - _english_words(rep) if lang == "en" else out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Rendered]:
    out = tmp_path_factory.mktemp("pages")
    return render(out, png=False, work=out / "work")


def test_every_report_sheet_is_rendered_in_both_languages(pages: list[Rendered]) -> None:
    assert sorted((p.kind, p.lang) for p in pages) == sorted(
        (k, lang) for k in ("funnel", "rfm", "kpis") for lang in ("zh", "en"))


def test_no_code_where_a_label_belongs(pages: list[Rendered]) -> None:
    for p in pages:
        text = "\n".join(pdf_text(p.pdf))
        found = {c for c in _codes(p.lang, p.report)
                 if re.search(rf"(?<![\w.\-@]){re.escape(c)}(?![\w.\-@])", text)}
        assert not found, (p.kind, p.lang, found)
        blank = "（空）" if p.lang == "zh" else "(blank)"
        assert text.count(blank) <= 3, (p.kind, p.lang, text.count(blank))  # never a column


def test_no_debug_line_and_the_time_zone_stated(pages: list[Rendered]) -> None:
    for p in pages:
        first = pdf_text(p.pdf)[0]
        assert not DEBUG_LINE.search("\n".join(pdf_text(p.pdf))), (p.kind, p.lang)
        zone = "北京时间 UTC+8" if p.lang == "zh" else "Beijing time, UTC+8"
        assert zone in first and "+00:00" not in first, (p.kind, p.lang)


def test_every_chart_is_on_the_page(pages: list[Rendered]) -> None:
    for p in pages:
        text = re.sub(r"\s+", "", "\n".join(pdf_text(p.pdf, layout=False)))
        titles = chart_titles(p.kind, p.report["tables"], p.lang)
        assert len(titles) >= 3, (p.kind, titles)
        missing = [t for t in titles if re.sub(r"\s+", "", t) not in text]
        assert not missing, (p.kind, p.lang, missing)


MONTH = re.compile(r"(?<![\d-])20\d\d-[01]\d(?![\d-])")


def test_month_charts_show_more_than_one_month(pages: list[Rendered]) -> None:
    """The demo's customers and deals carry 18 months of imported history: every chart by
    month has a bar per month, not one bar for the day the data reached the store. Each
    month is printed twice (the chart's axis and its table), for several months."""
    for p in pages:
        text = "\n".join(pdf_text(p.pdf, layout=False))
        printed = {m: len(re.findall(rf"(?<![\d-]){m}(?![\d-])", text))
                   for m in set(MONTH.findall(text))}
        for spec in SPECS[p.kind]:
            if "month" not in spec.category:
                continue
            t = p.report["tables"][spec.table]
            key = spec.category.format(lang=p.lang)
            col = [c["key"] for c in t["columns"]].index(key)
            months = {str(r[col])[:7] for r in t["rows"] if r[col]}
            assert len(months) >= 6, (p.kind, spec.table, months)
            on_chart = {m for m in months if printed.get(m, 0) >= 2}
            assert len(on_chart) >= 6, (p.kind, p.lang, spec.table, printed)


def test_a4_landscape_one_page_wide(pages: list[Rendered]) -> None:
    for p in pages:
        assert "(A4)" in p.page_size and p.page_size.startswith("841"), p.page_size
        assert 1 <= p.pages <= MAX_PAGES, (p.kind, p.lang, p.pages)
        title = TITLES[p.kind][0 if p.lang == "zh" else 1]
        texts = pdf_text(p.pdf)
        assert len(texts) == p.pages and title in texts[0]
        # every page holds the full width: the sheet's title (column A; its header block
        # repeats) or, where a record list runs, the list's repeated header row with its
        # first and last column
        ends = _list_ends(p)
        for n, t in enumerate(texts, start=1):
            assert title in t or (ends and all(e in t for e in ends)), (p.kind, p.lang, n)
        assert all(re.search(rf"\b{n}\s*/\s*{p.pages}\b", t)
                   for n, t in enumerate(texts, start=1))  # the footer: page / pages


def _list_ends(p: Rendered) -> tuple[str, str] | None:
    """The first and last column labels of the report's record list, as the sheet shows
    them (None: no list)."""
    lists = [(k, t) for k, t in p.report["tables"].items() if "total" in t and t["rows"]]
    if not lists:
        return None
    _key, t = lists[-1]
    keep = shown_columns(t, p.lang)
    label = "zh" if p.lang == "zh" else "en"
    return t["columns"][keep[0]][label], t["columns"][keep[-1]][label]


def _cjk_font_installed() -> bool:
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(out.stdout.strip())


def test_chinese_text_is_drawn_with_a_chinese_font(pages: list[Rendered]) -> None:
    """Without a font covering Chinese every CJK character prints as a box (the text layer
    would still read right): each page set embeds one (``fonts-wqy-microhei`` or another)."""
    if not _cjk_font_installed():
        pytest.skip("no Chinese font installed (apt-get install fonts-wqy-microhei)")
    for p in pages:
        fonts = subprocess.run(["pdffonts", str(p.pdf)], check=True, capture_output=True,
                               text=True).stdout
        assert re.search(r"WenQuanYi|Noto\w*CJK|SourceHan|Hei|Song|Ming|Kai", fonts), (
            p.kind, p.lang, fonts)


def test_committed_images_exist() -> None:
    folder = Path(__file__).resolve().parents[2] / "docs" / "images" / "reports"
    for kind in ("funnel", "rfm", "kpis"):
        for lang in ("zh", "en"):
            png = folder / f"{kind}.{lang}.png"
            assert png.is_file() and png.stat().st_size < 300_000, png
