"""Cleaning hostile text for display, and the small formatters."""

from __future__ import annotations

import json
import time

import pytest

from shequn import i18n
from shequn.report.text import clean, fmt_num, fmt_pct, fmt_ts, lookup, parse_ts


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\u202eexe.jpg", "exe.jpg"),
        ("ad\u200bmin", "admin"),
        ("\ufeffname\u2066x\u2069", "namex"),
        ("\x1b]0;owned\x07title", "]0;ownedtitle"),
        ("a\r\nb\tc", "a b c"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ joins emoji: kept
        (None, ""),
        (42, "42"),
    ],
)
def test_clean_removes_invisible_and_control_characters(raw: object, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_cuts_long_text_with_an_ellipsis_and_in_bounded_time() -> None:
    big = "字" * (5 * 1024 * 1024)
    started = time.perf_counter()
    out = clean(big, 100)
    assert time.perf_counter() - started < 0.05
    assert len(out) == 100 and out.endswith("…")
    assert clean("short", 100) == "short"


def test_clean_multiline_keeps_paragraphs() -> None:
    assert clean("a\n\n\n\nb\nc   d", None, oneline=False) == "a\n\nb\nc d"


def test_formatters() -> None:
    assert fmt_pct(0.4256) == "42.6%"
    assert fmt_pct(None) == "—"
    assert fmt_pct(True) == "—"
    assert fmt_num(1234567) == "1,234,567"
    assert fmt_num(0.12345, 3) == "0.123"
    assert fmt_num(None) == "—"
    assert fmt_ts("2024-01-02T03:04:05Z") == "2024-01-02 03:04"
    assert fmt_ts("2024-01-02T03:04:05+08:00", date_only=True) == "2024-01-01"
    assert fmt_ts("garbage") == "" and fmt_ts(None) == ""
    dt = parse_ts("2024-01-02T03:04:05Z")
    assert dt is not None and dt.utcoffset() is not None


def test_lookup_accepts_int_or_string_group_ids() -> None:
    assert lookup({"1": "a"}, 1) == "a"
    assert lookup({1: "a"}, "1") == "a"
    assert lookup({"x": 1}, "y", "d") == "d"
    assert lookup(None, 1, "d") == "d"


def test_catalogues_have_the_same_report_and_html_keys() -> None:
    ours = {}
    for lang in i18n.LANGS:
        cat = json.loads((i18n._DIR / f"{lang}.json").read_text(encoding="utf-8"))
        ours[lang] = {k for k in cat if k.startswith(("report.", "html."))}
        assert all(cat[k].strip() for k in ours[lang])
    assert ours["zh"] == ours["en"]
