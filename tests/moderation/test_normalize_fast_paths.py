"""The fast paths of normalisation and of the rule detectors change no result.

``shequn.text.normalize`` skips regular expressions behind cheap gates, collapses spacing
with ``str.split`` and writes two of its patterns in a faster but equivalent form; the
detectors skip patterns behind substring gates. Here the plain general path (written
out below exactly as it was before the fast paths) is compared with the fast one on
random mixes of CJK, ASCII, spaces, punctuation, digits, zero-width and full-width
characters (hypothesis) and on every real text; and every detector gate is checked to
hold whenever the pattern it guards matches.
"""

from __future__ import annotations

import importlib
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.features.moderation import detectors as d
from shequn.features.moderation.datasets import SETS, load_set

nm: Any = importlib.import_module("shequn.text.normalize")

# the patterns as they were before they were rewritten to start with a character class
_CJK = nm._CJK
_PLAIN_CJK_GAP = re.compile(
    rf"(?<=[{_CJK}])[\s\W_]+(?=[{_CJK}a-z0-9])|(?<=[a-z0-9])[\s\W_]+(?=[{_CJK}])"
)
_PLAIN_WORD_PUNCT = re.compile(r"(?<=[a-z0-9])[^\w\s]+(?=[a-z0-9])")


def plain_light(text: str) -> str:
    """``_light`` without its fast paths."""
    if "\u202e" in text:
        text = nm._RLO.sub(nm._unreverse, text)
    if text.isascii():
        return str(nm._SPACES.sub(" ", text.lower()).strip())
    text = unicodedata.normalize("NFKC", text).translate(nm._TABLE)
    text = nm.to_simplified(text).casefold()
    if not text.isascii():
        if nm._LOOKALIKE_SCRIPT.search(text):
            text = nm._MIXED_WORD.sub(nm._fix_mixed, text)
        if nm._HAS_CN_NUM.search(text):
            text = nm._CN_NUM_RUN.sub(nm._cn_digits, text)
    return str(nm._SPACES.sub(" ", text).strip())


def plain_compact(light: str) -> str:
    """``compact`` without its gates and with the plain patterns."""
    text = nm._SPACED_LETTERS.sub(
        lambda m: nm._SPACES.sub("", re.sub(r"[\W_]", "", m.group(0))), light
    )
    text = nm._DIGIT_GAP.sub("", text)
    text = _PLAIN_WORD_PUNCT.sub("", text)
    if not text.isascii():
        text = _PLAIN_CJK_GAP.sub("", text)
    return str(text)


_PIECES = [
    *"加我微信号码联系扣群一二三八零壹贰叁臺灣聯繫元块刀",
    *"abcdefgqrsuvwxyzABCVXQ",
    *"0123456789",
    " ", "  ", "\t", "\n", "\u3000", "\xa0", "\x1c",
    *".,-_·/()!?:;@#+~'\"$¥€£%&*",
    *"，。、：！？（）【】～",
    "\u200b", "\u200d", "\ufeff", "\u202e", "\u202c", "\u2066", "\u00ad",
    *"ＡＢｖｘ０１２：．＠", *"①⑧⑴❶➀𝟐٣", "1\ufe0f\u20e3",
    *"ахеорсαοр", "➕", "・", "😂", "💰",
    "http://", "https://", "www.", ".com", ".top", ". top", "t.me/", "qq", "vx", "wx",
    "微信", "weixin", "wechat", "加v", "+v", "私", "企鹅", "扣扣", "rmb", "usd", "руб",
    "13812345678", "12345", "1.2.3.4/", "w e i", "a.b", "1 2",
]  # fmt: skip

texts = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
    st.text(max_size=40),
)
_FAST = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


def test_str_whitespace_is_regex_whitespace() -> None:
    # why " ".join(t.split()) == _SPACES.sub(" ", t).strip(), and why an alnum text has
    # nothing for compact() to remove ([\s\W_] is exactly "not alnum")
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    assert set(re.findall(r"\s", every)) == {c for c in every if c.isspace()}
    assert set(re.findall(r"[\s\W_]", every)) == {c for c in every if not c.isalnum()}


@_FAST
@given(texts)
def test_light_equals_plain_path(text: str) -> None:
    assert nm._light(text) == plain_light(text)


@_FAST
@given(texts)
def test_compact_equals_plain_path(text: str) -> None:
    light = plain_light(text)
    assert nm.compact(light) == plain_compact(light)
    assert nm.compact(text) == plain_compact(text)  # also on text that is not light


@_FAST
@given(texts)
def test_rewritten_patterns_equal_plain_ones(text: str) -> None:
    for t in (text, text.lower()):
        assert nm._CJK_GAP.sub("", t) == _PLAIN_CJK_GAP.sub("", t)
        assert nm._WORD_PUNCT.sub("", t) == _PLAIN_WORD_PUNCT.sub("", t)


def gates_hold(form: str) -> int:
    """Assert every detector gate on ``form`` holds where its pattern matches."""
    checked = 0
    if d._HOST.search(form) or d._SPACED_HOST.search(form):
        assert d._HOST_GATE.search(form), form
        checked += 1
    if d._WECHAT.search(form):
        keys = ("微信", "薇信", "威信", "徽信", "v信", "vx", "wx", "weixin", "wechat")
        keys += ("加v", "+v", "系v", "私v")
        assert any(k in form for k in keys), form
        checked += 1
    if d._FIVE_DIGITS.search(form) and form.isascii():
        assert b"00000" in form.encode().translate(d._SIG_DIGITS), form
        checked += 1
    if d._QQ.search(form):
        assert "q" in form or "群" in form or "扣扣" in form or "企鹅" in form, form
        checked += 1
    if d._CONTACT_NUMBER.search(form):
        keys = ("联系", "加我", "找我", "私", "咨询", "滴滴", "群")
        assert any(k in form for k in keys), form
        checked += 1
    if d._URL.search(form):
        assert "://" in form or "www." in form, form
        checked += 1
    if d._IP_URL.search(form) or d._TAOBAO_CODE.search(form):
        assert "/" in form, form
        checked += 1
    if d._PRICE.search(form):
        if form.isascii():
            sig = form.encode().translate(d._SIG_PRICE)
            assert b"0u" in sig or b"u0" in sig, form
        else:
            assert d._DIGIT_UNIT.search(form) or d._CURRENCY_DIGIT.search(form), form
        checked += 1
    return checked


@_FAST
@given(texts)
def test_detector_gates_hold_on_random_text(text: str) -> None:
    n = nm.normalize(text)
    for form in (text, text.lower(), n.light, n.compact):
        gates_hold(form)


@pytest.fixture(scope="module")
def real_texts(data_dir: Path) -> list[str]:
    texts = [s.text for name in SETS for s in load_set(data_dir, name)[0]]
    return list(dict.fromkeys(texts))


def test_fast_paths_on_real_texts(real_texts: list[str]) -> None:
    checked = 0
    made = ["加v abc12345", "+vqwerty1", "微信号: abcdef1", "wechat abc_1234", "http://1.2.3.4/x",
            "¥5", "40r", "出 ps5 1200元", "www.example.com", "€9", "١٢٣元"]  # fmt: skip
    for text in real_texts + [t.replace(" ", "") for t in real_texts[::4]] + made:
        light = plain_light(text)
        n = nm.normalize(text)
        assert (n.light, n.compact) == (light, plain_compact(light)), text
        for form in (n.light, n.compact):
            checked += gates_hold(form)
    assert checked > 1000
