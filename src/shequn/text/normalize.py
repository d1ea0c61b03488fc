"""The matching form of a message: what a spammer's evasion tricks undo to.

:func:`normalize` returns a :class:`Normalized` with two forms (no index map is kept:
moderation reasons quote the *normalised* text, never offsets into the original):

``light``
    NFKC (full-width → half-width, ``①``/``⑴``/``𝟐`` → digits), keycap and dingbat
    digits (``1️⃣``, ``❶``, ``➀``) → ASCII digits, traditional → simplified Chinese
    (OpenCC ``t2s``, one converter per process), ``casefold``, zero-width / invisible /
    bidi-control characters removed (text after a right-to-left override is put back
    in the order it is displayed in), ideographic full stops → ``.``, Cyrillic and Greek
    lookalikes → Latin inside words that also hold Latin letters (``vх`` with Cyrillic
    х → ``vx``; an all-Cyrillic Russian word is left alone), ``➕`` → ``+``, and runs of
    five or more Chinese numerals and digits (``一三八…``, ``壹贰叁…``) → digits (contact
    numbers; a lone numeral at the edge of an ASCII number is left alone: ``…686一样``).
    Spacing is kept, so links and handles are still readable: the link and contact
    detectors use this form.
``compact``
    ``light`` with whitespace and punctuation removed between CJK characters, between
    a CJK character and a letter or digit, between digits, between letters of a word
    (``v.x`` → ``vx``, ``加-V`` → ``加v``, ``加 我 微 信`` → ``加我微信``,
    ``138 1234 5678`` → ``13812345678``) and inside runs of single spaced letters
    (``w e i x i n`` → ``weixin``). Lexicons match this form.

:func:`pinyin_form` gives the toneless pinyin of the CJK characters of a compact text
(``威信`` and ``薇信`` → ``wei xin ``) for homophone matching of watched words; the
character→syllable table comes from pypinyin and is built lazily, once.

Everything is ``str.translate`` and a few compiled regular expressions, so the cost is
linear in the text length (the engine also caps the length it looks at).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import msgspec

__all__ = [
    "Normalized",
    "compact",
    "normalize",
    "pinyin_form",
    "signature_table",
    "strip_invisible",
    "to_simplified",
]

# Invisible characters: zero-width, bidi controls and isolates, BOM, soft hyphen, word
# joiner, variation selectors, Hangul fillers, tag characters, combining keycap.
_INVISIBLE_RANGES = (
    (0x180B, 0x1810),
    (0x200B, 0x2010),
    (0x202A, 0x202F),
    (0x2060, 0x2070),
    (0xFE00, 0xFE10),
    (0xE0000, 0xE0080),
    (0xE0100, 0xE01F0),
)
_INVISIBLE = [
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x20E3, 0x3164, 0xFEFF,
    0xFFA0,
    *(c for lo, hi in _INVISIBLE_RANGES for c in range(lo, hi)),
]  # fmt: skip

_DIGITS: dict[int, str] = {}
for _base, _start in ((0x2776, 1), (0x2780, 1), (0x278A, 1)):  # ❶… ➀… ➊…
    for _i in range(10):
        _DIGITS[_base + _i] = str((_start + _i) % 10) if _i < 9 else "10"
_DIGITS[0x24FF] = "0"  # ⓿
_DIGITS[0x24EA] = "0"  # ⓪

_PUNCT_MAP = {0x3002: ".", 0xFF61: ".", 0x2795: "+", 0x2796: "-", 0x2022: ".", 0x30FB: "."}

_TABLE: dict[int, str | None] = {c: None for c in _INVISIBLE}
_TABLE.update(_DIGITS)
_TABLE.update(_PUNCT_MAP)


def _char_class(codes: list[int]) -> str:
    """A regex character class of ``codes`` written as ranges (sre scans a list of
    thousands of single characters one by one, but a range in one step)."""
    parts: list[tuple[int, int]] = []
    for c in sorted(set(codes)):
        if parts and parts[-1][1] == c - 1:
            parts[-1] = (parts[-1][0], c)
        else:
            parts.append((c, c))
    return "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in parts) + "]"


_TABLE_CHARS = re.compile(_char_class(list(_TABLE)))

# Cyrillic / Greek letters that look like Latin ones (lower case; casefold runs first).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ℓ": "l",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v",
    }
)  # fmt: skip
_MIXED_WORD = re.compile(r"[a-z0-9\u0370-\u03ff\u0400-\u04ff\u0250-\u02af\u2113]+")
_LATIN = re.compile(r"[a-z]")
_LOOKALIKE_SCRIPT = re.compile(r"[\u0370-\u04ff\u0250-\u02af\u2113]")

_CN_NUM = str.maketrans(
    "零〇○一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖",
    "00012345678912123456789",
)
_CN_NUM_RUN = re.compile(r"[0-9零〇○一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖]{5,}")
_HAS_CN_NUM = re.compile(r"[零〇○一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖]")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEP = r"[\s\W_]+"
# _CJK_GAP and _WORD_PUNCT match exactly what
#   (?<=[CJK])[\s\W_]+(?=[CJK a-z0-9]) | (?<=[a-z0-9])[\s\W_]+(?=[CJK])   and
#   (?<=[a-z0-9])[^\w\s]+(?=[a-z0-9])
# match (a maximal separator run between the right neighbours), but are written to start
# with a character class, so that sre skips ahead with its fast prefix scan instead of
# trying a lookbehind at every position; the lookbehind then looks at the character
# before the first separator. tests/moderation/test_normalize_fast_paths.py compares them
# with the plain forms on random text.
_CJK_GAP = re.compile(
    rf"[\s\W_](?:(?<=[{_CJK}].)[\s\W_]*(?=[{_CJK}a-z0-9])|(?<=[a-z0-9].)[\s\W_]*(?=[{_CJK}]))",
    re.DOTALL,
)
_DIGIT_GAP = re.compile(r"(?<=[0-9])[\s\-_.·/()]+(?=[0-9])")
_WORD_PUNCT = re.compile(r"[^\w\s](?<=[a-z0-9][^\w\s])[^\w\s]*(?=[a-z0-9])")
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])(?:[a-z0-9][\s\W_]+){2,}[a-z0-9](?![a-z0-9])")
_SPACES = re.compile(r"\s+")
_RLO = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")
_NON_WORD = re.compile(r"[\W_]")


def signature_table(classes: dict[str, str], other: str = " ", unknown: str | None = None) -> bytes:
    """A ``bytes.translate`` table giving an ASCII text's *signature*: each character →
    the byte of the first class whose regex matches it, else ``other``.

    A cheap gate before a regular expression: a sequence every match implies is looked
    for in the signature first. ``unknown`` is the class of ``?``, which is what
    ``encode("ascii", "replace")`` makes of every non-ASCII character.
    """
    table = bytearray(other.encode() * 256)
    for c in range(128):
        for sig, rx in classes.items():
            if re.fullmatch(rx, chr(c)):
                table[c] = ord(sig)
                break
    if unknown is not None:
        table[ord("?")] = ord(unknown)
    return bytes(table)


_SIG_SPACED = signature_table({"a": r"[a-z0-9]"}, " ", unknown=" ")
_SIG_DIGIT = signature_table({"0": r"[0-9]", " ": r"[\s\-_.·/()]"}, "x", unknown=" ")
_SIG_PUNCT = signature_table({"a": r"[a-z0-9]", ".": r"[^\w\s]"}, "x", unknown=".")


class Normalized(msgspec.Struct, frozen=True):
    """The two matching forms of one text (see the module docstring)."""

    light: str
    compact: str


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese with one shared OpenCC ``t2s`` converter."""
    if text.isascii():
        return text
    return str(_converter().convert(text))


