"""The activities' entry points in the bot pipeline: ``handle`` (priority 35) and ``tick``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from shequn.events import MemberJoined, MemberLeft, MessagePosted
from shequn.features.activities import chains, events, icebreak, lottery, polls
from shequn.platforms.port import Platform

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "tick"]

log = logging.getLogger(__name__)


async def handle(ctx: Context) -> bool:
    """Activity commands and participation; ``True`` (stop) when a message was ours."""
    ev = ctx.event
    if not ctx.settings.activities.enabled:
        return False
    if isinstance(ev, MemberJoined):
        icebreak.joined(ctx, ev)
        return False
    if isinstance(ev, MemberLeft):
        icebreak.left(ctx, ev)
        return False
    if not isinstance(ev, MessagePosted) or ev.sender is None or ev.sender.is_bot:
        return False
    if not ev.text.strip():
        return False
    # An introduction is also an ordinary message: note it, and let the rest look at it.
    icebreak.observe(ctx, ev)
    if icebreak.listing(ctx, ev):
        return True
    for feature in (polls, lottery, events, chains):
        if await feature.handle(ctx, ev):
            return True
    return False


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Deadlines (polls, chains, lotteries), event reminders and missed introductions.

    Each part runs in its own savepoint: one failing does not hold back the others.
    """
    for part in (polls.tick, chains.tick, lottery.tick, events.tick, icebreak.tick):
        try:
            with conn.begin_nested():
                part(conn, platforms, settings_for, now)
        except Exception as exc:
            log.error("activities tick %s failed", part.__module__, exc_info=exc)
