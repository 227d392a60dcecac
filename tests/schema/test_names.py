"""The name key folds width, case, bracket styles and separators, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.names import name_key, same_name


@pytest.mark.parametrize(("typed", "stored"), [
    ("ＡＣＭＥ Trading", "ACME Trading"),
    ("acme trading", "ACME Trading"),
    ("ACME Trading ", "ACME Trading"),
    ("ACME\u3000Trading", "ACME Trading"),
    ("星辰科技(上海)有限公司", "星辰科技（上海）有限公司"),
    ("星辰科技【上海】有限公司", "星辰科技（上海）有限公司"),
    ("星辰科技 (上海) 有限公司", "星辰科技（上海）有限公司"),
    ("Jean-Luc Café", "jean luc café"),
])
def test_variants_people_type_have_one_key(typed: str, stored: str) -> None:
    assert same_name(typed, stored)


@pytest.mark.parametrize(("a", "b"), [
    ("星辰科技", "星辰科技有限公司"),  # a legal form is meaning, not style
    ("恒通公司", "恒通工司"),
    ("ACME Trading", "ACME Trade"),
])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert not same_name(a, b)


@given(st.text())
def test_the_key_is_idempotent(text: str) -> None:
    assert name_key(name_key(text)) == name_key(text)


@given(st.text())
def test_the_key_ignores_surrounding_space_and_case(text: str) -> None:
    assert name_key(f"  {text.casefold()}\t") == name_key(text)
