"""Company-name parsing, identity signals and pairwise decisions on hand-written cases."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schema.matching import CompanyRecord, compare, dedupe, parse_company_name, profile
from schema.matching.regions import canonical_region, regions_compatible
from schema.matching.signals import (
    company_domains,
    phones_e164,
    uscc_check_char,
    uscc_neighbours,
    valid_uscc,
)
from schema.names import name_key

USCC = "91350100M000100Y43"  # a valid code (stdnum's own example)


@pytest.mark.parametrize(("typed", "stem", "region", "industry", "legal", "branch", "dept"), [
    ("北京恒通科技有限公司", "恒通", "北京", "科技", "有限公司", "", ""),
    ("恒通科技（北京）有限公司", "恒通", "北京", "科技", "有限公司", "", ""),
    ("恒通科技【北京】有限责任公司", "恒通", "北京", "科技", "有限公司", "", ""),
    ("北京市恒通科技股份有限公司", "恒通", "北京", "科技", "股份有限公司", "", ""),
    ("广东省深圳市华为技术有限公司", "华为", "深圳", "技术", "有限公司", "", ""),
    ("华为技术(中国)有限公司", "华为", "", "技术", "有限公司", "", ""),
    ("恒通公司", "恒通", "", "", "公司", "", ""),
    ("恒通科技集团有限公司", "恒通", "", "科技", "集团有限公司", "", ""),
    ("恆通科技有限公司上海分公司", "恒通", "", "科技", "有限公司", "上海分公司", ""),
    ("恒通科技有限公司（上海分公司）", "恒通", "", "科技", "有限公司", "上海分公司", ""),
    ("A公司-华东分部", "a", "", "", "公司", "华东分部", ""),
    ("恒通科技有限公司北京办事处", "恒通", "", "科技", "有限公司", "北京办事处", ""),
    ("恒通科技有限公司销售部", "恒通", "", "科技", "有限公司", "", "销售部"),
    ("恒通科技有限公司 采购部", "恒通", "", "科技", "有限公司", "", "采购部"),
    ("恒通 科技\u3000有限公司", "恒通", "", "科技", "有限公司", "", ""),
    ("ＡＢＣ科技有限公司", "abc", "", "科技", "有限公司", "", ""),
    ("北京银行", "银行", "北京", "", "", "", ""),
    ("Acme Trading Co., Ltd.", "acmetrading", "", "", "co., ltd.", "", ""),
    ("ACME TRADING CO.,LTD", "acmetrading", "", "", "co., ltd.", "", ""),
    ("Acme Inc.", "acme", "", "", "inc.", "", ""),
    ("Acme LLC", "acme", "", "", "llc", "", ""),
    ("Acme Ltd - Sales", "acme", "", "", "ltd.", "", "sales"),
])
def test_names_are_parsed_into_parts(typed: str, stem: str, region: str, industry: str,
                                     legal: str, branch: str, dept: str) -> None:
    name = parse_company_name(typed)
    assert (name.stem, name.region, name.industry, name.legal_form, name.branch,
            name.department) == (stem, region, industry, legal, branch, dept)


def test_regions_are_kept_and_compared() -> None:
    assert canonical_region("广东省深圳市") == "深圳"
    assert canonical_region("上海市") == "上海"
    assert regions_compatible("广东", "深圳")
    assert not regions_compatible("深圳", "广州")
    assert not regions_compatible("北京", "上海")
    assert regions_compatible("", "上海")


def _rec(name: str, **kw: str) -> CompanyRecord:
    return CompanyRecord(name=name, **kw)


@pytest.mark.parametrize(("a", "b", "decision"), [
    (_rec("A公司"), _rec("A科技有限公司"), "uncertain"),  # the same stem, a trade word more
    (_rec("A公司", phone="010-65528888"), _rec("A科技有限公司", phone="(010) 6552 8888"),
     "same"),
    (_rec("A科技有限公司"), _rec("A公司-华东分部"), "branch_of"),
    (_rec("A科技有限公司"), _rec("A科技有限公司销售部"), "same"),
    (_rec("北京恒通公司"), _rec("上海恒通公司"), "different"),  # 恒通 in two cities
    (_rec("北京恒通公司", uscc=USCC), _rec("上海恒通公司", uscc=USCC), "same"),  # an identity
    (_rec("恒通科技有限公司"), _rec("恒通物流有限公司"), "different"),
    (_rec("华为技术有限公司"), _rec("华伟技术有限公司"), "uncertain"),  # a homophone alone
    (_rec("华为技术有限公司", email="a@huawei.com"), _rec("华伟技术有限公司", email="b@huawei.com"),
     "same"),
    (_rec("华为技术有限公司", email="a@qq.com"), _rec("华伟技术有限公司", email="b@qq.com"),
     "uncertain"),  # free mail says nothing about the company
    (_rec("恒通公司上海分公司"), _rec("恒通公司北京分公司"), "different"),
    (_rec("恆通科技有限公司"), _rec("恒通科技（北京）有限公司"), "same"),
    (_rec("星辰", uscc=USCC), _rec("星辰", uscc="91350100M000100Y56"), "different"),  # two codes
])
def test_pair_decisions(a: CompanyRecord, b: CompanyRecord, decision: str) -> None:
    assert compare(profile(a), profile(b)).decision == decision
    assert compare(profile(b), profile(a)).decision == decision


def test_a_uscc_typo_is_a_hint_not_an_identity() -> None:
    typo = USCC[:5] + "2" + USCC[6:]
    assert not valid_uscc(typo)
    assert USCC in uscc_neighbours(typo)
    match = compare(profile(_rec("甲公司", uscc=typo)), profile(_rec("乙公司", uscc=USCC)))
    assert match.decision != "same" and "uscc_hint" in match.reasons
    hinted = compare(profile(_rec("恒通公司", uscc=typo, phone="021-62345678")),
                     profile(_rec("恒同公司", uscc=USCC)))
    assert hinted.decision == "same" and "uscc_hint" in hinted.reasons


def test_uscc_check_character() -> None:
    assert uscc_check_char(USCC[:17]) == USCC[17]
    assert valid_uscc(USCC) and not valid_uscc(USCC[:17] + "0")


def test_phone_cells_split_into_e164_numbers_without_extensions() -> None:
    assert phones_e164("010-6552 8888转123 / 138 0013 8000") == ("+861065528888",
                                                                 "+8613800138000")
    assert phones_e164("(021)6234-5678 分机 12；021 62345678") == ("+862162345678",)
    assert phones_e164("+86 755 8888 6666, 0755-88886667") == ("+8675588886666",
                                                               "+8675588886667")
    assert phones_e164("not a number") == ()


def test_free_mail_domains_are_personal() -> None:
    assert company_domains("Zhang <zhang@qq.com>; li@huawei.com, x@GMAIL.com") == (
        "huawei.com",)


def test_dedupe_keeps_branches_apart_with_a_parent_link() -> None:
    records = [_rec("恒通科技有限公司", phone="010-65528888"),
               _rec("恒通科技有限公司销售部", phone="010-65528888转8"),
               _rec("恒通科技有限公司上海分公司", phone="021-62345678"),
               _rec("恒通科技(上海分公司)", phone="021-62345678"),
               _rec("上海恒通物流有限公司")]
    result = dedupe(records)
    head, dept, branch, branch2, other = result.cluster_of
    assert head == dept and branch == branch2
    assert len({head, branch, other}) == 3
    assert result.parent == {branch: head}
    assert result.uncertain == []


def test_uncertain_pairs_are_left_for_review() -> None:
    result = dedupe([_rec("华为技术有限公司"), _rec("华伟技术有限公司")])
    assert result.cluster_of[0] != result.cluster_of[1]
    assert result.uncertain == [(0, 1)]


_VARIANT_STYLES = st.sampled_from(["fullwidth", "spaces", "ideographic", "brackets"])


def _variant(name: str, style: str) -> str:
    if style == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    if style == "spaces":
        return " ".join(name)
    if style == "ideographic":
        return "\u3000".join(name)
    return name.replace("(", "【").replace(")", "】")


_NAMES = st.builds(
    lambda stem, region, industry, form: f"{stem}{industry}{region}{form}",
    st.text(alphabet="恒通华为宏达信源盛泰鑫ABCxyz", min_size=2, max_size=5),
    st.sampled_from(["", "(北京)", "(上海)"]),
    st.sampled_from(["", "科技", "贸易"]),
    st.sampled_from(["", "有限公司", "公司"]))


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    name = parse_company_name(text)
    key = name_key(text)
    assert name_key(key) == key
    assert parse_company_name(key) == name


@given(_NAMES, _VARIANT_STYLES)
def test_a_name_and_its_styled_variant_always_match(name: str, style: str) -> None:
    variant = _variant(name, style)
    assume(variant != name)
    assert parse_company_name(variant) == parse_company_name(name)
    assert compare(profile(_rec(name)), profile(_rec(variant))).decision == "same"


@given(st.from_regex(r"(\+86 ?)?(0[1-9][0-9]{1,2}[- ]?[2-8][0-9]{6,7}|1[3-9][0-9]{9})",
                     fullmatch=True))
def test_the_fast_phone_path_agrees_with_phonenumbers(typed: str) -> None:
    import phonenumbers

    from schema.matching.signals import _fast_e164

    fast = _fast_e164(typed)
    number = phonenumbers.parse(typed, "CN")
    slow = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if phonenumbers.is_valid_number(number) else None)
    assert fast in (None, slow)
