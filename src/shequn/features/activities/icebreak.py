"""Ice-breakers (破冰): a self-introduction prompt for newcomers, tracked done / not done.

On :class:`MemberJoined` a row ``pending`` is written; the tick sends the prompt right
after the join, or, while the entry gate is still testing the newcomer (quiz, captcha,
approval), once the gate lets them in (the row becomes ``left`` if it does not).
The newcomer's first message of at least ``min_chars`` characters within
``window_hours`` of the prompt is their introduction (``done``); past the window the
tick marks the row ``missed``; leaving first marks it ``left``. ``自我介绍名单`` /
``/intros`` (staff) lists who has and who has not introduced themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from shequn.events import MemberJoined, MemberLeft, MessagePosted
from shequn.features.activities.common import (
    announce,
    is_command,
    is_operator,
    name_of,
    plan_send,
    say,
)
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["LIST", "joined", "left", "listing", "observe", "tick"]

LIST = ("/intros", "自我介绍名单")

_TEXT = {
    "zh": {
        "prompt": "👋 欢迎 {name}！请用几句话介绍一下自己：城市、昵称、行业，以及为什么来到这里。",
        "thanks": "🙌 谢谢 {name} 的自我介绍，欢迎常来聊！",
        "list": "👋 新人自我介绍：\n已完成（{n_done}）：{done}\n未完成（{n_not}）：{not_done}",
        "nobody": "（无）",
    },
    "en": {
        "prompt": "👋 Welcome {name}! Please introduce yourself in a few lines: where you "
        "are, what you do, and what brings you here.",
        "thanks": "🙌 Thanks for the introduction, {name}; glad to have you here!",
        "list": "👋 Newcomers' introductions:\nDone ({n_done}): {done}\n"
        "Not done ({n_not}): {not_done}",
        "nobody": "(nobody)",
    },
}


def joined(ctx: Context, ev: MemberJoined) -> None:
    """Track the newcomer for the tick to prompt (a rejoin keeps the first row)."""
    s = ctx.settings.activities.icebreak
    if not s.enabled or ev.member.is_bot or is_operator(ctx, ev.member):
        return
    ib = schema.icebreakers
    mid = ev.member.platform_id
    seen = ctx.conn.execute(
        select(ib.c.id, ib.c.status).where(
            ib.c.platform == ctx.platform.name, ib.c.group_id == ev.group_id, ib.c.member_id == mid
        )
    ).first()
    if seen is not None and seen.status != "left":
        return  # a rejoin: introduced (or reminded) already
    gate = _gate_state(ctx.conn, ctx.platform.name, ev.group_id, mid)
    if gate not in (None, "pending", "passed") or _turned_away(ctx, mid):
        return  # the gate turned them away at the door (a layer gate decides at once)
    # The prompt goes out from the tick, a moment after the gate's own welcome (or once
    # the gate has let them in): two bot messages in the same instant read as noise.
    values = dict(
        name=name_of(ev.member),
        joined_at=ev.ts,
        deadline=ev.ts + s.window_hours * 3600,
        status="pending",
        prompted_at=None,
    )
    if seen is None:
        ctx.conn.execute(
            ib.insert().values(
                platform=ctx.platform.name, group_id=ev.group_id, member_id=mid, **values
            )
        )
    else:  # left before introducing themselves and came back: a fresh start
        ctx.conn.execute(update(ib).where(ib.c.id == seen.id).values(**values))


def _turned_away(ctx: Context, member: str) -> bool:
    """Whether an earlier handler planned to remove ``member`` for this very event."""
    a = schema.bot_actions
    q = select(a.c.id).where(
        a.c.platform == ctx.platform.name,
        a.c.event_key == ctx.key,
        a.c.member_id == member,
        a.c.kind.in_(("kick", "ban")),
    )
    return ctx.conn.execute(q).first() is not None


def _gate_state(conn: Connection, platform: str, group: str, member: str) -> str | None:
    """The state of the member's latest entry-gate check (``pending`` while tested)."""
    g = schema.gate_entries
    return conn.execute(
        select(g.c.state)
        .where(g.c.platform == platform, g.c.group_id == group, g.c.member_id == member)
        .order_by(g.c.id.desc())
        .limit(1)
    ).scalar()


