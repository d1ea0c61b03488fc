"""Search tokens: the same folding on both sides, jieba words for Chinese.

Text goes through :func:`shequn.text.normalize` (full-width → half-width, traditional
→ simplified, casefold) and is split into runs of letters and digits. A Chinese run is
cut with jieba's search mode (``北京大学`` → ``北京 大学 北京大学``) without HMM new-word
guessing (so a query is cut the same way as the message it should find), and every
Chinese character of a longer word is kept as a token too, so a one-character query
(``猫``) finds ``猫咪``.

Tokens hold only letters and digits (Unicode categories L and N): both FTS5's
``unicode61`` tokenizer and PostgreSQL's ``array_to_tsvector`` then see exactly these
tokens, which is what makes the two engines return the same rows.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from typing import Any

from shequn.text import normalize, to_simplified

__all__ = ["fold", "fold_map", "index_tokens", "query_tokens"]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
# Letters and digits of any script; "_" is a word character for re but not a letter.
_RUN = re.compile(r"[^\W_]+")
#: Longest token kept: a 500-character "word" is a hash or base64, not a search term.
MAX_TOKEN = 40


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _letters_digits(run: str) -> list[str]:
    """Split ``run`` where a character is not a letter or digit (categories L*, N*)."""
    out: list[str] = []
    cur: list[str] = []
    for ch in run:
        if unicodedata.category(ch)[0] in "LN":
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def _pieces(light: str) -> list[tuple[str, bool]]:
    """``(piece, is_chinese)`` for each run of letters/digits, Chinese split from the rest."""
    out: list[tuple[str, bool]] = []
    for run in _RUN.findall(light):
        for word in _letters_digits(run):
            if not _HAS_CJK.search(word):
                out.append((word, False))
                continue
            pos = 0
            for m in _CJK_RUN.finditer(word):
                if m.start() > pos:
                    out.append((word[pos : m.start()], False))
                out.append((m.group(), True))
                pos = m.end()
            if pos < len(word):
                out.append((word[pos:], False))
    return out


def index_tokens(text: str) -> list[str]:
    """The distinct tokens of a message, in first-seen order."""
    seen: dict[str, None] = {}
    for piece, chinese in _pieces(normalize(text).light):
        if not chinese:
            if len(piece) <= MAX_TOKEN:
                seen[piece] = None
            continue
        for w in _jieba().cut_for_search(piece, HMM=False):
            seen[w] = None
            if len(w) > 1:
                for ch in w:
                    seen[ch] = None
    return list(seen)


def query_tokens(query: str) -> list[str]:
    """The tokens a message must all hold to match ``query`` (jieba's precise cut)."""
    seen: dict[str, None] = {}
    for piece, chinese in _pieces(normalize(query).light):
        if not chinese:
            seen[piece[:MAX_TOKEN]] = None
            continue
        for w in _jieba().lcut(piece, HMM=False):
            seen[w] = None
    return list(seen)


def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def fold_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded as for search, with the index in ``text`` of each folded character.

    Used to place highlights in the *original* text: the folding is done one character
    at a time, so every folded character knows where it came from.
    """
    parts = [_fold_char(ch) for ch in text]
    folded = "".join(parts)
    simplified = to_simplified(folded)
    if len(simplified) == len(folded):
        folded = simplified
    else:  # a phrase conversion changed the length: convert character by character
        parts = [to_simplified(p) for p in parts]
        folded = "".join(parts)
    index: list[int] = []
    for i, p in enumerate(parts):
        index.extend([i] * len(p))
    return folded, index


def fold(text: str) -> str:
    """The folded form of a query term (as :func:`fold_map` folds message text)."""
    return fold_map(text)[0]
