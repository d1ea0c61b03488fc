"""Invite links / 群活码 with per-link attribution, and fission (裂变) campaigns.

:func:`handle` sees each event (joins and leaves, to attribute and qualify invites);
:func:`tick` settles what time decides (an invite qualifies after the invitee stayed
N days; rewards at thresholds). Modules: :mod:`.codes` (活码 and roll-over),
:mod:`.campaigns` (attribution, qualification, rewards, leaderboard), :mod:`.fraud`,
:mod:`.tree` (who brought whom, seed users), :mod:`.links` (platform links).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shequn import i18n
from shequn.events import MemberJoined, MemberLeft, MessagePosted
from shequn.features.invites import campaigns
from shequn.features.invites.settings import InvitesSettings

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = ["InvitesSettings", "handle", "tick"]


async def handle(ctx: Context) -> bool:
    """Attribute a join to its link / referrer; note a leave on the invites it ends."""
    s = ctx.settings.invites
    if not s.enabled:
        return False
    ev = ctx.event
    if isinstance(ev, MemberJoined):
        campaigns.joined(ctx.conn, ev, ctx.key, ctx.now, s)
    elif isinstance(ev, MemberLeft):
        campaigns.left(ctx.conn, ev, ctx.now, s)
    elif _asks_for_link(ev, s):
        assert isinstance(ev, MessagePosted)
        return _personal_link(ctx, ev, s)
    return False  # attribution never stops the features after it


def _asks_for_link(ev: object, s: InvitesSettings) -> bool:
    if not isinstance(ev, MessagePosted) or ev.sender is None or ev.sender.is_bot:
        return False
    return ev.text.strip().casefold() in {c.casefold() for c in s.commands}


def _personal_link(ctx: Context, ev: MessagePosted, s: InvitesSettings) -> bool:
    """Answer a member's "邀请码": their personal code in the campaign running here."""
    assert ev.sender is not None
    found = campaigns.personal_code(
        ctx.conn, ev.platform, ev.group_id, ev.sender.platform_id, ev.sender.name, ctx.now
    )
    if found is None:
        return False  # no campaign here: the word is just a word
    code, ref = found
    base = s.public_url.rstrip("/")
    link = f"{base}/j/{code}?r={ref}" if base else ""
    key = "invites.bot.link" if link else "invites.bot.code"
    text = i18n.t(key, lang=ctx.settings.language, name=ev.sender.name or ev.sender.platform_id,
                  link=link, code=code, ref=ref)  # fmt: skip
    ctx.plan("send", params={"text": text}, member_id=ev.sender.platform_id,
             reason="invites.personal_link")  # fmt: skip
    return True


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> list[int]:
    """Qualify invites whose invitees stayed long enough; the reward rows granted now."""
    return campaigns.settle(conn, now, settings_for)