def _prompt(template: str, lang: str, name: str) -> str:
    return (template or _TEXT[lang]["prompt"]).format(name=name)


def left(ctx: Context, ev: MemberLeft) -> None:
    """A newcomer who leaves before introducing themselves is no longer waited for."""
    ib = schema.icebreakers
    ctx.conn.execute(
        update(ib)
        .where(
            ib.c.platform == ctx.platform.name,
            ib.c.group_id == ev.group_id,
            ib.c.member_id == ev.member.platform_id,
            ib.c.status == "pending",
        )
        .values(status="left")
    )


def observe(ctx: Context, ev: MessagePosted) -> None:
    """Mark a pending newcomer's introduction done when this message is one."""
    s = ctx.settings.activities.icebreak
    if not s.enabled or ev.sender is None or ev.edited:
        return
    if len("".join(ev.text.split())) < s.min_chars:
        return
    ib = schema.icebreakers
    done = ctx.conn.execute(
        update(ib)
        .where(
            ib.c.platform == ctx.platform.name,
            ib.c.group_id == ev.group_id,
            ib.c.member_id == ev.sender.platform_id,
            ib.c.status == "pending",
            ib.c.deadline >= ev.ts,
        )
        .values(status="done", message_id=ev.message_id, intro=ev.text[:2000], done_at=ev.ts)
        .returning(ib.c.id)
    ).first()
    if done is not None and s.thank:
        text = say(_TEXT, ctx.settings.language, "thanks", name=name_of(ev.sender))
        announce(ctx, text, "icebreak.done", ev.sender.platform_id)


def listing(ctx: Context, ev: MessagePosted) -> bool:
    """``自我介绍名单``: who has introduced themselves and who has not (staff only)."""
    if ev.sender is None or not is_command(ev.text, LIST):
        return False
    if not is_operator(ctx, ev.sender):
        return False
    ib = schema.icebreakers
    rows = ctx.conn.execute(
        select(ib.c.name, ib.c.member_id, ib.c.status)
        .where(ib.c.platform == ctx.platform.name, ib.c.group_id == ev.group_id)
        .order_by(ib.c.joined_at, ib.c.id)
    ).all()
    lang = ctx.settings.language
    nobody = _TEXT[lang]["nobody"]
    done = [r.name or r.member_id for r in rows if r.status == "done"]
    not_done = [r.name or r.member_id for r in rows if r.status in ("pending", "missed")]
    text = say(_TEXT, lang, "list", n_done=len(done), done="、".join(done) or nobody,
               n_not=len(not_done), not_done="、".join(not_done) or nobody)  # fmt: skip
    announce(ctx, text, "icebreak.list")
    return True


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Prompt newcomers the gate has let in; mark the windows that passed ``missed``."""
    ib = schema.icebreakers
    waiting = conn.execute(
        select(ib).where(ib.c.status == "pending", ib.c.prompted_at.is_(None)).order_by(ib.c.id)
    ).all()
    for row in waiting:
        gate = _gate_state(conn, row.platform, row.group_id, row.member_id)
        if gate == "pending":
            continue
        if gate not in (None, "passed"):  # failed, expired or left: never really in
            conn.execute(update(ib).where(ib.c.id == row.id).values(status="left"))
            continue
        platform = platforms.get(row.platform)
        if platform is None:
            continue
        gs = settings_for(row.platform, row.group_id)
        s = gs.activities.icebreak
        if not gs.activities.enabled or not s.enabled:
            continue
        conn.execute(
            update(ib)
            .where(ib.c.id == row.id)
            .values(prompted_at=now, deadline=now + s.window_hours * 3600)
        )
        text = _prompt(s.prompt, gs.language, row.name or row.member_id)
        key = f"activities.icebreak.prompt:{row.id}"
        plan_send(conn, platform, row.group_id, text, now=now, reason="icebreak.prompt", key=key)
    conn.execute(
        update(ib)
        .where(ib.c.status == "pending", ib.c.prompted_at.is_not(None), ib.c.deadline < now)
        .values(status="missed")
    )
