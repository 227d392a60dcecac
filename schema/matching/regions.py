"""Chinese provinces and major cities, as they prefix or parenthesise a company name.

A region is kept as a part of the name, never thrown away: 恒通公司 in 北京 and 恒通公司 in
上海 are two companies. Each name maps to a canonical short form (``上海市`` → ``上海``,
``广东省`` → ``广东``); each city knows its province, so ``广东`` and ``深圳`` are compatible
(the province holds the city) while ``深圳`` and ``广州`` are not.
"""

from __future__ import annotations

# province (short form) -> its major cities (short forms); municipalities hold themselves
_PROVINCES: dict[str, tuple[str, ...]] = {
    "北京": ("北京",), "上海": ("上海",), "天津": ("天津",), "重庆": ("重庆",),
    "河北": ("石家庄", "唐山", "保定", "邯郸", "廊坊", "秦皇岛", "沧州"),
    "山西": ("太原", "大同"), "辽宁": ("沈阳", "大连", "鞍山"),
    "吉林": ("长春",), "黑龙江": ("哈尔滨", "大庆"),
    "江苏": ("南京", "苏州", "无锡", "常州", "南通", "徐州", "扬州", "昆山"),
    "浙江": ("杭州", "宁波", "温州", "绍兴", "嘉兴", "金华", "义乌", "台州"),
    "安徽": ("合肥", "芜湖"), "福建": ("福州", "厦门", "泉州"),
    "江西": ("南昌", "赣州"), "山东": ("济南", "青岛", "烟台", "潍坊", "临沂"),
    "河南": ("郑州", "洛阳"), "湖北": ("武汉", "宜昌", "襄阳"),
    "湖南": ("长沙", "株洲"),
    "广东": ("广州", "深圳", "东莞", "佛山", "珠海", "中山", "惠州", "汕头"),
    "海南": ("海口", "三亚"), "四川": ("成都", "绵阳"), "贵州": ("贵阳",),
    "云南": ("昆明",), "陕西": ("西安",), "甘肃": ("兰州",), "青海": ("西宁",),
    "台湾": ("台北",), "内蒙古": ("呼和浩特", "包头"), "广西": ("南宁", "桂林", "柳州"),
    "西藏": ("拉萨",), "宁夏": ("银川",), "新疆": ("乌鲁木齐",),
    "香港": ("香港",), "澳门": ("澳门",),
}
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")

CITY_PROVINCE: dict[str, str] = {
    city: province for province, cities in _PROVINCES.items() for city in cities
}
PROVINCES = frozenset(_PROVINCES)


def _spellings() -> dict[str, str]:
    """Every written form of a region (short, with 省/市/自治区 ...) -> its short form."""
    forms: dict[str, str] = {}
    for short in (*PROVINCES, *CITY_PROVINCE):
        forms[short] = short
        for suffix in _SUFFIXES:
            forms[short + suffix] = short
    return forms


REGION_FORMS: dict[str, str] = _spellings()
NATIONAL = frozenset({"中国", "中华", "全国", "国际", "china"})


def _sizes(ends: bool) -> dict[str, tuple[int, ...]]:
    """First (or last) character -> the lengths of the region forms it begins (ends),
    longest first: a lookup tries only those."""
    sizes: dict[str, set[int]] = {}
    for form in REGION_FORMS:
        if len(form) >= 2:
            sizes.setdefault(form[-1] if ends else form[0], set()).add(len(form))
    return {c: tuple(sorted(v, reverse=True)) for c, v in sizes.items()}


_START_SIZES = _sizes(ends=False)
_END_SIZES = _sizes(ends=True)


def region_at_start(text: str) -> tuple[str, int]:
    """The canonical region ``text`` starts with and its written length, or ``("", 0)``."""
    for size in _START_SIZES.get(text[:1], ()):
        if size <= len(text) and (short := REGION_FORMS.get(text[:size])) is not None:
            return short, size
    return "", 0


def region_at_end(text: str) -> tuple[str, int]:
    """The canonical region ``text`` ends with and its written length, or ``("", 0)``."""
    for size in _END_SIZES.get(text[-1:], ()):
        if size <= len(text) and (short := REGION_FORMS.get(text[-size:])) is not None:
            return short, size
    return "", 0


def canonical_region(text: str) -> str:
    """The short form of a whole region name (``广东省深圳市`` → ``深圳``), or ``""``."""
    found = ""
    while text:
        short, size = region_at_start(text)
        if not size:
            return ""
        found, text = short, text[size:]
    return found


def compatible_regions(region: str) -> frozenset[str] | None:
    """Every region :func:`regions_compatible` with ``region`` (``""`` included), for
    filtering candidates by set membership; None when ``region`` is unknown (all are)."""
    if not region:
        return None
    found = {"", region, CITY_PROVINCE.get(region, "")}
    found.update(_PROVINCES.get(region, ()))
    return frozenset(found)


def regions_compatible(a: str, b: str) -> bool:
    """Whether two regions can be one place: equal, either unknown, or province and its city."""
    if not a or not b or a == b:
        return True
    return CITY_PROVINCE.get(a) == b or CITY_PROVINCE.get(b) == a
