"""Text files (``.csv``, ``.txt``, anything that is text): encoding, delimiter, rows.

The encoding comes from the byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32), else UTF-32 or
UTF-16 without a BOM (NUL bytes, and the text reads in one byte order), else strict UTF-8, else
GB18030 when the double-byte pairs are GB2312's, else charset-normalizer among
:data:`CANDIDATES` (GBK and GB2312 are read as their superset GB18030). Chinese text that
GB18030 or Big5 may both decode is checked both ways (:func:`prefer_big5`): the reading whose
characters are common hanzi (GB2312's first level, Big5's frequent characters) wins, so
Taiwanese and Hong Kong files are read as Big5 and mainland files stay GB18030. The delimiter is
sniffed among ``, ; \\t |`` (csv.Sniffer, then a count of each candidate per line);
Python's csv module parses.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from charset_normalizer import from_bytes

from addin.importing.preflight import refuse, unicode_without_bom, unreadable
from schema.errors import ErrorCode

DELIMITERS = ",;\t|"
# what charset-normalizer may choose among for the rest: on short samples it would take
# Western text for DOS or Central European code pages (premi\xe8re as "premičre")
CANDIDATES = ("gb18030", "big5", "cp1252", "cp1251", "shift_jis", "euc_kr")
SNIFF_CHARS = 64 * 1024
MAX_TEXT_BYTES = 100 * 1024 * 1024  # as for a spreadsheet package (addin.safety.Limits)
MAX_FIELD_CHARS = 1024 * 1024
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030",
              "ascii": "utf-8"}


@dataclass(frozen=True, slots=True)
class TextFile:
    rows: list[list[str]]
    encoding: str
    delimiter: str


def detect_encoding(data: bytes) -> str:
    """The encoding ``data`` is written in (see the module docstring)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" in data[:SNIFF_CHARS]:  # text has no NUL: UTF-16/32 (its ASCII is valid UTF-8)
        wide = unicode_without_bom(data[:SNIFF_CHARS])
        if wide is not None:
            return wide
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[: 4 * SNIFF_CHARS]
    if looks_like_gb2312(sample):
        return prefer_big5(sample) or "gb18030"
    if (big5 := prefer_big5(sample)) is not None:  # short samples charset-normalizer misses
        return big5
    best = from_bytes(sample, cp_isolation=list(CANDIDATES)).best()
    name = (best.encoding if best is not None else "gb18030").lower().replace("-", "_")
    name = _SUPERSETS.get(codecs.lookup(name).name, codecs.lookup(name).name)
    if name in ("gb18030", "big5", "cp950"):  # charset-normalizer's ranking, then the check
        return prefer_big5(sample) or "gb18030"
    return name


