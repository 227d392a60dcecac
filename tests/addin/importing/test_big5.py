"""Big5 text is read as Big5, GB18030 text stays GB18030: files written at test time with
Taiwanese company names (Big5, and Windows' Big5 cp950) and mainland ones (GBK/GB18030)."""

from __future__ import annotations

from pathlib import Path

import pytest

from addin.importing.files import read_tables
from addin.importing.text import detect_encoding

TAIWAN = [("台積電股份有限公司", "張志明", "02-12345678"),
          ("鴻海精密工業股份有限公司", "李美玲", "02-22683466"),
          ("聯發科技股份有限公司", "王建國", "03-5670766"),
          ("中華電信股份有限公司", "陳淑芬", "02-23443488"),
          ("長榮海運股份有限公司", "林家豪", "02-25001668"),
          ("華碩電腦股份有限公司", "黃雅婷", "02-28943447")]
MAINLAND = [("北京恒通科技有限公司", "张三", "13800138000"),
            ("上海星辰贸易有限公司", "李四", "13900139000"),
            ("深圳华强电子有限公司", "王五", "13700137000"),
            ("广州白云国际物流有限公司", "赵六", "13600136000")]


def _csv(tmp_path: Path, header: str, rows: list[tuple[str, str, str]], encoding: str,
         name: str) -> Path:
    path = tmp_path / name
    text = "\r\n".join([header, *(",".join(r) for r in rows)]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["big5", "cp950"])
@pytest.mark.parametrize("count", [1, 3, len(TAIWAN)])
def test_big5_files_are_read_as_big5(tmp_path: Path, encoding: str, count: int) -> None:
    path = _csv(tmp_path, "公司名稱,聯絡人,電話", TAIWAN[:count], encoding, "客戶.csv")
    [t] = read_tables(path)
    assert t.encoding in ("big5", "cp950")
    assert t.columns == ["公司名稱", "聯絡人", "電話"]
    assert [tuple(r) for r in t.rows] == TAIWAN[:count]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
@pytest.mark.parametrize("count", [1, 2, len(MAINLAND)])
def test_gb18030_files_stay_gb18030(tmp_path: Path, encoding: str, count: int) -> None:
    path = _csv(tmp_path, "公司名称,联系人,手机", MAINLAND[:count], encoding, "客户.csv")
    [t] = read_tables(path)
    assert t.encoding == "gb18030"
    assert [tuple(r) for r in t.rows] == MAINLAND[:count]


@pytest.mark.parametrize("name", [n for n, _, _ in TAIWAN] + ["統一企業", "台灣大哥大"])
def test_a_lone_traditional_name(name: str) -> None:
    assert detect_encoding(name.encode("big5")) == "big5"


@pytest.mark.parametrize("name", [n for n, _, _ in MAINLAND] + ["华硕电脑", "统一企业", "请"])
def test_a_lone_simplified_name(name: str) -> None:
    assert detect_encoding(name.encode("gb18030")) == "gb18030"


def test_traditional_text_in_gb18030_stays_gb18030() -> None:
    """GBK holds traditional characters too: a Hong Kong name written by a mainland
    program is GB18030, and its characters are common in that reading."""
    for name, _, _ in TAIWAN:
        assert detect_encoding(name.encode("gb18030")) == "gb18030"
