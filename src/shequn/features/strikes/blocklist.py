"""Keeping listed members out: the blocklist's handler (see :mod:`shequn.actions.blocklist`).

Runs first (priority 5), before the entry gate: in a group whose ``blocklist`` is not
``off``, a listed member's join request is declined, their join is answered with a
removal (no quiz, no welcome), and a message of theirs is deleted and, unless a
removal from this group is already under way (planned, a person's task, or made in the
last :data:`IN_FLIGHT` seconds), followed by one: a member the bot kicked who came
back unseen is removed again. Staff, bots and the
group's exempt members are never touched. Nothing else sees these events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shequn.actions.blocklist import REASON, listed, removals_of, remove
from shequn.events import JoinRequested, MemberJoined, MessagePosted

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["IN_FLIGHT", "handle"]

#: Seconds after a removal was made in which the member's messages are taken to have
#: been sent before it (delivered late): deleted, not answered with another removal.
IN_FLIGHT = 60.0


async def handle(ctx: Context) -> bool:
    ev, s = ctx.event, ctx.settings
    if s.blocklist == "off":
        return False
    if isinstance(ev, JoinRequested | MemberJoined):
        member = ev.member
    elif isinstance(ev, MessagePosted) and ev.sender is not None:
        member = ev.sender
    else:
        return False
    if member.is_operator or member.is_bot or member.platform_id in s.exempt:
        return False
    entry = listed(ctx.conn, ctx.platform.name, member.platform_id)
    if entry is None:
        return False
    evidence = {"blocklist_id": entry.id, "listed_in": entry.group_id, "rule": entry.rule}
    if isinstance(ev, JoinRequested):
        params = {"request_id": ev.request_id, "approve": False}
        ctx.plan(
            "approve_join", params=params, member_id=member.platform_id, reason=REASON,
            evidence=evidence,
        )  # fmt: skip
        return True
    if isinstance(ev, MessagePosted):
        ctx.plan(
            "delete", params={"message_id": ev.message_id}, member_id=member.platform_id,
            reason=REASON, evidence={**evidence, "text": ev.text[:2000]},
        )  # fmt: skip
    if isinstance(ev, MemberJoined) or not _under_way(ctx, entry):
        aid = remove(ctx.conn, ctx.platform, entry, ev.group_id, now=ctx.now, event_key=ctx.key)
        ctx.planned.append(aid)
    return True


def _under_way(ctx: Context, entry: object) -> bool:
    """A removal from this group is planned, asked of a person, or just made."""
    for r in removals_of(ctx.conn, entry, ctx.event.group_id):
        if r.status in ("planned", "human_task"):
            return True
        if r.status == "done" and ctx.now - (r.done_at or r.created_at) < IN_FLIGHT:
            return True
    return False