@lru_cache(maxsize=1)
def common_hanzi() -> frozenset[str]:
    """The common hanzi of both scripts, from the codecs themselves: GB2312's first level
    (3,755 simplified characters, B0A1-D7FE) and Big5's frequent characters (5,401
    traditional ones, A440-C67E)."""
    chars: set[str] = set()
    for enc, leads, trails in (("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)),
                               ("big5", range(0xA4, 0xC7),
                                [*range(0x40, 0x7F), *range(0xA1, 0xFF)])):
        for lead in leads:
            for trail in trails:
                try:
                    chars.add(bytes((lead, trail)).decode(enc))
                except UnicodeDecodeError:
                    continue
    return frozenset(chars)


def _common_share(text: str) -> float:
    """The share of common hanzi among the non-ASCII characters of ``text`` (CJK and
    full-width punctuation, which both readings have, not counted)."""
    common = common_hanzi()
    seen = hits = 0
    for ch in text:
        if ch < "\x80" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
            continue
        seen += 1
        hits += ch in common
    return hits / seen if seen else 0.0


def _decoded(sample: bytes, encoding: str) -> str | None:
    """``sample`` decoded strictly (a character cut at its end is allowed), or None."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def prefer_big5(sample: bytes, margin: float = 0.15, least: float = 0.8) -> str | None:
    """``big5`` (``cp950`` when only Windows' Big5 decodes it) when ``sample`` reads as
    Big5 mostly in common hanzi (``least``) and clearly more (``margin``) than as GB18030
    (or GB18030 cannot decode it); None otherwise."""
    big5 = next(((enc, t) for enc in ("big5", "cp950")
                 if (t := _decoded(sample, enc)) is not None), None)
    if big5 is None:
        return None
    share = _common_share(big5[1])
    if share < least:
        return None
    gb = _decoded(sample, "gb18030")
    if gb is None or share > _common_share(gb) + margin:
        return big5[0]
    return None


def looks_like_gb2312(sample: bytes, share: float = 0.8) -> bool:
    """Whether the double-byte characters of ``sample`` are mostly GB2312's (both bytes in
    A1-FE: the hanzi, full-width forms and punctuation of Chinese text in GBK/GB18030).
    Latin-1 and Windows-1252 text pairs an accented letter with a plain one and fails;
    charset-normalizer decides those. Short Chinese samples, which charset-normalizer may
    take for Big5 or a Korean code page, are recognised here."""
    pairs = gb = i = 0
    n = len(sample)
    while i < n - 1:
        lead = sample[i]
        if lead < 0x80:
            i += 1
            continue
        if not 0x81 <= lead <= 0xFE:
            return False
        trail = sample[i + 1]
        if 0x30 <= trail <= 0x39:  # a four-byte GB18030 sequence
            pairs, i = pairs + 1, i + 4
            continue
        pairs += 1
        gb += 0xA1 <= lead <= 0xF7 and 0xA1 <= trail <= 0xFE
        i += 2
    if not pairs or gb < share * pairs:
        return False
    try:
        sample[: i if i <= n else n].decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    for fallback in ("gb18030", "utf-8"):  # charset-normalizer looked at a sample only
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    raise unreadable(path, "csv", f"not valid {encoding} text")


def sniff_delimiter(text: str) -> str:
    """The delimiter of ``text``: csv.Sniffer among :data:`DELIMITERS`, else the candidate
    found the same non-zero number of times on most of the first lines, else a comma."""
    sample = text[:SNIFF_CHARS]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        if found in DELIMITERS:
            return found
    except csv.Error:
        pass
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    best, best_score = ",", 0
    for cand in DELIMITERS:
        counts = Counter(ln.count(cand) for ln in lines)
        common, times = max(counts.items(), key=lambda kv: (kv[1], kv[0]), default=(0, 0))
        if common and times > best_score:
            best, best_score = cand, times
    return best


def _rows(path: Path, text: str, delimiter: str, max_cells: int) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    cells = 0
    try:
        for row in reader:
            cells += len(row)
            if cells > max_cells:
                raise refuse(ErrorCode.IMPORT_TOO_MANY_CELLS, path, sheet=path.name,
                             count=f"> {max_cells}", max=max_cells)
            yield row
    except csv.Error as exc:
        raise unreadable(path, "csv", f"line {reader.line_num}: {exc}") from exc


def read_text(path: Path, max_cells: int) -> TextFile:
    """Every row of a text file, as text (the fields' parsers read the values later)."""
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise refuse(ErrorCode.IMPORT_FILE_UNSAFE, path,
                     detail=f"{size} bytes of text, more than {MAX_TEXT_BYTES}")
    data = path.read_bytes()
    encoding = detect_encoding(data)
    text = _decode(path, data, encoding).lstrip("\ufeff")
    del data  # the bytes are not needed beside their text
    if "\x00" in text:
        raise unreadable(path, "binary", "NUL characters in the text")
    delimiter = sniff_delimiter(text)
    old_limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        rows = list(_rows(path, text, delimiter, max_cells))
    finally:
        csv.field_size_limit(old_limit)
    return TextFile(rows, "utf-8-sig" if encoding == "utf-8-sig" else encoding, delimiter)