def _fix_mixed(m: re.Match[str]) -> str:
    word = m.group(0)
    if word.isascii() or not _LATIN.search(word):
        return word
    return word.translate(_HOMOGLYPHS)


def _cn_digits(m: re.Match[str]) -> str:
    run = m.group(0)
    found = _HAS_CN_NUM.findall(run)
    if not found:
        return run
    if len(found) == 1 and run[0].isdigit() != run[-1].isdigit():
        # one numeral at the edge of an ASCII number is a word, not a digit:
        # "跟1615726686一样" must not become the phone number 16157266861
        return run
    return run.translate(_CN_NUM)


def _unreverse(m: re.Match[str]) -> str:
    return m.group(1)[::-1]


def _light(text: str) -> str:
    if "\u202e" in text:  # right-to-left override: the stored order is the reverse of what shows
        text = _RLO.sub(_unreverse, text)
    if text.isascii():  # NFKC, the tables and OpenCC leave ASCII unchanged
        # str.split() splits on exactly the characters \s matches (str.isspace), so this
        # is _SPACES.sub(" ", text).strip() without the regex (tests check it on all of Unicode)
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text)
    if _TABLE_CHARS.search(text):  # translate with a dict is slow: only when it changes something
        text = text.translate(_TABLE)
    text = to_simplified(text).casefold()
    if not text.isascii():
        # _fix_mixed changes only a word with a Latin letter: none in the text (an all-Russian
        # message), nothing to change, and no Python call per word
        if _LOOKALIKE_SCRIPT.search(text) and _LATIN.search(text):
            text = _MIXED_WORD.sub(_fix_mixed, text)
        if _HAS_CN_NUM.search(text):
            text = _CN_NUM_RUN.sub(_cn_digits, text)
    return " ".join(text.split())


