"""The fast paths of value parsing agree with the libraries they stand in for.

Phones: phonenumbers' own parse and format. USCCs: ``stdnum.cn.uscc.validate``. URLs: the
``urlsplit`` rule of ``schema.values._url``. Frames: parsing a column at once is parsing
each cell with ``parse_value``, and trusted cells are still checked.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from schema import phones
from schema.dictionary import build_dictionary
from schema.validation import _parse_column, pandera_schema, validate_frame
from schema.values import ValueProblem, _fast_uscc, _url, parse_value, value_parser

D = build_dictionary()
CUST = D.entity("customer")
NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL


# --- phones ----------------------------------------------------------------------------------


def _national(nsn: str) -> str:
    """phonenumbers' NATIONAL format of a CN national significant number."""
    num = phonenumbers.PhoneNumber(country_code=86, national_number=int(nsn))
    return str(phonenumbers.format_number(num, NATIONAL))


def _landline_agrees(nsn: str) -> None:
    parsed = phonenumbers.parse("0" + nsn, "CN")
    valid = phonenumbers.is_valid_number(parsed)
    want = phonenumbers.format_number(parsed, NATIONAL)
    fast = phones._fast_landline(nsn)
    assert fast is None or (valid and fast == want), nsn
    assert phones.canonical_phone("0" + nsn) == (want if valid else None), nsn


# ASCII digits throughout: phonenumbers folds other scripts' digits (which NFKC leaves alone),
# while the shape patterns' \d lets them through to the fast paths, which keep them as typed.
@given(st.from_regex(r"(?:10|2[0-9]|[3-9][0-9]{2})[0-9]{7,8}", fullmatch=True))
def test_landline_fast_path_over_area_codes_and_lengths(nsn: str) -> None:
    _landline_agrees(nsn)


def _every_area_code() -> Iterator[str]:
    yield "10"
    yield from (f"2{i}" for i in range(10))
    yield from (str(i) for i in range(300, 1000))


def test_landline_fast_path_for_every_area_code() -> None:
    for area in _every_area_code():
        for subscriber in ("6123456", "61234567", "2000000", "99999999"):
            _landline_agrees(area + subscriber)


@pytest.mark.parametrize(("nsn", "want"), [("2161230456", "021 6123 0456"),
                                           ("57181234567", "0571 8123 4567")])
def test_common_landlines_take_the_fast_path(nsn: str, want: str) -> None:
    assert phones._fast_landline(nsn) == want


@given(st.from_regex(r"[1-9][0-9]{4,11}", fullmatch=True))
def test_format_choice_and_layout_agree_with_phonenumbers(nsn: str) -> None:
    got = phones._format_national(nsn)
    assert (nsn if got is None else got) == _national(nsn)


@given(st.lists(st.from_regex(r"[1-9][0-9]{4,11}", fullmatch=True), min_size=1, max_size=20))
def test_the_re_sub_path_agrees_too(numbers: list[str]) -> None:
    """Formats without a length filter or a ``str.format`` template: the general path."""
    general = tuple(dataclasses.replace(f, lengths=None, fields=None)
                    for f in phones._CN_FORMATS)
    fast = [phones._format_national(nsn) for nsn in numbers]
    saved = phones._CN_FORMATS
    phones._formats_for.cache_clear()
    try:
        phones._CN_FORMATS = general
        assert [phones._format_national(nsn) for nsn in numbers] == fast
    finally:
        phones._CN_FORMATS = saved
        phones._formats_for.cache_clear()


def test_format_helpers() -> None:
    assert phones._lengths(r"(\d{3})(\d{7,8})") == range(10, 12)
    assert phones._lengths(r"(\d{5,6})") == range(5, 7)
    assert phones._lengths(r"(\d{3})(\d+)") is None
    assert phones._lengths(r"(1\d{2})(\d{4})") is None
    assert phones._fields(r"0\1 \2 \3", 3) == "0{0} {1} {2}"
    assert phones._fields(r"\1 \3", 2) is None  # no group 3
    assert phones._fields(r"\g<1>", 1) is None
    assert phones._fields("{\\1}", 1) is None
    assert phones._fields(r"\1\12", 12) is None  # two-digit group numbers


@given(st.text(alphabet=st.sampled_from(list(" 0123456789-()#+转分机extEXTΕхⅹ\u3000\t")),
               max_size=24) | st.text(max_size=24))
def test_extension_precheck_never_hides_an_extension(text: str) -> None:
    if phones._EXT_RE.search(text):
        assert phones._EXT_MARK.search(text)


@pytest.mark.parametrize("ext", ["x12", "X12", " ext 12", "EXT.12", "#12", "-12", "转12",
                                 "分机 12"])
