"""The member's side of an appeal: ``申诉 <理由>`` / ``/appeal <reason>`` in the group,
or in a private chat with the bot.

In a group it runs after moderation, so an "appeal" that is itself an ad is moderated
like any message and never reaches here; it is against the member's newest strike in
that group. In private (:func:`handle_direct`, where a muted or removed member can
still write) it is against their newest strike in any group of the platform, and that
group's settings decide whether appeals are open. One appeal per strike that still
counts, and a reason is required (an operator decides on it). The decision is the
console's: :func:`shequn.actions.appeals.decide`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shequn.actions.appeals import appeal_of, appealable_strike, open_appeal, say
from shequn.events import DirectMessage, MessagePosted

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "handle_direct", "parse"]

_COMMAND = re.compile(
    r"^\s*(?:/appeal(?:@\S+)?|[/#]?申诉)(?:[\s:,]+(?P<reason>.*?))?\s*$", re.S | re.I
)
#: Longer reasons are cut: the task and the audit row keep the first part.
MAX_REASON = 1000


def parse(text: str) -> str | None:
    """The reason of an appeal command (``""`` when none is given), or None if the text
    is not one. Full-width forms count (``／appeal``, ``申诉：``)."""
    m = _COMMAND.match(unicodedata.normalize("NFKC", text[: MAX_REASON * 2]))
    if m is None:
        return None
    return " ".join((m.group("reason") or "").split())[:MAX_REASON]


async def handle(ctx: Context) -> bool:
    ev = ctx.event
    if not ctx.settings.appeals or not isinstance(ev, MessagePosted) or ev.sender is None:
        return False
    if ev.sender.is_bot or ev.edited or not ev.text:
        return False
    reason = parse(ev.text)
    if reason is None:
        return False
    member = ev.sender.platform_id
    strike = appealable_strike(ctx.conn, ctx.platform.name, ev.group_id, member, ctx.now)
    _answer(ctx, member, ev.sender.name, reason, strike, ctx.settings.language)
    return True


async def handle_direct(ctx: Context, settings_for: Callable[[str, str], Any]) -> None:
    """A private message to the bot: an appeal, or else a short note on how to make one."""
    ev = ctx.event
    if not isinstance(ev, DirectMessage) or ev.sender.is_bot:
        return
    member, platform = ev.sender.platform_id, ctx.platform.name
    strike = appealable_strike(ctx.conn, platform, None, member, ctx.now)
    settings = settings_for(platform, strike.group_id) if strike is not None else ctx.settings
    reason = parse(ev.text)
    if reason is None or not settings.appeals:
        text = say(settings.language, "direct_help", name=ev.sender.name or member)
        ctx.plan("send", params={"text": text}, member_id=member, reason="appeal.help")
        return
    _answer(ctx, member, ev.sender.name, reason, strike, settings.language, via="dm")


def _answer(
    ctx: Context,
    member: str,
    name: str,
    reason: str,
    strike: Any,
    lang: str,
    *,
    via: str = "group",
) -> None:
    """Open the appeal (or say why not) and answer the member where they asked."""
    name = name or member
    earlier = appeal_of(ctx.conn, strike.id) if strike is not None else None
    if strike is None:
        text = say(lang, "no_strike", name=name)
    elif earlier is not None:
        kind = "pending" if earlier.status == "open" else "decided"
        text = say(lang, kind, name=name, id=earlier.id)
    elif not reason:
        text = say(lang, "need_reason", name=name)
    else:
        aid = open_appeal(ctx.conn, strike, reason, member_name=name, now=ctx.now, via=via)
        text = say(lang, "received", name=name, id=aid)
    ctx.plan("send", params={"text": text}, member_id=member, reason="appeal")
