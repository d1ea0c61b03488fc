"""Points for behaviours besides the check-in: helpful answers and activity participation.

Each behaviour pays ``<behaviour>_points`` once per thing it is about (``ref``: a poll,
a chain, an event, a message) and at most ``behaviour_cap`` a day per member, so
voting in many polls or thanking each other in a loop stops paying quickly.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from shequn.events import MessagePosted, ReactionAdded
from shequn.features.checkin.points import award
from shequn.features.checkin.scope import Scope, in_scope, scope_groups
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["Behaviour", "credit", "thanked"]

Behaviour = Literal["helpful", "vote", "chain", "attend"]

#: Reactions that count as "this helped me".
THANKS_EMOJI = ("👍", "🙏", "❤️", "❤", "💯")


def credit(
    ctx: Context, member: str, behaviour: Behaviour, ref: str, ts: float, *, once: bool = False
) -> int:
    """Credit ``member`` for ``behaviour`` about ``ref`` once; the points credited.

    ``once``: ``ref`` pays one member only (a question answered: whoever closes it
    first), not once per member.
    """
    s = ctx.settings.checkin
    points = int(getattr(s, f"{behaviour}_points"))
    if not s.enabled or points <= 0:
        return 0
    conn, pf, g = ctx.conn, ctx.platform.name, ctx.group_id
    sc = scope_groups(conn, pf, g, s)
    if _credited(conn, pf, g, None if once else member, behaviour, ref):
        return 0
    day = datetime.fromtimestamp(ts, ZoneInfo(s.timezone)).date().isoformat()
    return award(conn, pf, g, member, points=points, reason=behaviour, day=day, ts=ts,
                 cap=s.behaviour_cap, ref=ref[:255], scope=sc)  # fmt: skip


def _credited(
    conn: Connection, platform: str, group: Scope, member: str | None, reason: str, ref: str
) -> bool:
    p = schema.points_ledger
    q = select(p.c.id).where(
        p.c.platform == platform,
        in_scope(p.c.group_id, group),
        p.c.reason == reason,
        p.c.ref == ref[:255],
    )
    if member is not None:
        q = q.where(p.c.member_id == member)
    return conn.execute(q).first() is not None


def _author(conn: Connection, platform: str, group: str, message_id: str) -> str | None:
    """The platform id of who posted ``message_id`` in ``group`` (from the archive)."""
    g, m, mem = schema.groups, schema.messages, schema.members
    q = (
        select(mem.c.platform_id, mem.c.is_bot)
        .select_from(m.join(g, g.c.id == m.c.group_id).join(mem, mem.c.id == m.c.member_id))
        .where(g.c.platform == platform, g.c.platform_id == group, m.c.platform_id == message_id)
    )
    row = conn.execute(q.limit(1)).first()
    return None if row is None or row.is_bot else str(row.platform_id)


def thanked(ctx: Context) -> int:
    """A reply that thanks a message, or a 👍 on it: the author earns ``helpful`` points.

    Returns the points credited (0 when it is not a thank-you, is one's own message, or
    was credited before). Never stops the pipeline: the thank-you is also a message.
    """
    ev, s = ctx.event, ctx.settings.checkin
    if isinstance(ev, MessagePosted):
        if ev.sender is None or ev.sender.is_bot or ev.edited or not ev.reply_to:
            return 0
        text = ev.text.casefold()
        if not any(w.casefold() in text for w in s.thanks_words):
            return 0
        thanker, target, ts = ev.sender.platform_id, ev.reply_to, ev.ts
    elif isinstance(ev, ReactionAdded):
        if ev.member is None or ev.member.is_bot or ev.emoji not in THANKS_EMOJI:
            return 0
        thanker, target, ts = ev.member.platform_id, ev.message_id, ctx.now
    else:
        return 0
    author = _author(ctx.conn, ctx.platform.name, ctx.group_id, target)
    if author is None or author == thanker:
        return 0
    return credit(ctx, author, "helpful", f"msg:{target}", ts)
