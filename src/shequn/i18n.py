"""Chinese and English messages for the CLI and reports.

Catalogues are JSON files in ``locales/`` keyed by message id (``<lang>.json`` and
one file per area in ``<lang>/``); the language comes
from ``--lang``, else ``SHEQUN_LANG``, else the locale (``LC_ALL`` / ``LC_MESSAGES`` /
``LANG``): anything starting ``zh`` is Chinese, everything else English.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")
_DIR = Path(__file__).with_name("locales")
_current: str | None = None


def detect_lang(explicit: str | None = None) -> str:
    for value in (
        explicit,
        os.environ.get("SHEQUN_LANG"),
        os.environ.get("LC_ALL"),
        os.environ.get("LC_MESSAGES"),
        os.environ.get("LANG"),
    ):
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_lang(lang: str | None) -> str:
    global _current
    _current = detect_lang(lang)
    return _current


def get_lang() -> str:
    return _current or detect_lang()


@cache
def catalogue(lang: str) -> dict[str, str]:
    """``locales/<lang>.json`` plus every ``locales/<lang>/*.json`` (one file per area).

    A key defined in two files is an error naming both, so areas cannot shadow each
    other's messages.
    """
    merged: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in [_DIR / f"{lang}.json", *sorted((_DIR / lang).glob("*.json"))]:
        if not path.is_file():
            continue
        for key, text in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path}: message id {key!r} is already defined in {origin[key]}")
            merged[key] = text
            origin[key] = path
    return merged


def t(key: str, /, lang: str | None = None, **params: object) -> str:
    """The message ``key`` in the current language, formatted with ``params``.

    Falls back to English, then to the key itself, so a missing entry shows up as
    a readable id rather than a crash (and ``tests/test_i18n.py`` catches it).
    """
    lang = lang or get_lang()
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    return text.format(**params) if params else text
