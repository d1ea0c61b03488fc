"""A normalised hash of a message, for the engine's flood and cross-group duplicate checks."""

from __future__ import annotations

import hashlib
import re

import msgspec

from shequn.text import normalize

__all__ = ["TextFingerprint"]

_DROP = re.compile(r"[\W_]+")


class TextFingerprint(msgspec.Struct, frozen=True):
    """``digest`` is equal for texts that differ only by evasion tricks, spacing,
    punctuation, case, width or script (traditional/simplified)."""

    digest: str
    length: int

    @classmethod
    def of(cls, text: str, *, max_chars: int = 20_000) -> TextFingerprint:
        """Fingerprint of the first ``max_chars`` characters of ``text``."""
        key = _DROP.sub("", normalize(text[:max_chars]).compact)
        return cls(hashlib.blake2b(key.encode("utf-8"), digest_size=12).hexdigest(), len(key))
