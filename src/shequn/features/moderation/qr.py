"""QR codes in posted images: decode them (zxing-cpp) so their payload can be moderated.

An image with a WeChat group QR code, a personal contact code or a payment link is the
classic group ad that text filters never see. :func:`decode` reads every QR code (and
the other 2-D codes zxing-cpp knows) in one image; :func:`qr_hits` turns the payloads
into moderation evidence with the same link and contact detectors text goes through.

Hostile images cost bounded time: files over :data:`MAX_BYTES` are not opened, images
are decoded lazily by Pillow with its decompression-bomb guard, and anything over
:data:`MAX_SIDE` pixels on a side is scaled down before decoding.
"""

from __future__ import annotations

import io
import logging
import re

from shequn.features.moderation import detectors
from shequn.features.moderation.settings import Allowlist
from shequn.features.moderation.verdict import Reason
from shequn.text import normalize

__all__ = ["MAX_BYTES", "MAX_SIDE", "decode", "qr_hits"]

log = logging.getLogger(__name__)

#: Images larger than this are not decoded (chat apps compress photos far below it).
MAX_BYTES = 10 * 1024 * 1024
#: Longest side decoded; larger images are scaled down first (QR codes survive it).
MAX_SIDE = 2000
#: At most this many codes are read from one image.
MAX_CODES = 8

#: Payloads that are, by themselves, an invitation to leave the group for another.
_INVITE = re.compile(
    r"u\.wechat\.com|weixin\.qq\.com/(?:g|r|q)/|work\.weixin\.qq\.com|wxp://|qm\.qq\.com|"
    r"jq\.qq\.com|qr\.alipay\.com|t\.me/|discord\.gg/|chat\.whatsapp\.com|line\.me/",
    re.IGNORECASE,
)


def decode(data: bytes) -> list[str]:
    """The text of every 2-D code in one image; ``[]`` for no code or an unreadable file."""
    if not data or len(data) > MAX_BYTES:
        return []
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as src:
            src.draft("L", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at a reduced size directly
            gray = src.convert("L")
        if max(gray.size) > MAX_SIDE:
            gray.thumbnail((MAX_SIDE, MAX_SIDE))
        codes = zxingcpp.read_barcodes(gray)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        log.info("image not decoded: %s", exc)
        return []
    return [c.text for c in codes[:MAX_CODES] if c.text]


def qr_hits(payloads: tuple[str, ...], allow: Allowlist | None) -> list[tuple[str, Reason]]:
    """Evidence from QR payloads: a group/contact/payment invite, links and contact handles.

    Reasons are ``qr.invite``, or the text detectors' own reasons prefixed with ``qr.``;
    an allowed domain or handle (the operator's own group code) gives nothing.
    """
    out: list[tuple[str, Reason]] = []
    for payload in payloads:
        norm = normalize(payload[:2000])
        found = detectors.links(norm, allow) + detectors.contacts(norm, allow)
        invite = _INVITE.search(payload) is not None
        if invite and not (allow is not None and _allowed(payload, allow)):
            out.append(("ad", Reason("qr.invite", payload[:120], 0.9)))
        for category, r in found:
            out.append((category, Reason("qr." + r.detector, r.detail, min(1.0, r.weight + 0.1))))
        if not found and not invite and payload.strip():
            out.append(("ad", Reason("qr.code", payload[:120], 0.3)))
    return out


def _allowed(payload: str, allow: Allowlist) -> bool:
    low = payload.lower()
    return any(d in low for d in allow.domains)
