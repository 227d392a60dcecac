"""A seeded, deterministic labelled set of Chinese company records with legal-entity keys.

Each :class:`LabelledRecord` carries the answer: the legal entity it belongs to and, for a
branch, the head office's entity. The records vary the way years of sales sheets do:

- names: legal forms dropped, shortened (公司) or swapped (有限责任公司), industry word
  dropped, region prefixed (北京 / 北京市 / 广东省深圳市), parenthesised in any bracket
  style (（北京） 【北京】 [北京]) or left out, full-width letters and digits, spaces
  (U+3000 included), traditional characters, department suffixes (销售部: the same entity),
  one-character typos (homophones and look-alikes);
- phones in many formats (010-6552 8888转123, +86 10 ..., 138 0013 8000), two in a cell,
  and a contact's own mobile that no other row shares;
- e-mails on the company's domain or on free mail (qq.com, 163.com ...);
- USCCs spaced, lower case or full-width, some with a wrong character (invalid check);
- addresses with 省/市 spelt out or not;
- branches (上海分公司, 华东分部, 办事处): their own entity, with the head office as parent,
  sharing its e-mail domain;
- hard negatives: the same stem and trade in another city (恒通科技 in 北京 and 上海), the same
  stem in another trade in the same city (恒通科技 / 恒通物流), and a homophone stem in the same
  city and trade (华为 / 华伟).

:func:`existing_records` makes many plain records fast, for the blocking scale runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations

import opencc

from schema.matching import CompanyRecord
from schema.matching.signals import USCC_ALPHABET, uscc_check_char

SEED = 20261202
_S2T = opencc.OpenCC("s2t")
_STEM_CHARS = ("恒通华为宏达信源盛泰鑫隆兴旺德康佳利丰瑞祥和安永嘉新天宇博远创智金星辰"
               "腾飞龙凯美捷汇联众诚正大鼎中科蓝海峰成越皓晨亿顺易思")
_HOMOPHONES = {"为": "伟", "伟": "为", "通": "同", "同": "通", "达": "大", "大": "达",
               "信": "新", "新": "信", "源": "元", "盛": "胜", "泰": "太", "鑫": "新",
               "隆": "龙", "龙": "隆", "兴": "星", "星": "兴", "德": "得", "康": "坤",
               "佳": "嘉", "嘉": "佳", "利": "力", "丰": "峰", "峰": "丰", "瑞": "锐",
               "祥": "翔", "和": "合", "安": "按", "永": "勇", "天": "添", "宇": "雨",
               "博": "搏", "远": "元", "创": "闯", "智": "志", "金": "今", "辰": "晨",
               "晨": "辰", "腾": "藤", "飞": "菲", "凯": "恺", "美": "梅", "捷": "杰",
               "汇": "会", "联": "连", "众": "重", "诚": "成", "成": "诚", "正": "政",
               "鼎": "顶", "中": "忠", "科": "可", "蓝": "兰", "海": "还", "越": "跃",
               "皓": "浩", "亿": "忆", "顺": "舜", "易": "益", "思": "斯", "恒": "衡",
               "华": "化", "宏": "鸿", "旺": "望"}
_INDUSTRIES = ("科技", "贸易", "实业", "电子", "物流", "信息技术", "机械", "建设", "医药",
               "食品", "文化传媒", "环保", "新材料", "商贸", "网络科技", "咨询")
_LEGAL = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
_CITIES = (("北京", "", "010"), ("上海", "", "021"), ("天津", "", "022"), ("重庆", "", "023"),
           ("广州", "广东", "020"), ("深圳", "广东", "0755"), ("杭州", "浙江", "0571"),
           ("南京", "江苏", "025"), ("苏州", "江苏", "0512"), ("武汉", "湖北", "027"),
           ("成都", "四川", "028"), ("西安", "陕西", "029"), ("青岛", "山东", "0532"),
           ("厦门", "福建", "0592"), ("长沙", "湖南", "0731"), ("郑州", "河南", "0371"))
_ROADS = ("中山路", "人民路", "建设大道", "科技园路", "解放路", "长江路", "东风路", "滨江大道")
_DISTRICTS = ("高新区", "开发区", "经济技术开发区", "朝阳区", "南山区", "江北区", "天河区")
_DEPARTMENTS = ("销售部", "采购部", "财务部", "市场部", "技术部")
_BRANCH_WORDS = ("分公司", "分公司", "办事处", "分部")
_FREE_MAIL = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com",
              "foxmail.com", "139.com")
_FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "abcdefghijklmnopqrstuvwxyz()-"}


@dataclass(frozen=True, slots=True)
class LabelledRecord:
    """A record and its answer key: its legal entity, and a branch's head-office entity."""

    record: CompanyRecord
    entity: int
    parent: int | None = None