def _squeeze(m: re.Match[str]) -> str:
    return _SPACES.sub("", _NON_WORD.sub("", m.group(0)))


def compact(light: str) -> str:
    """The compact form of an already light-normalised text."""
    if light.isalnum():  # every pattern below removes a separator, and \W, \s, _ are not alnum
        return light
    # Gates: a byte signature of the text (one class per character; any non-ASCII character
    # becomes "?" and counts as a possible separator but never as [a-z0-9], which is ASCII)
    # holds a two- or three-character sequence that every match of each pattern implies.
    # The gates look at the light text, not at the output of the subs before them: those
    # only delete whole separator runs between two letters or digits, which creates no
    # new match of a later pattern.
    ascii_text = light.encode("ascii", "replace")
    text = light
    # _SPACED_LETTERS: three or more lone [a-z0-9] with only separators between them
    sig = ascii_text.translate(_SIG_SPACED)
    if b" a " in sig and b" a a a " in b" " + b" ".join(sig.split()) + b" ":
        text = _SPACED_LETTERS.sub(_squeeze, text)
    # _DIGIT_GAP: a digit, a run of its separators, a digit
    sig = ascii_text.translate(_SIG_DIGIT)
    if b"0 " in sig and b"0 0" in b" ".join(sig.split()):
        text = _DIGIT_GAP.sub("", text)
    # _WORD_PUNCT: [a-z0-9] then punctuation, and (the run's end) punctuation then [a-z0-9]
    sig = ascii_text.translate(_SIG_PUNCT)
    if b"a." in sig and b".a" in sig:
        text = _WORD_PUNCT.sub("", text)
    if not text.isascii():
        text = _CJK_GAP.sub("", text)
    return text


_INVISIBLE_TABLE = dict.fromkeys(_INVISIBLE)


def strip_invisible(text: str) -> str:
    """``text`` without zero-width, bidi-control and other invisible characters."""
    return text.translate(_INVISIBLE_TABLE)


def normalize(text: str) -> Normalized:
    """Both matching forms of ``text``; linear time, safe on hostile input."""
    light = _light(text)
    return Normalized(light, compact(light))


@cache
def _pinyin_table() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[int, str] = {}
    for code, readings in pinyin_dict.items():
        first = readings.split(",", 1)[0]
        plain = "".join(
            c for c in unicodedata.normalize("NFD", first) if not unicodedata.combining(c)
        )
        table[code] = plain.replace("ü", "v") + " "
    return table


def pinyin_form(compact_text: str) -> str:
    """Toneless pinyin of each CJK character, each syllable followed by one space.

    Other characters pass through unchanged, so ``加威信`` → ``jia wei xin `` and a
    watched word ``微信`` (``wei xin ``) matches it on a syllable boundary.
    """
    return compact_text.translate(_pinyin_table())
