"""The speed-ups of the moderation engine change no result.

Every cheap substring test that lets a detector skip a regular expression must hold
whenever that expression would have matched. (The classifier's fast paths are checked
against scikit-learn in ``test_moderation_classifier_speed.py``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.features.moderation import detectors
from shequn.features.moderation.datasets import SETS, load_set
from shequn.text import normalize


@pytest.fixture(scope="module")
def real_texts(data_dir: Path) -> list[str]:
    texts = [s.text for name in SETS for s in load_set(data_dir, name)[0]]
    return list(dict.fromkeys(texts))


def test_detector_prechecks_hold_on_real_texts(real_texts: list[str]) -> None:
    variants = real_texts + [t.replace(" ", "") for t in real_texts] + [
        "加v abc12345", "+vqwerty1", "微信号: abcdef1", "wechat abc_1234", "http://1.2.3.4/x",
        "¥5", "40r", "出 ps5 1200元", "www.example.com", "€9", "١٢٣元",
    ]  # fmt: skip
    checked = 0
    for t in variants:
        for form in (normalize(t).light, normalize(t).compact):
            if detectors._WECHAT.search(form):
                assert "v" in form or "w" in form or "信" in form, form
                checked += 1
            if detectors._PRICE.search(form):
                assert detectors._ANY_DIGIT.search(form), form
                checked += 1
            if detectors._URL.search(form):
                assert "://" in form or "www." in form, form
                checked += 1
            if detectors._IP_URL.search(form) or detectors._TAOBAO_CODE.search(form):
                assert "/" in form, form
                checked += 1
    assert checked > 500