@dataclass
class _Entity:
    """A legal entity the records are drawn from."""

    ident: int
    stem: str
    industry: str
    city: tuple[str, str, str]
    legal: str
    uscc: str
    phones: list[str]
    domain: str
    address: str
    branch: str = ""
    head: _Entity | None = None
    twinned: bool = False
    records: int = 1
    department_ok: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def _uscc(rng: random.Random) -> str:
    body = "91" + "".join(rng.choices("0123456789", k=6)) + "".join(
        rng.choices(USCC_ALPHABET, k=9))
    return body + uscc_check_char(body)


def _landline(rng: random.Random, area: str) -> str:
    digits = 8
    return f"{area}-{rng.choice('2345678')}{''.join(rng.choices('0123456789', k=digits - 1))}"


def _mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "186", "158", "177", "189")) + "".join(
        rng.choices("0123456789", k=8))


def _domain(rng: random.Random) -> str:
    letters = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(5, 9)))
    return letters + rng.choice((".com", ".cn", ".com.cn", ".net"))


def _address(rng: random.Random, city: tuple[str, str, str]) -> str:
    province = f"{city[1]}省" if city[1] else ""
    return (f"{province}{city[0]}市{rng.choice(_DISTRICTS)}{rng.choice(_ROADS)}"
            f"{rng.randint(1, 999)}号")


