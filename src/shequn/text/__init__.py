"""Text normalisation shared by moderation and matching features.

See :mod:`shequn.text.normalize` for what the matching form does to a message.
"""

from shequn.text.normalize import (
    Normalized,
    compact,
    normalize,
    pinyin_form,
    signature_table,
    strip_invisible,
    to_simplified,
)

__all__ = [
    "Normalized",
    "compact",
    "normalize",
    "pinyin_form",
    "signature_table",
    "strip_invisible",
    "to_simplified",
]
