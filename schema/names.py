"""Name keys: the one normalisation used wherever a name typed by a person is matched.

A reference typed as ``ＡＣＭＥ Trading``, ``acme  trading`` or ``星辰科技(上海)有限公司``
must find ``ACME Trading`` and ``星辰科技（上海）有限公司``; a new customer whose key equals
an existing one's is probably the same company. The key folds what people vary without
meaning to, and nothing else:

- full-width and half-width forms (NFKC: ``Ａ`` → ``A``, ``１`` → ``1``, U+3000 → space);
- letter case (``casefold``);
- bracket styles (``（）【】〔〕［］｛｝《》〈〉<>[]{}`` all become ``()``);
- whitespace of every kind, and the middle dots and dashes that separate name parts
  (``·・‧•-‐‑‒–—―－``), which are dropped.

Import matching (legal-form suffixes, branches, typos) builds on this key; it is not part of
it, since 星辰科技 and 星辰科技有限公司 may be two records a user keeps apart on purpose.
"""

from __future__ import annotations

import re
import unicodedata

_BRACKETS = str.maketrans({
    **dict.fromkeys("（【〔［｛《〈<[{", "("),
    **dict.fromkeys("）】〕］｝》〉>]}", ")"),
})
_DROPPED = re.compile(r"[\s·・‧•\-‐‑‒–—―－_]+")


def name_key(text: str) -> str:
    """The matching key of a typed name (see the module docstring); ``""`` for a blank."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFKC", folded).translate(_BRACKETS)
    return unicodedata.normalize("NFKC", _DROPPED.sub("", folded))


def same_name(a: str, b: str) -> bool:
    """Whether two typed names have the same key."""
    return name_key(a) == name_key(b)