class _World:
    """The entities of one generated set, kept apart by (stem, industry, city, branch)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.entities: list[_Entity] = []
        self.taken: set[tuple[str, str, str, str]] = set()

    def new(self, stem: str, industry: str, city: tuple[str, str, str], **kw: object) -> _Entity:
        rng = self.rng
        e = _Entity(ident=len(self.entities), stem=stem, industry=industry, city=city,
                    legal=rng.choice(_LEGAL), uscc=_uscc(rng),
                    phones=[_landline(rng, city[2]), _mobile(rng)][: rng.randint(1, 2)],
                    domain=_domain(rng), address=_address(rng, city),
                    records=rng.choice((1, 2, 2, 3, 3, 3, 4, 5)))
        for k, v in kw.items():
            setattr(e, k, v)
        self.entities.append(e)
        self.taken.add((stem, industry, city[0], e.branch))
        return e

    def fresh_stem(self) -> str:
        while True:
            stem = "".join(self.rng.sample(_STEM_CHARS, self.rng.choice((2, 2, 3))))
            if not any(t[0] == stem for t in self.taken):
                return stem

    def free(self, stem: str, industry: str, city: tuple[str, str, str]) -> bool:
        return (stem, industry, city[0], "") not in self.taken


def _homophone(stem: str, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(stem) if c in _HOMOPHONES]
    if not positions:
        return stem
    i = rng.choice(positions)
    return stem[:i] + _HOMOPHONES[stem[i]] + stem[i + 1:]


def _twins(world: _World, e: _Entity) -> None:
    """Hard negatives of ``e``: another city, another trade, a homophone."""
    rng = world.rng
    roll = rng.random()
    if roll < 0.15:
        city = rng.choice([c for c in _CITIES if c[0] != e.city[0]])
        if world.free(e.stem, e.industry, city):
            world.new(e.stem, e.industry, city, twinned=True)
            e.twinned = True
    elif roll < 0.25:
        industry = rng.choice([i for i in _INDUSTRIES if i != e.industry])
        if world.free(e.stem, industry, e.city):
            world.new(e.stem, industry, e.city, twinned=True, department_ok=False)
            e.twinned = True
            e.department_ok = False
    elif roll < 0.35:
        stem = _homophone(e.stem, rng)
        if stem != e.stem and world.free(stem, e.industry, e.city):
            world.new(stem, e.industry, e.city, twinned=True)


def _branches(world: _World, e: _Entity) -> None:
    rng = world.rng
    if rng.random() >= 0.15:
        return
    cities = rng.sample([c for c in _CITIES if c[0] != e.city[0]], rng.randint(1, 2))
    directions = rng.sample(("华东", "华南", "华北", "西南"), len(cities))
    for city, direction in zip(cities, directions, strict=True):
        word = rng.choice(_BRANCH_WORDS)
        qualifier = direction if word == "分部" else city[0]
        branch = world.new(e.stem, e.industry, city, branch=qualifier + word, head=e)
        branch.domain = e.domain


def build_world(entities: int, seed: int) -> list[_Entity]:
    """Head offices, their hard negatives and branches."""
    world = _World(random.Random(seed))
    while len(world.entities) < entities:
        rng = world.rng
        head = world.new(world.fresh_stem(), rng.choice(_INDUSTRIES), rng.choice(_CITIES))
        _twins(world, head)
        _branches(world, head)
    return world.entities


def _region_part(e: _Entity, rng: random.Random) -> tuple[str, str]:
    """(prefix, parenthesised) region text of one written name; both may be empty."""
    city, province, _ = e.city
    roll = rng.random()
    if roll < (0.04 if e.twinned else 0.2):
        return "", ""
    if roll < 0.45:
        return city, ""
    if roll < 0.6:
        return city + "市", ""
    if roll < 0.7 and province:
        return f"{province}省{city}市", ""
    left, right = rng.choice((("（", "）"), ("(", ")"), ("【", "】"), ("[", "]")))
    return "", left + city + right


def _legal_part(e: _Entity, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.2:
        return ""
    if roll < 0.35:
        return "公司"
    if roll < 0.42:
        return "有限责任公司" if e.legal == "有限公司" else "有限公司"
    return e.legal


def _styled(name: str, rng: random.Random) -> str:
    """Spaces, full width and traditional characters, each now and then."""
    if rng.random() < 0.1:
        name = str(_S2T.convert(name))
    if rng.random() < 0.12:
        name = "".join(_FULL_WIDTH.get(c, c) for c in name)
    if rng.random() < 0.15:
        i = rng.randrange(1, len(name))
        name = name[:i] + rng.choice((" ", "\u3000", "  ")) + name[i:]
    return name


def _name(e: _Entity, rng: random.Random) -> str:
    """One way a person wrote ``e``'s name."""
    typo = rng.random() < 0.05 and not e.twinned  # a twin's typo may write the other's name
    stem = _homophone(e.stem, rng) if typo else e.stem
    industry = "" if rng.random() < 0.1 and not e.twinned else e.industry
    if e.head is not None:
        head = e.head
        prefix, paren = _region_part(head, rng)
        legal = _legal_part(head, rng) or "公司"
        name = f"{prefix}{stem}{industry}{paren}{legal}{rng.choice(('', '', '-', ' '))}{e.branch}"
    else:
        prefix, paren = _region_part(e, rng)
        name = f"{prefix}{stem}{industry}{paren}{_legal_part(e, rng)}"
        if e.department_ok and rng.random() < 0.12:
            name += rng.choice(("", "-", " ", "·")) + rng.choice(_DEPARTMENTS)
    return _styled(name, rng)


