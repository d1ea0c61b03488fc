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

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from operator import itemgetter

import ahocorasick
import msgspec

from shequn.features.moderation.verdict import Reason
from shequn.text import normalize, pinyin_form

__all__ = ["CATEGORIES", "Entry", "Lexicon", "default_entries", "parse_lexicon"]

CATEGORIES = ("ad", "money", "sensitive", "abuse")
_PINYIN_DISCOUNT = 0.9
Hit = tuple[str, Reason]


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


#: Runs of Latin letters and digits; splitting on it (kept) and joining the pieces with
#: a mark puts the mark on every edge of a Latin word, the text's ends included.
_LATIN_RUN = re.compile(r"([a-z0-9]+)")
_MARK = "\x01"
_SECOND = itemgetter(1)


def _keyed(text: str) -> str:
    """What the word automaton matches on: ``text`` with every Latin word edge marked
    (``\\x01``), as its UTF-8 bytes in a Latin-1 string.

    The marks make "an ASCII word must not match inside a longer Latin word" part of
    the automaton: a word keyed the same way carries a mark at each Latin edge of its
    own, so ``sb`` (keyed ``\\x01sb\\x01``) cannot match in ``sbin``, while ``加v``
    (``加\\x01v\\x01``) matches in ``加v 123`` and ``加v信`` but not in ``加vx``. Inside a
    word the marks fall where they fall in the text. No check is left to do per hit,
    so the hits are collected without a Python loop.

    The bytes: pyahocorasick looks a node's children up one by one, so a root with
    thousands of CJK children makes every character cost thousands of steps; on UTF-8
    bytes no node has more than 256 (about 8x faster with a 20,000-word lexicon).
    """
    text = _MARK.join(_LATIN_RUN.split(text))
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


class Lexicon:
    """All watched words of one settings profile, compiled once."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._words = ahocorasick.Automaton()
        self._pinyin = ahocorasick.Automaton()
        self.size = 0
        best: dict[str, Entry] = {}
        pinyin: dict[str, tuple[str, Hit]] = {}
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
                pinyin[" " + key] = (e.word, (e.category, reason))  # a later entry wins
            self.size += 1
        # word id -> the word and its (category, reason), built once and shared by every match
        self._word_of = list(best)
        self._hits: list[Hit] = [
            (e.category, Reason(f"lexicon.{e.category}", e.word, e.weight)) for e in best.values()
        ]
        for i, word in enumerate(self._word_of):
            self._words.add_word(_keyed(word), i)
        self._words.make_automaton()
        id_of = {w: i for i, w in enumerate(self._word_of)}
        # pinyin id -> (word id, hit); keyed with a leading space: a syllable boundary
        self._pinyin_hits = [(id_of[word], hit) for word, hit in pinyin.values()]
        for i, key in enumerate(pinyin):
            self._pinyin.add_word(key, i)
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
        """``(category, reason)`` for every distinct watched word in the text, in the
        order their first match ends; homophones (pinyin) of words not matched follow."""
        ids = dict.fromkeys(map(_SECOND, self._words.iter(_keyed(compact_text))))
        if allowed:
            word_of = self._word_of
            ids = dict.fromkeys(i for i in ids if word_of[i] not in allowed)
        out = list(map(self._hits.__getitem__, ids))
        if self._has_pinyin and not compact_text.isascii():
            py = " " + pinyin_form(compact_text)
            for pid in dict.fromkeys(map(_SECOND, self._pinyin.iter(py))):
                wid, hit = self._pinyin_hits[pid]
                if wid in ids or self._word_of[wid] in allowed:
                    continue
                ids[wid] = None
                out.append(hit)
        return out
