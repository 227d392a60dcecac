"""Company names parsed into parts: region, stem, industry, legal form, branch, department.

Built on :func:`schema.names.name_key` (width, case, brackets, separators), then:

- traditional characters become simplified (OpenCC ``t2s``), so 恆通 and 恒通 are one stem;
- parenthesised parts are classified: a region (``（北京）``), a branch (``（上海分公司）``),
  or kept in the stem; ``（中国）`` and other national markers are dropped;
- from the end: a department (``销售部``: the same customer), a branch (``上海分公司``,
  ``华东分部``, ``朝阳支行``: its own customer whose parent is the head office), a legal form
  (``有限公司``, ``Co., Ltd.``, ``集团`` ...), an industry word (``科技``, ``贸易`` ...);
- from the start: a region (``北京``, ``上海市``, ``广东省深圳市``), unless the stem would be
  left with fewer than two characters (北京银行 keeps its name).

The region is a part of the name, never discarded: 恒通公司 in two cities are two companies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from schema.matching.regions import NATIONAL, canonical_region, region_at_end, region_at_start
from schema.matching.simplify import to_simplified
from schema.names import name_key

# longest first; canonical labels for the legal forms people write in several ways
_LEGAL_FORMS: tuple[tuple[str, str], ...] = tuple(sorted((
    ("集团股份有限公司", "集团股份有限公司"), ("集团有限公司", "集团有限公司"),
    ("股份有限公司", "股份有限公司"), ("有限责任公司", "有限公司"), ("有限公司", "有限公司"),
    ("集团公司", "集团"), ("集团", "集团"), ("总公司", "公司"), ("公司", "公司"),
    ("合伙企业", "合伙企业"), ("个体工商户", "个体工商户"),
    ("co.,ltd.", "co., ltd."), ("co.,ltd", "co., ltd."), ("co.ltd.", "co., ltd."),
    ("co.ltd", "co., ltd."), ("coltd", "co., ltd."), ("co.,limited", "co., ltd."),
    ("companylimited", "co., ltd."), ("limited", "ltd."), ("ltd.", "ltd."), ("ltd", "ltd."),
    ("inc.", "inc."), ("inc", "inc."), ("llc", "llc"), ("corp.", "corp."),
    ("corporation", "corp."), ("gmbh", "gmbh"), ("company", "co."), ("co.", "co."),
), key=lambda pair: -len(pair[0])))

_BRANCH_WORDS = ("分公司", "分部", "办事处", "分厂", "营业部", "分行", "支行", "分店", "分社",
                 "分所", "分中心", "代表处", "分院", "分号", "branch", "office")
_DEPARTMENT_WORDS = ("销售部", "市场部", "财务部", "采购部", "技术部", "人事部", "行政部",
                     "客服部", "研发部", "业务部", "工程部", "售后部", "销售中心", "市场中心",
                     "财务中心", "采购中心", "客服中心", "售后服务部", "项目部", "事业部",
                     "销售一部", "销售二部", "外贸部", "设备部", "物流部", "sales",
                     "procurement", "purchasing", "finance", "marketing")
_DIRECTIONS = ("华东", "华南", "华北", "华中", "华西", "西南", "西北", "东北", "东南", "江北",
               "江南", "城南", "城北", "城东", "城西", "浦东", "海淀", "朝阳", "南山", "福田",
               "天河", "滨江", "高新", "开发区", "第一", "第二", "第三")
_INDUSTRIES = tuple(sorted((
    "科技", "技术", "信息技术", "网络科技", "电子科技", "智能科技", "生物科技", "贸易", "商贸",
    "国际贸易", "进出口", "实业", "电子", "电器", "信息", "网络", "软件", "通信", "投资",
    "咨询", "管理咨询", "建设", "建筑", "工程", "建材", "机械", "设备", "机电", "食品", "服装",
    "服饰", "纺织", "医药", "医疗器械", "物流", "供应链", "文化传媒", "传媒", "广告", "环保",
    "新能源", "能源", "化工", "材料", "新材料", "教育", "发展", "控股", "汽车", "汽车配件",
    "房地产", "置业", "物业", "酒店", "餐饮", "农业", "印刷", "包装", "五金", "家具", "塑胶",
    "光电", "照明", "仪器", "自动化", "精密", "制造", "工业", "数据", "人工智能", "金融",
    "健康", "生物", "电力", "运输", "旅游", "体育", "安防", "装饰", "设计", "检测",
), key=lambda word: -len(word)))
_TRAILING_PUNCT = re.compile(r"[.,;:、，。；：()]+$")
_PUNCT_CHARS = frozenset(".,;:、，。；：()")
_PAREN = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name in parts; ``key`` is the whole normalised name (stem, region, branch).

    ``stem`` is what the company is called (恒通), ``industry`` the trade word after it (科技),
    ``legal_form`` the canonical legal form (有限公司), ``region`` the canonical region (北京),
    ``branch`` the branch part including its qualifier (上海分公司) and ``department`` a
    department (销售部) that does not make another customer.
    """

    stem: str
    region: str = ""
    industry: str = ""
    legal_form: str = ""
    branch: str = ""
    department: str = ""

    @property
    def key(self) -> str:
        """One string for equality: the parts that tell two companies apart."""
        return "|".join((self.region, self.stem, self.industry, self.branch))

    @property
    def full_stem(self) -> str:
        """Stem and industry together (恒通科技), the string fuzzy comparison uses."""
        return self.stem + self.industry


