"""The matching form undoes each evasion trick, in Chinese and in English."""

from __future__ import annotations

import pytest

from shequn.text import normalize, pinyin_form, to_simplified


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("加 我 微 信", "加我微信"),  # spacing between CJK
        ("加-V", "加v"),  # punctuation between CJK and a letter
        ("v.x", "vx"),  # punctuation inside a word
        ("w e i x i n", "weixin"),  # spaced single letters
        ("加\u200b微\u200c信\u200d", "加微信"),  # zero-width characters
        ("\ufeff加\u2060微信", "加微信"),  # BOM and word joiner
        ("ＱＱ：１２３４５６７８", "qq12345678"),  # full-width
        ("加微信 ABC", "加微信abc"),  # case
        ("聯繫我 加微信", "联系我加微信"),  # traditional → simplified
        ("①③⑧", "138"),  # circled digits
        ("❶❷❸➀➁", "12312"),  # dingbat digits
        ("⑴", "(1)"),  # parenthesised digit
        ("1️⃣2️⃣3️⃣", "123"),  # keycap emoji digits
        ("𝟐𝟗𝟏", "291"),  # mathematical bold digits (real QQ ad)
        ("一三八一二三四五六七八", "13812345678"),  # Chinese numerals in a number
        ("壹贰叁肆伍陆", "123456"),  # financial numerals
        ("138一2345678", "13812345678"),  # one numeral inside a number
        ("跟1615726686一样", "跟1615726686一样"),  # "一样" after a number is a word
        ("138 1234 5678", "13812345678"),  # separators inside a phone number
        ("138-1234-5678", "13812345678"),
        ("➕v", "+v"),  # heavy plus sign
        ("vх", "vx"),  # Cyrillic х in a Latin word
        ("fr\u0435e m\u043eney", "free money"),  # Cyrillic е/о in English words
        ("kw。v2mcfsip。top", "kwv2mcfsiptop"),  # ideographic full stops
    ],
)
def test_evasion_tricks_are_undone(raw: str, compact: str) -> None:
    assert normalize(raw).compact == compact


def test_rtl_override_is_put_back_in_display_order() -> None:
    assert normalize("\u202e信微加\u202c").compact == "加微信"


def test_russian_words_are_not_latinised() -> None:
    # an all-Cyrillic word keeps its letters; only mixed-script words are mapped
    assert normalize("пиши в лс").light == "пиши в лс"


def test_light_form_keeps_links_readable() -> None:
    light = normalize("Join https://T.me/+abc now").light
    assert "https://t.me/+abc" in light


def test_ordinary_chat_is_unchanged_apart_from_case() -> None:
    assert normalize("Hello world, this is fine.").compact == "hello world, this is fine."
    assert normalize("等会喝番薯粥去").compact == "等会喝番薯粥去"


def test_short_chinese_numerals_stay() -> None:
    assert normalize("一二三木头人").compact == "一二三木头人"


def test_pinyin_form_for_homophones() -> None:
    assert pinyin_form("加威信") == "jia wei xin "
    assert pinyin_form("加薇信") == pinyin_form("加微信")
    assert pinyin_form("abc") == "abc"


def test_to_simplified() -> None:
    assert to_simplified("臺灣號碼") == "台湾号码"
    assert to_simplified("ascii") == "ascii"


def test_megabyte_of_hostile_text_is_linear() -> None:
    hostile = ("\u202e信\u200b微\u200d加\u202c ① 𝟐 a.b " * 40_000)[:1_000_000]
    n = normalize(hostile)
    assert "加微信" in n.compact
