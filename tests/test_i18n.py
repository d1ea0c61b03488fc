"""Both catalogues carry every message, and the language follows --lang / the locale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shequn import i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "shequn"


def test_catalogues_have_the_same_keys() -> None:
    assert set(i18n.catalogue("zh")) == set(i18n.catalogue("en"))


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+\.[a-z0-9_.]+)\"", path.read_text("utf-8")))
    assert used, "the scan found no message ids at all"
    missing = sorted(k for k in used if k not in i18n.catalogue("en"))
    assert not missing, missing


def test_placeholders_match_between_languages() -> None:
    zh, en = i18n.catalogue("zh"), i18n.catalogue("en")
    for key, text in en.items():
        fields = set(re.findall(r"\{(\w+)", text))
        assert fields == set(re.findall(r"\{(\w+)", zh[key])), key


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        ("zh", {}, "zh"),
        ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"SHEQUN_LANG": "zh"}, "zh"),
        (None, {}, "en"),
    ],
)
def test_language_detection(
    monkeypatch: pytest.MonkeyPatch, explicit: str | None, env: dict[str, str], expected: str
) -> None:
    for var in ("SHEQUN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.detect_lang(explicit) == expected
