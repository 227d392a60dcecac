"""Raw cell values parse to canonical values; canonical values parse to themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.dictionary import build_dictionary
from schema.errors import CATALOGUE
from schema.types import Field, FieldType
from schema.values import EXCEL_ERRORS, ValueProblem, parse_value
from tests.bridge.helpers import VALID_USCC
from tests.bridge.test_roundtrip import valid

D = build_dictionary()
CUST = D.entity("customer")
F = {f.type: f for e in D for f in e.fields}


def p(raw: Any, ftype: FieldType) -> Any:
    return parse_value(raw, F[ftype])


@pytest.mark.parametrize(("raw", "want"), [
    ("13812345678", "138 1234 5678"),
    ("+86 138-1234-5678", "138 1234 5678"),
    ("010-12345678转123", "010 1234 5678 转123"),
    ("(021)62345678-8001", "021 6234 5678 转8001"),
    ("400-800-1234", "400 800 1234"),
    ("95588", "95588"),
    ("１３８１２３４５６７８", "138 1234 5678"),
    (13812345678.0, "138 1234 5678"),
    ("+1 650-253-0000", "+1 650-253-0000"),
])
def test_phones(raw: Any, want: str) -> None:
    assert p(raw, FieldType.PHONE) == want
    assert p(want, FieldType.PHONE) == want


@pytest.mark.parametrize("raw", ["23456", "1381234567", "phone", "010-1234"])
def test_bad_phones(raw: str) -> None:
    with pytest.raises(ValueProblem) as exc:
        p(raw, FieldType.PHONE)
    assert exc.value.code == "INVALID_PHONE"


@pytest.mark.parametrize(("raw", "want"), [
    ("2026-03-31", "2026-03-31"), ("2026/3/1", "2026-03-01"), ("2026年3月1日", "2026-03-01"),
    ("２０２６－０３－３１", "2026-03-31"), ("20260331", "2026-03-31"),
    (datetime(2026, 3, 31, 23, 59), "2026-03-31"), (date(2026, 1, 2), "2026-01-02"),
    (46112, "2026-03-31"),
])
def test_dates(raw: Any, want: str) -> None:
    assert p(raw, FieldType.DATE) == want


@pytest.mark.parametrize("raw", ["2026-02-30", "31/03/2026x", "tomorrow", 0])
def test_bad_dates(raw: Any) -> None:
    with pytest.raises(ValueProblem):
        p(raw, FieldType.DATE)


def test_datetimes_are_china_time() -> None:
    assert p("2026-03-31 14:30", FieldType.DATETIME) == "2026-03-31T14:30:00+08:00"
    assert p("2026-03-31T16:30:00Z", FieldType.DATETIME) == "2026-04-01T00:30:00+08:00"


def test_money_numbers_as_text_and_full_width() -> None:
    f = D.entity("order").field("amount")
    assert parse_value("¥1,234.50", f) == 1234.5
    assert parse_value("１２３４", f) == 1234.0
    with pytest.raises(ValueProblem):
        parse_value("12.345", f)
    with pytest.raises(ValueProblem) as exc:
        parse_value(-5, f)
    assert exc.value.code == "OUT_OF_RANGE"


def test_enum_accepts_code_and_both_labels() -> None:
    f = CUST.field("region")
    assert {parse_value(x, f) for x in ("east", "华东", "East China", " east china ")} == {"east"}
    multi = CUST.field("product_lines")
    assert parse_value("服务；Software、software", multi) == "software;service"


def test_uscc_and_excel_errors() -> None:
    f = CUST.field("uscc")
    assert parse_value("91350100m000100y43", f) == "91350100M000100Y43"
    with pytest.raises(ValueProblem) as exc:
        parse_value("91350100M000100Y44", f)
    assert exc.value.code == "INVALID_USCC"
    with pytest.raises(ValueProblem) as exc:
        parse_value("#N/A", f)
    assert exc.value.code == "EXCEL_ERROR_VALUE"


def _fields() -> list[Field]:
    return [f for e in D for f in e.fields]


ANY_RAW = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.dates(),
                   st.booleans())


@given(st.sampled_from(_fields()), ANY_RAW)
def test_any_raw_value_parses_to_a_fixed_point_or_raises_a_catalogued_problem(
        f: Field, raw: Any) -> None:
    """Whatever a cell holds, parsing either gives a canonical value that parses to itself or
    raises the typed problem with a catalogued code (both branches check something)."""
    try:
        canonical = parse_value(raw, f)
    except ValueProblem as exc:
        assert exc.code in CATALOGUE, (f.code, raw, exc.code)
    else:
        assert parse_value(canonical, f) == canonical, (f.code, raw)


def invalid(f: Field) -> st.SearchStrategy[tuple[Any, str]]:
    """Raw values that can never be valid for ``f``, each with the code its problem carries."""
    letters = st.text(st.sampled_from("abcdefghijkmnopqrsuvwxz"), min_size=1, max_size=12)
    excel = st.sampled_from(sorted(EXCEL_ERRORS)).map(lambda e: (e, "EXCEL_ERROR_VALUE"))
    by_type: dict[FieldType, st.SearchStrategy[Any]] = {
        FieldType.INTEGER: letters, FieldType.MONEY: letters,
        FieldType.DATE: st.sampled_from(["2026-02-30", "2026-13-01", "tomorrow", "31/03/2026x"]),
        FieldType.DATETIME: st.sampled_from(["2026-02-30 10:00", "25:61", "soon"]),
        FieldType.EMAIL: letters,
        FieldType.PHONE: st.from_regex(r"[2-9][0-9]{1,3}", fullmatch=True),
        FieldType.URL: letters.map(lambda s: f"ftp://{s}"),
        FieldType.USCC: st.sampled_from(VALID_USCC).map(
            lambda c: c[:-1] + ("0" if c[-1] != "0" else "1")),
        FieldType.BOOLEAN: st.sampled_from(["maybe", "或许", "2", "yes please"]),
        FieldType.ENUM: letters.map(lambda s: f"zz-{s}"),
        FieldType.MULTI_ENUM: letters.map(lambda s: f"zz-{s}"),
    }
    codes = {FieldType.INTEGER: "INVALID_INTEGER", FieldType.MONEY: "INVALID_MONEY",
             FieldType.DATE: "INVALID_DATE", FieldType.DATETIME: "INVALID_DATETIME",
             FieldType.EMAIL: "INVALID_EMAIL", FieldType.PHONE: "INVALID_PHONE",
             FieldType.URL: "INVALID_URL", FieldType.USCC: "INVALID_USCC",
             FieldType.BOOLEAN: "INVALID_BOOLEAN", FieldType.ENUM: "INVALID_ENUM",
             FieldType.MULTI_ENUM: "INVALID_ENUM"}
    if f.type in by_type:
        return st.one_of(excel, by_type[f.type].map(lambda raw: (raw, codes[f.type])))
    if f.max_length is not None:  # text and references: one character too many
        limit = f.max_length
        return st.one_of(excel, st.text(st.sampled_from("客户abc"), min_size=limit + 1,
                                        max_size=limit + 5).map(lambda raw: (raw, "TOO_LONG")))
    return excel


@given(st.data())
def test_invalid_raw_values_raise_the_typed_problem(data: st.DataObject) -> None:
    f = data.draw(st.sampled_from(_fields()))
    raw, code = data.draw(invalid(f))
    with pytest.raises(ValueProblem) as exc:
        parse_value(raw, f)
    assert exc.value.code == code, (f.code, raw)
    assert code in CATALOGUE


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_fast_path_agrees_with_phonenumbers(number: str) -> None:
    import phonenumbers

    parsed = phonenumbers.parse(number, "CN")
    f = D.entity("contact").field("mobile")
    if phonenumbers.is_valid_number(parsed):
        want = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        assert parse_value(number, f) == want
    else:
        with pytest.raises(ValueProblem):
            parse_value(number, f)


def test_trusted_cells_skip_parsing_but_not_checks() -> None:
    import pandas as pd

    from schema.validation import validate_frame

    raw = pd.DataFrame({"name": ["甲", None], "phone": ["not parsed", "010-12345678"]},
                       index=[3, 4], dtype=object)
    trusted = pd.DataFrame({"name": [True, True], "phone": [True, False]}, index=[3, 4])
    res = validate_frame(D, "customer", raw, trusted=trusted)
    assert res.frame.loc[3, "phone"] == "not parsed"  # trusted: left as stored
    assert res.frame.loc[4, "phone"] == "010 1234 5678"
    assert [(e.row, e.field, e.code) for e in res.errors] == [(4, "name", "REQUIRED")]


@given(st.from_regex(r"0[1-9][0-9]{8,10}", fullmatch=True),
       st.sampled_from(["", "-", " "]), st.sampled_from(["", "转12", " ext 8001"]))
def test_landline_fast_path_agrees_with_phonenumbers(number: str, sep: str, ext: str) -> None:
    import phonenumbers

    from schema.phones import _fast_landline

    parsed = phonenumbers.parse(number, "CN")
    valid = phonenumbers.is_valid_number(parsed)
    want = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    fast = _fast_landline(number[1:])
    assert fast is None or (valid and fast == want)
    f = D.entity("contact").field("phone")
    text = number[:3] + sep + number[3:] + ext
    if valid:
        suffix = f" 转{ext.strip().split()[-1].lstrip('转')}" if ext else ""
        assert parse_value(text, f) == want + suffix
    else:
        with pytest.raises(ValueProblem):
            parse_value(text, f)


@given(st.data())
def test_canonical_values_parse_to_themselves(data: st.DataObject) -> None:
    """The push engine compares and trusts canonical values without parsing them again
    (merge, stored and merged cells): parsing one must give it back unchanged."""
    entity = data.draw(st.sampled_from(list(D)))
    f = data.draw(st.sampled_from(entity.fields))
    raw = data.draw(valid(f).filter(lambda v: str(v).strip().upper() not in EXCEL_ERRORS))
    if isinstance(raw, date | datetime):
        raw = raw.isoformat()
    canonical = parse_value(raw, f)  # valid input: a problem here fails the test
    assert parse_value(canonical, f) == canonical, (entity.code, f.code, raw)
