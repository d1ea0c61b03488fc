"""The member's side of an appeal: ``申诉 <理由>`` / ``/appeal <reason>`` in the group.

Runs after moderation, so an "appeal" that is itself an ad is moderated like any
message and never reaches here. The appeal is against the member's newest strike that
still counts; one appeal per strike, and a reason is required (an operator decides on
it). The decision is the console's: :func:`shequn.actions.appeals.decide`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from shequn.actions.appeals import appeal_of, appealable_strike, open_appeal, say
from shequn.events import MessagePosted

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "parse"]

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
    lang, member = ctx.settings.language, ev.sender.platform_id
    name = ev.sender.name or member
    strike = appealable_strike(ctx.conn, ctx.platform.name, ev.group_id, member, ctx.now)
    earlier = appeal_of(ctx.conn, strike.id) if strike is not None else None
    if strike is None:
        text = say(lang, "no_strike", name=name)
    elif earlier is not None:
        kind = "pending" if earlier.status == "open" else "decided"
        text = say(lang, kind, name=name, id=earlier.id)
    elif not reason:
        text = say(lang, "need_reason", name=name)
    else:
        aid = open_appeal(ctx.conn, strike, reason, member_name=name, now=ctx.now)
        text = say(lang, "received", name=name, id=aid)
    ctx.plan("send", params={"text": text}, member_id=member, reason="appeal")
    return True
