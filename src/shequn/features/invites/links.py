"""Invite links as platforms spell them: normalised keys, public codes, platform links.

A join names the link it came through in its platform's own spelling (a Telegram
``https://t.me/+AbC…``, a Discord code ``mod7days`` or ``discord.gg/mod7days``, a
WeCom 活码 ``state``); :func:`invite_key` turns each into the one key the tables
store, so the operator may paste any spelling.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from shequn.platforms.port import Platform, Unsupported

__all__ = ["create_platform_link", "invite_key", "new_code", "split_state"]

_DISCORD = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:discord\.gg|discord(?:app)?\.com/invite)/(\S+)$"
)
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are read aloud too
#: A WeCom state naming a code and a referrer: ``<code>.<ref>`` (30 characters at most).
STATE_SEP = "."


def invite_key(raw: str | None) -> str | None:
    """The normalised key of a link or code (None for nothing)."""
    if raw is None:
        return None
    s = raw.strip()
    if not s:
        return None
    m = _DISCORD.match(s)
    if m is not None:
        return m.group(1).rstrip("/")
    s = re.sub(r"^https?://", "", s).rstrip("/")
    if s.startswith("telegram.me/"):
        s = "t.me/" + s[len("telegram.me/") :]
    return s[:255]


def split_state(key: str) -> tuple[str, str | None]:
    """``code.ref`` -> (code, ref); a URL or a plain code -> (key, None)."""
    if "/" in key or STATE_SEP not in key:
        return key, None
    code, _, ref = key.partition(STATE_SEP)
    return code, ref or None


def new_code(length: int = 6) -> str:
    """A short random public code (31 letters and digits, 6 of them: ~887 million)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


async def create_platform_link(platform: Platform, group_id: str, name: str) -> str:
    """Ask the platform for a new invite link to ``group_id``; :class:`Unsupported` if it cannot.

    Telegram (``createChatInviteLink``, named so the chat's admins see whose it is) and
    Discord (a channel invite that never expires) can; QQ, WeChat and WeCom groups
    cannot by API: there the operator pastes the link or QR code.
    """
    call: Any = getattr(platform, "call", None)
    if platform.name == "telegram" and call is not None:
        got = await call("createChatInviteLink", chat_id=group_id, name=name[:32])
        return str(got["invite_link"])
    rest: Any = getattr(platform, "rest", None)
    if platform.name == "discord" and rest is not None:
        got = await rest.call(
            "POST", f"/channels/{group_id}/invites", json={"max_age": 0, "unique": True},
            reason=f"shequn invite {name}"[:80],
        )  # fmt: skip
        return f"https://discord.gg/{got['code']}"
    raise Unsupported(f"{platform.name} cannot create invite links by API; paste one")
