"""Watched-word lexicons matched with one Aho–Corasick automaton (pyahocorasick).

Each category (``ad``, ``money``, ``sensitive``, ``abuse``) is a text file in
``lexicons/``: one entry per line, ``word [TAB weight [TAB py]]``, ``#`` comments.
Entries are normalised exactly like messages (:func:`shequn.text.normalize`, compact
form), so one entry covers its full-width, traditional and spaced variants. Entries
flagged ``py`` are also matched on the pinyin form of the message, catching
homophones (``加威信``, ``加薇信`` → ``加微信``).

Reasons are ``Reason("lexicon.<category>", word, weight)`` and, for homophones,
``Reason("pinyin.<category>", "<pinyin>≈<word>", weight * 0.9)``; words are quoted in
their normalised form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

import ahocorasick
import msgspec

from shequn.features.moderation.verdict import Reason
from shequn.text import normalize, pinyin_form

__all__ = ["CATEGORIES", "Entry", "Lexicon", "default_entries", "parse_lexicon"]

CATEGORIES = ("ad", "money", "sensitive", "abuse")
_PINYIN_DISCOUNT = 0.9


class Entry(msgspec.Struct, frozen=True):
    """One watched word in its normalised (compact) form."""

    word: str
    category: str
    weight: float
    pinyin: bool = False


def parse_lexicon(text: str, category: str) -> list[Entry]:
    """Entries of one lexicon file's text."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        word = normalize(parts[0]).compact
        weight = float(parts[1]) if len(parts) > 1 and parts[1].strip() else 0.6
        py = len(parts) > 2 and parts[2].strip() == "py"
        if word:
            out.append(Entry(word, category, max(0.0, min(1.0, weight)), py))
    return out


@cache
def default_entries() -> tuple[Entry, ...]:
    """The lexicons shipped in the package."""
    folder = resources.files("shequn.features.moderation") / "lexicons"
    entries: list[Entry] = []
    for category in CATEGORIES:
        entries += parse_lexicon((folder / f"{category}.txt").read_text("utf-8"), category)
    return tuple(entries)


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _as_bytes(text: str) -> str:
    """``text``'s UTF-8 bytes as a Latin-1 string: what the word automaton matches on.

    pyahocorasick looks a node's children up one by one, so a root with thousands of
    CJK children makes every character cost thousands of steps; on UTF-8 bytes no node
    has more than 256 (about 8x faster with a 20,000-word lexicon). ASCII is unchanged,
    and a non-ASCII character's bytes are never in ``_WORD_CHARS``, so the Latin word
    boundary checks work on this form as they do on the text.
    """
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


class Lexicon:
    """All watched words of one settings profile, compiled once."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._words = ahocorasick.Automaton()
        self._pinyin = ahocorasick.Automaton()
        self.size = 0
        best: dict[str, Entry] = {}
        for e in entries:
            existing = best.get(e.word)
            if existing is None or existing.weight < e.weight:
                best[e.word] = e
            if e.pinyin and not e.word.isascii():
                key = pinyin_form(e.word)
                if not key.isascii():  # a character pypinyin does not know
                    continue
                weight = round(e.weight * _PINYIN_DISCOUNT, 3)
                reason = Reason(f"pinyin.{e.category}", f"{key.strip()}≈{e.word}", weight)
                self._pinyin.add_word(key, (e.word, len(key), (e.category, reason)))
            self.size += 1
        for word, e in best.items():
            # an ASCII word must not match inside a longer Latin word ("sb" in "sbin");
            # the (category, reason) pair is built once and shared by every match
            hit = (e.category, Reason(f"lexicon.{e.category}", e.word, e.weight))
            key = _as_bytes(word)
            self._words.add_word(
                key, (word, len(key), word[0] in _WORD_CHARS, word[-1] in _WORD_CHARS, hit)
            )
        self._words.make_automaton()
        self._has_pinyin = len(self._pinyin) > 0
        if self._has_pinyin:
            self._pinyin.make_automaton()

    @classmethod
    def build(
        cls,
        extra: Mapping[str, Iterable[str]] | None = None,
        *,
        extra_weight: float = 0.8,
        include_defaults: bool = True,
    ) -> Lexicon:
        """The shipped lexicons (unless excluded) plus a group's own words."""
        entries = list(default_entries()) if include_defaults else []
        for category, words in (extra or {}).items():
            for w in words:
                norm = normalize(w).compact
                if norm:
                    entries.append(Entry(norm, category, extra_weight, True))
        return cls(entries)

    def match(
        self, compact_text: str, *, allowed: frozenset[str] = frozenset()
    ) -> list[tuple[str, Reason]]:
        """``(category, reason)`` for every distinct watched word in the text."""
        seen: set[str] = set()
        out: list[tuple[str, Reason]] = []
        text = _as_bytes(compact_text)
        last = len(text) - 1
        for end, (word, size, check_start, check_end, hit) in self._words.iter(text):
            if word in seen or word in allowed:
                continue
            if check_start:
                start = end - size
                if start >= 0 and text[start] in _WORD_CHARS:
                    continue
            if check_end and end < last and text[end + 1] in _WORD_CHARS:
                continue
            seen.add(word)
            out.append(hit)
        if self._has_pinyin and not compact_text.isascii():
            py = pinyin_form(compact_text)
            for end, (word, size, hit) in self._pinyin.iter(py):
                if word in seen or word in allowed:
                    continue
                start = end - size + 1
                if start > 0 and py[start - 1] != " ":
                    continue
                seen.add(word)
                out.append(hit)
        return out
