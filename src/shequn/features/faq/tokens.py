"""Tokens for BM25: jieba words for Chinese, stemmed lower-case words for English.

Text first goes through :func:`shequn.text.normalize` (traditional → simplified,
full-width → half-width, casefold), so 「怎麼簽到」 and 「怎么签到」 share tokens.
"""

from __future__ import annotations

import logging
import re
from functools import cache

from shequn.text.normalize import normalize

__all__ = ["stem", "tokenize"]

_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9_+#.]*[a-z0-9+#]|[a-z0-9]")

# Function words only: content words such as "how"/"why" are kept because they tell
# "how do I..." from "why does..." questions apart.
# Word lists as one string each: easier to read and edit than a list of literals.
_EN_STOP = frozenset(
    "a an the is are was were be been am do does did i me my you your it its to of in on "  # noqa: SIM905
    "for with and or at by from this that these those there can could would should will "
    "any some so as if into about up out than then them they we our us he she his her "
    "what which who whom".split()
)
_ZH_STOP = frozenset(
    "的 了 吗 呢 啊 吧 呀 是 我 你 在 和 有 么 都 也 就 请问 一下 一个 这个 那个".split()  # noqa: SIM905
)


def stem(word: str) -> str:
    """A light English stemmer: plural, -ing, -ed, -ly (enough for FAQ paraphrases)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            word = word[: -len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # running → runn → run
    return word.rstrip("e") if len(word) > 4 else word


@cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def _zh_tokens(run: str) -> list[str]:
    jieba = _jieba()
    words = [w for w in jieba.lcut(run) if w not in _ZH_STOP]  # type: ignore[attr-defined]
    # Single characters as well: users write 签到 / 打卡 / 签 in many ways, and jieba
    # segments a short question differently from a long one.
    chars = [c for c in run if c not in _ZH_STOP]
    return words + chars if len(run) > 1 else words


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text`` (may repeat; order kept)."""
    light = normalize(text).light
    out: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(light):
        out += [stem(w) for w in _WORD.findall(light[pos : m.start()]) if w not in _EN_STOP]
        out += _zh_tokens(m.group())
        pos = m.end()
    out += [stem(w) for w in _WORD.findall(light[pos:]) if w not in _EN_STOP]
    return out