def test_every_extension_marker_passes_the_precheck(ext: str) -> None:
    text = "021 6123 0456" + ext
    assert phones._EXT_MARK.search(text) and phones._EXT_RE.search(text)
    assert phones.canonical_phone(text) == "021 6123 0456 转12"


# --- USCC ------------------------------------------------------------------------------------

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _stdnum(raw: str) -> str | None:
    """What the USCC field made of ``raw`` before its fast path: stdnum's verdict."""
    s = unicodedata.normalize("NFKC", raw).strip().upper()
    try:
        return str(stdnum_uscc.validate(s))
    except Exception:
        return None


def _ours(raw: str) -> str | None:
    try:
        value = parse_value(raw, CUST.field("uscc"))
    except ValueProblem as p:
        assert p.code in ("INVALID_USCC", "EXCEL_ERROR_VALUE")
        return None
    return None if value is None else str(value)


def _valid_uscc() -> st.SearchStrategy[str]:
    body = st.tuples(st.text(alphabet="0123456789", min_size=8, max_size=8),
                     st.text(alphabet=_ALPHABET, min_size=9, max_size=9))
    return body.map(lambda b: b[0] + b[1] + stdnum_uscc.calc_check_digit(b[0] + b[1] + "0"))


@given(st.text(alphabet=_ALPHABET + "IOSVZ", min_size=18, max_size=18))
def test_uscc_random_codes_agree_with_stdnum(code: str) -> None:
    assert _ours(code) == _stdnum(code)
    assert _fast_uscc(code) in (None, _stdnum(code))


@given(_valid_uscc())
def test_valid_uscc_take_the_fast_path(code: str) -> None:
    assert _fast_uscc(code) == code == _stdnum(code) == _ours(code) == _ours(code.lower())


@given(_valid_uscc(), st.integers(0, 17), st.sampled_from(list(_ALPHABET + "IOSVZ -–'`.,/:*\n")),
       st.sampled_from(["replace", "insert", "fullwidth", "spaced"]))
def test_mutated_uscc_agree_with_stdnum(code: str, at: int, char: str, how: str) -> None:
    if how == "replace":
        code = code[:at] + char + code[at + 1:]
    elif how == "insert":
        code = code[:at] + char + code[at:]
    elif how == "fullwidth":
        code = "".join(chr(ord(c) + 0xFEE0) for c in code)
    else:
        code = f" {code[:6]} {code[6:at]}-{code[at:]} "
    assert _ours(code) == _stdnum(code)


# --- URLs ------------------------------------------------------------------------------------


def _url_by_urlsplit(raw: Any) -> str:
    """``schema.values._url`` without its fast path."""
    s = unicodedata.normalize("NFKC", str(raw)).strip()
    if "://" not in s:
        s = "https://" + s
    try:
        parts = urlsplit(s)
    except ValueError:  # a malformed IPv6 host is an invalid URL, not a crash
        raise ValueProblem("INVALID_URL", raw) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or "." not in host or " " in s:
        raise ValueProblem("INVALID_URL", raw)
    return s


def _outcome(parse: Any, raw: Any) -> Any:
    try:
        return parse(raw)
    except ValueProblem as p:
        return (p.code, p.value)


_URLS = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["", "http://", "https://", "HTTP://", "ftp://", "//", "https:/"]),
        st.sampled_from(["", "user@", "a.b@", "u:p@"]),
        st.from_regex(r"[A-Za-z0-9\-_ ]{0,5}(?:\.[A-Za-z0-9\-_]{0,4}){0,3}", fullmatch=True),
        st.sampled_from(["", ":8080", ":", "[::1]", "]"]),
        st.from_regex(r"(?:[/?#@:][!-~ \u00e9\t]{0,10})?", fullmatch=True),
    ),
)


@pytest.mark.parametrize("raw", [
    "https://www.c1.com.cn", "www.c1.com.cn/a?b=1#c", "https://a.b@c", "https://a@b.c",
    "https://u:p@x.com", "https://x.com:8080/", "https://x:1.com", "https://[::1]/",
    "https://x]/", "HTTPS://X.COM", "ftp://x.com", "https://x", "https://x..com",
    "https://-.com", "https://x.com/a b", "https://x.com/\u00e9", "https://x.com/\t",
    "mailto:a@b.com", "ｗｗｗ．ｃ１．ｃｏｍ", "http://x.com?q", "http://x.com#f",
    "https://[/", "x.com]", "http://[x.com",
])
def test_url_edge_cases_agree_with_urlsplit(raw: str) -> None:
    ours = _outcome(lambda r: _url(r, CUST.field("website")), raw)
    assert ours == _outcome(_url_by_urlsplit, raw)
    if "[" in raw and "]" not in raw:
        assert ours == ("INVALID_URL", raw)