def _phone_cell(e: _Entity, rng: random.Random) -> str:
    if rng.random() < 0.4:
        return ""
    number = rng.choice(e.phones)
    if number.startswith("0"):
        area, local = number.split("-")
        number = rng.choice((f"{area}-{local}", f"({area}){local[:4]} {local[4:]}",
                             f"+86 {area[1:]} {local}", f"{area}{local}",
                             f"{area}-{local}转{rng.randint(100, 899)}",
                             f"{area}-{local} 分机{rng.randint(10, 99)}"))
    else:
        number = rng.choice((number, f"{number[:3]} {number[3:7]} {number[7:]}",
                             f"+86 {number}", f"{number[:3]}-{number[3:7]}-{number[7:]}"))
    roll = rng.random()
    if roll < 0.15:
        number += rng.choice(("/", "；", ", ", "、")) + _mobile(rng)  # a contact's own mobile
    elif roll < 0.25:
        return _mobile(rng)
    return number


def _email_cell(e: _Entity, rng: random.Random) -> str:
    roll = rng.random()
    user = rng.choice(("sales", "info", "zhang.wei", "li.na", "wang", "contact", "hr"))
    if roll < 0.45:
        return f"{user}@{e.domain}"
    if roll < 0.7:
        return f"{user}{rng.randint(1, 9999)}@{rng.choice(_FREE_MAIL)}"
    return ""


def _uscc_cell(e: _Entity, rng: random.Random) -> str:
    if rng.random() >= 0.35:
        return ""
    code = e.uscc
    if rng.random() < 0.12:
        i = rng.randrange(2, 17)
        wrong = rng.choice([c for c in USCC_ALPHABET if c != code[i]])
        code = code[:i] + wrong + code[i + 1:]
    style = rng.random()
    if style < 0.2:
        return f"{code[:6]} {code[6:12]} {code[12:]}"
    if style < 0.3:
        return code.lower()
    if style < 0.4:
        return "".join(_FULL_WIDTH.get(c, c) for c in code)
    return code


def _address_cell(e: _Entity, rng: random.Random) -> str:
    if rng.random() >= 0.4:
        return ""
    address = e.address
    if rng.random() < 0.4:
        address = address.replace("省", "").replace("市", "", 1)
    if rng.random() < 0.2:
        address = "".join(_FULL_WIDTH.get(c, c) for c in address)
    return address


def labelled_companies(entities: int = 1300, seed: int = SEED) -> list[LabelledRecord]:
    """The labelled set: about 2.8 records per entity, shuffled (see the module docstring)."""
    rng = random.Random(seed + 1)
    out: list[LabelledRecord] = []
    for e in build_world(entities, seed):
        parent = e.head.ident if e.head is not None else None
        for _ in range(e.records):
            record = CompanyRecord(name=_name(e, rng), uscc=_uscc_cell(e, rng),
                                   phone=_phone_cell(e, rng), email=_email_cell(e, rng),
                                   address=_address_cell(e, rng))
            out.append(LabelledRecord(record, e.ident, parent))
    rng.shuffle(out)
    return out


# stems of stored customers: the 72 name characters above and 500 more CJK ideographs
_STORED_CHARS = _STEM_CHARS + "".join(chr(0x4E00 + (i * 37) % 0x51A5) for i in range(500))


def existing_records(count: int, seed: int = SEED) -> Iterator[CompanyRecord]:
    """``count`` plain stored customers, fast: a stem, trade, city, phone, domain, USCC each."""
    rng = random.Random(seed + 2)
    for _ in range(count):
        city = rng.choice(_CITIES)
        stem = "".join(rng.choices(_STORED_CHARS, k=rng.choice((2, 3, 3, 4))))
        yield CompanyRecord(
            name=f"{city[0]}{stem}{rng.choice(_INDUSTRIES)}{rng.choice(_LEGAL)}",
            uscc=_uscc(rng) if rng.random() < 0.5 else "",
            phone=_landline(rng, city[2]) if rng.random() < 0.7 else "",
            email=f"info@{_domain(rng)}" if rng.random() < 0.5 else "",
        )


def true_pairs(labels: list[int]) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, whose labels are equal."""
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    return {pair for members in groups.values() for pair in combinations(members, 2)}


def pairwise_scores(truth: list[int], predicted: list[int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering against the answer key."""
    want, got = true_pairs(truth), true_pairs(predicted)
    hits = len(want & got)
    precision = hits / len(got) if got else 1.0
    recall = hits / len(want) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1