class _Suffixes:
    """A set of words looked up by the end of a text, longest first."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = frozenset(words)
        self.sizes = sorted({len(w) for w in words}, reverse=True)


_SUFFIX_SETS: dict[tuple[str, ...], _Suffixes] = {}


def _strip_end(text: str, words: tuple[str, ...]) -> tuple[str, str]:
    """``text`` without the longest of ``words`` it ends with, and that word (``""`` if none)."""
    suffixes = _SUFFIX_SETS.get(words)
    if suffixes is None:
        suffixes = _SUFFIX_SETS[words] = _Suffixes(words)
    for size in suffixes.sizes:
        if len(text) > size and text[-size:] in suffixes.words:
            return text[:-size], text[-size:]
    return text, ""


def _qualifier(text: str) -> tuple[str, str]:
    """A branch's qualifier at the end of ``text`` (a region or a direction) and the rest."""
    short, size = region_at_end(text)
    if size and len(text) > size:
        return text[:-size], short
    rest, direction = _strip_end(text, _DIRECTIONS)
    return (rest, direction) if direction else (text, "")


_LEGAL_BY_FORM = dict(_LEGAL_FORMS)
_LEGAL_SIZES = sorted({len(w) for w in _LEGAL_BY_FORM}, reverse=True)


def _legal_form(text: str) -> tuple[str, str]:
    """``text`` without a trailing legal form, and the canonical form (``""`` if none)."""
    if text[-1:] in _PUNCT_CHARS:
        text = _TRAILING_PUNCT.sub("", text)
    for size in _LEGAL_SIZES:  # longest first, as _LEGAL_FORMS is ordered
        if len(text) > size and (canonical := _LEGAL_BY_FORM.get(text[-size:])) is not None:
            rest = text[:-size]
            return (_TRAILING_PUNCT.sub("", rest) if rest[-1:] in _PUNCT_CHARS else rest,
                    canonical)
    return text, ""


def _parentheses(text: str) -> tuple[str, str, str]:
    """``text`` without its classified parenthesised parts, the region and the branch in them."""
    region = branch = ""
    kept: list[str] = []
    pos = 0
    for found in _PAREN.finditer(text):
        kept.append(text[pos:found.start()])
        pos = found.end()
        inner = found[1]
        inner_region = canonical_region(inner)
        if inner_region:
            region = region or inner_region
        elif inner.endswith(_BRANCH_WORDS):
            branch = inner
        elif inner not in NATIONAL and inner:
            kept.append(inner)
    kept.append(text[pos:])
    return "".join(kept), region, branch


def _branch(text: str) -> tuple[str, str, str]:
    """``text`` without a trailing branch, the branch (qualifier + word) and a legal form."""
    rest, word = _strip_end(text, _BRANCH_WORDS)
    if not word:
        return text, "", ""
    rest, qualifier = _qualifier(rest)
    rest, legal = _legal_form(rest)
    if not qualifier and legal:  # 恒通有限公司北京分公司: the qualifier sits after the form
        rest, qualifier = _qualifier(rest)
    return rest, qualifier + word, legal


def _leading_region(text: str) -> tuple[str, str]:
    """``text`` without a leading region, and the region; a stem keeps at least two chars."""
    region = ""
    while True:
        short, size = region_at_start(text)
        if not size or len(text) - size < 2:
            return text, region
        region, text = short, text[size:]


@lru_cache(maxsize=65536)
def parse_company_name(text: str) -> CompanyName:
    """The parts of a typed company name (see the module docstring)."""
    key = to_simplified(name_key(text))
    key, paren_region, paren_branch = _parentheses(key)
    key, department = _strip_end(key, _DEPARTMENT_WORDS)
    key, branch, legal = _branch(key)
    branch = branch or paren_branch
    key, form = _legal_form(key)
    legal = form or legal
    key, region = _leading_region(key)
    stem, industry = _strip_end(key, _INDUSTRIES)
    if not stem:  # 科技 alone is a name, not an industry
        stem, industry = key, ""
    return CompanyName(stem=stem, region=region or paren_region, industry=industry,
                       legal_form=legal, branch=branch, department=department)
