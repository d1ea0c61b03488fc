"""Making hostile chat text safe to show, and small formatters every renderer shares.

Member names and message texts come from strangers: they may carry bidi overrides
(U+202E makes "gpj.exe" read as "exe.jpg"), zero-width characters that make two names
look the same, terminal escape sequences, or a megabyte of text. HTML escaping is the
template's job (autoescape); this module removes what escaping cannot make harmless
and cuts text to a displayable length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shequn import i18n

__all__ = ["clean", "fmt_num", "fmt_pct", "fmt_ts", "lookup", "parse_ts", "vocab_label"]

# C0 controls except tab and newline, DEL and C1 (ESC starts terminal sequences);
# bidi embeddings, overrides, isolates and marks; zero-width space / non-joiner,
# word joiner and invisible operators, BOM. U+200D (zero-width joiner) stays: emoji
# sequences such as family or profession emoji need it.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_SPACES = re.compile(r"[ \t]*\n[\s]*\n\s*|[ \t]{2,}")
ELLIPSIS = "…"


def clean(value: object, limit: int | None = 200, *, oneline: bool = True) -> str:
    """``value`` as text without invisible/control characters, at most ``limit`` characters.

    Only a prefix of a long text is examined, so a 1 MB message costs no more than a
    short one. With ``oneline`` newlines become spaces (names, table cells).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    cut = False
    if limit is not None and len(text) > limit * 4 + 64:
        text, cut = text[: limit * 4 + 64], True
    text = _INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = " ".join(text.split()) if oneline else _SPACES.sub(_squeeze, text).strip()
    if limit is not None and len(text) > limit:
        text, cut = text[: max(limit - 1, 0)].rstrip(), True
    return text + ELLIPSIS if cut else text


def _squeeze(m: re.Match[str]) -> str:
    return "\n\n" if "\n" in m.group(0) else " "


def parse_ts(value: object) -> datetime | None:
    """An ISO-8601 time from the report (``...Z``) as an aware UTC datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def fmt_ts(value: object, *, date_only: bool = False) -> str:
    """``2024-01-02 03:04`` (UTC) for an ISO time; ``""`` for None or garbage."""
    dt = parse_ts(value)
    if dt is None:
        return ""
    return dt.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")


def fmt_pct(value: object, digits: int = 1) -> str:
    """A share 0..1 as ``42.5%``; ``—`` where the report has no value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_num(value: object, digits: int = 2) -> str:
    """Integers with thousands separators, floats rounded; ``—`` for None."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return clean(value, 40)


def lookup(mapping: object, key: object, default: Any = None) -> Any:
    """``mapping[key]`` for maps keyed by group id, whether the keys are ints or strings.

    In the JSON form (what the renderers see) object keys are strings; an in-process
    dict from analytics may use ints.
    """
    if not isinstance(mapping, Mapping):
        return default
    if key in mapping:
        return mapping[key]
    alt = (
        str(key) if not isinstance(key, str) else (int(key) if key.lstrip("-").isdigit() else None)
    )
    if alt is not None and alt in mapping:
        return mapping[alt]
    return default


def vocab_label(kind: str, key: object, lang: str) -> str:
    """The catalogue label ``html.{kind}.{key}`` (stage, signal, ...), else the key itself.

    For vocabularies that analytics may extend (a new buying signal in its lexicon):
    an unknown value shows up as its own name instead of a message id.
    """
    return i18n.catalogue(lang).get(f"html.{kind}.{key}") or clean(key, 40)