@given(_URLS | st.text(max_size=30))
def test_url_fast_path_agrees_with_urlsplit(raw: str) -> None:
    ours = _outcome(lambda r: _url(r, CUST.field("website")), raw)
    assert ours == _outcome(_url_by_urlsplit, raw)


# --- frames ----------------------------------------------------------------------------------

_CELLS = st.one_of(
    st.none(), st.just(float("nan")), st.booleans(), st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, "1", " 1 ", "", "  ", "#N/A", " #ref! ", "是", "否", "east",
                     "华东", "mars", "software;服务", "2026-03-01", "a" * 70, [1], pd.NaT]),
    st.text(max_size=8),
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _by_cell(raw: Any, f: Any) -> Any:
    try:
        return parse_value(raw, f)
    except ValueProblem as p:
        return (p.code, p.value, p.params)


@given(st.sampled_from([f for f in CUST.fields] + list(D.entity("order").fields)),
       st.lists(st.tuples(_CELLS, st.booleans()), max_size=30), st.booleans())
def test_a_column_parses_as_its_cells_do(f: Any, cells: list[tuple[Any, bool]],
                                         with_trusted: bool) -> None:
    values = [v for v, _ in cells]
    skip = [s for _, s in cells] if with_trusted else None
    out, problems = _parse_column(values, value_parser(f), skip)
    for i, raw in enumerate(values):
        if skip is not None and skip[i]:
            assert out[i] is raw and i not in problems
            continue
        want = _by_cell(raw, f)
        if i in problems:
            p = problems[i]
            assert out[i] is None and (p.code, p.value, p.params) == want
        else:
            assert _same(out[i], want), (raw, out[i], want)


@pytest.mark.parametrize("raw", ["#N/A", " #ref! ", "#Value!"])
def test_excel_errors_in_any_case(raw: str) -> None:
    for parse in (lambda r: parse_value(r, CUST.field("name")), value_parser(CUST.field("name"))):
        with pytest.raises(ValueProblem) as exc:
            parse(raw)
        assert (exc.value.code, exc.value.value) == ("EXCEL_ERROR_VALUE", raw.strip().upper())


def test_trusted_cells_are_still_checked() -> None:
    raw = pd.DataFrame({"name": ["甲", "乙" * 201, "丙"], "region": ["mars", "east", "east"],
                        "uscc": ["123", None, "91350100M000100Y43"],
                        "industry": ["it", "it", "zz"]}, index=[5, 6, 7], dtype=object)
    parsed = validate_frame(D, "customer", raw)
    trusted = validate_frame(D, "customer", raw,
                             trusted=pd.DataFrame(True, index=raw.index, columns=raw.columns))
    flagged = {(5, "region"), (5, "uscc"), (6, "name"), (7, "industry")}
    assert {(e.row, e.field) for e in parsed.errors} == flagged
    assert {(e.row, e.field) for e in trusted.errors} == flagged
    assert all(type(e.row) is int for e in parsed.errors)
    assert trusted.frame.loc[5, "region"] == "mars"  # kept as stored, not parsed
    # the same codes either way (pandera's built-in checks report their own names)
    assert ({(e.row, e.field, e.code) for e in trusted.errors}
            == {(e.row, e.field, e.code) for e in parsed.errors})
    assert {e.code for e in trusted.errors if e.field in ("region", "uscc")} == {
        "INVALID_ENUM", "INVALID_USCC"}


@pytest.mark.parametrize("text", ["021 6123 045\u0666", "\u0661\u0663\u0668 1234 5678",
                                  "9\u06655588", "010 6123 4567 转1\u0662"])
def test_digits_of_other_scripts_read_as_phonenumbers_reads_them(text: str) -> None:
    num = phonenumbers.parse(text.split(" 转")[0], "CN")
    want = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    if phonenumbers.is_valid_number(num) and " 转" not in text:
        assert phones.canonical_phone(text) == want
    assert all(ch.isascii() for ch in phones.canonical_phone(text) or "")


def test_columns_parsed_here_skip_what_parsing_checked() -> None:
    codes = CUST.field_codes()
    full = pandera_schema(CUST, codes)
    lean = pandera_schema(CUST, codes, parsed=codes)
    assert list(full.columns) == codes
    assert set(lean.columns) == {"name", "uscc"}  # required / unique remain
    assert not lean.columns["uscc"].checks and lean.columns["uscc"].unique
    # a name is not an identity (dictionary 1.1.0): required, not unique
    assert not lean.columns["name"].nullable and not lean.columns["name"].unique
    order = D.entity("order")
    amount = pandera_schema(order, ["amount"], parsed=["amount"])
    assert "amount" not in amount.columns or not amount.columns["amount"].checks
