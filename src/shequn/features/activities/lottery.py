"""Lotteries (抽奖) tied to activity, with a verifiable draw (see :mod:`.draw`).

``/lottery 标题`` or ``发起抽奖 标题`` (staff), with options ``2人``/``--winners 2``,
``60分钟``/``--minutes 60``, ``近7天``/``--days 7`` (spoke in the group in the last N
days), ``50积分``/``--points 50`` (check-in points) and ``口令:抽我``/``--keyword``.
Members enter by sending the keyword; the ineligible are told why. ``开奖``/``/draw``
(starter or staff) or the deadline draws; the secret, seed, entrants and winners are
logged and announced.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, func, select, update

from shequn.events import MessagePosted
from shequn.features.activities.common import (
    after_command,
    announce,
    due,
    is_command,
    is_operator,
    name_of,
    open_in_group,
    plan_send,
    reply,
    say,
    show_time,
    take_flags,
)
from shequn.features.activities.draw import commitment, draw_seed, pick_winners
from shequn.features.checkin import points_balance
from shequn.features.checkin.scope import scope_groups
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["draw", "handle", "spoke_recently", "tick"]

START = ("/lottery", "发起抽奖")
DRAW = ("/draw", "开奖")

_TEXT = {
    "zh": {
        "start": "🎁 抽奖 #{id}：{title}\n名额 {k} 人；发送「{kw}」参与{rules}；{when}。\n"
        "公证承诺 sha256(secret) = {commitment}",
        "rules": "（条件：{rules}）",
        "days": "近 {n} 天在群里发过言",
        "points": "积分 ≥ {n}",
        "and": "，",
        "at": "{when} 开奖",
        "manual": "由发起人开奖",
        "staff": "只有管理员可以发起抽奖。",
        "bad": "发起抽奖的格式：/lottery [2人] [60分钟] [近7天] [50积分] [口令:抽我] 标题",
        "in": "🎟 @{name} 参与成功（第 {n} 位）。",
        "again": "@{name} 你已经参与过了。",
        "quiet": "@{name} 抱歉，本次抽奖需要近 {n} 天在群里发过言。",
        "poor": "@{name} 抱歉，本次抽奖需要 {need} 积分，你有 {have}。",
        "not_yours": "@{name} 只有发起人或管理员可以开奖。",
        "drawn": "🎉 抽奖 #{id} 开奖：{title}\n中奖：{winners}\n共 {n} 人参与。\n"
        "secret = {secret}\nseed = sha256({id}:{ref}:secret) = {seed}\n"
        "验证：shequn activity verify-draw {id}",
        "nobody": "无人中奖",
    },
    "en": {
        "start": "🎁 Lottery #{id}: {title}\n{k} winner(s); send “{kw}” to enter{rules}; {when}.\n"
        "Commitment sha256(secret) = {commitment}",
        "rules": " (rules: {rules})",
        "days": "spoke here in the last {n} days",
        "points": "≥ {n} points",
        "and": ", ",
        "at": "drawn at {when}",
        "manual": "drawn by the starter",
        "staff": "Only admins may start a lottery.",
        "bad": "Start a lottery with: /lottery [--winners 2] [--minutes 60] [--days 7] "
        "[--points 50] [--keyword WORD] Title",
        "in": "🎟 @{name} you are in (entry {n}).",
        "again": "@{name} you are already in.",
        "quiet": "@{name} sorry: this lottery is for members who spoke here in the last {n} days.",
        "poor": "@{name} sorry: this lottery needs {need} points, you have {have}.",
        "not_yours": "@{name} only the starter or an admin may draw.",
        "drawn": "🎉 Lottery #{id} drawn: {title}\nWinners: {winners}\n{n} entrants.\n"
        "secret = {secret}\nseed = sha256({id}:{ref}:secret) = {seed}\n"
        "Verify: shequn activity verify-draw {id}",
        "nobody": "nobody",
    },
}


#: The group's newest open lottery (``open_in_group`` asks for all of them).
_LATEST = open_in_group(schema.lotteries).limit(1)


async def handle(ctx: Context, ev: MessagePosted) -> bool:
    s = ctx.settings.activities.lottery
    if not s.enabled or ev.sender is None or ev.edited:
        return False
    text = ev.text.strip()
    lang = ctx.settings.language
    if (rest := after_command(text, START)) is not None:
        _start(ctx, ev, rest)
        return True
    where = {"platform": ctx.platform.name, "group_id": ev.group_id}
    if is_command(text, DRAW):
        row = ctx.conn.execute(_LATEST, where).first()
        if row is None:
            return False
        if ev.sender.platform_id != row.starter_id and not is_operator(ctx, ev.sender):
            reply(
                ctx, ev, say(_TEXT, lang, "not_yours", name=name_of(ev.sender)), "lottery.refused"
            )
            return True
        announce(ctx, draw(ctx.conn, row, ev.message_id, ev.ts, lang), "lottery.drawn")
        return True
    folded = " ".join(text.split()).casefold()
    for row in ctx.conn.execute(open_in_group(schema.lotteries), where).all():
        if row.keyword.casefold() == folded and (row.deadline is None or ev.ts < row.deadline):
            _enter(ctx, ev, row)
            return True
    return False


def _start(ctx: Context, ev: MessagePosted, rest: str) -> None:
    assert ev.sender is not None
    s, lang = ctx.settings.activities.lottery, ctx.settings.language
    if not is_operator(ctx, ev.sender):
        reply(ctx, ev, say(_TEXT, lang, "staff"), "lottery.refused")
        return
    flags, title = take_flags(rest)
    values = {
        "winners": flags.get("winners", s.default_winners),
        "minutes": flags.get("minutes", s.default_minutes),
        "days": flags.get("days", s.active_days),
        "points": flags.get("points", s.min_points),
    }
    keyword = str(flags.get("keyword", s.keyword)).strip()
    if not title or not keyword or values["winners"] < 1 or min(values.values()) < 0:
        reply(ctx, ev, say(_TEXT, lang, "bad"), "lottery.bad")
        return
    secret = secrets.token_hex(32)
    minutes = values["minutes"]
    lid = ctx.conn.execute(
        schema.lotteries.insert().values(
            platform=ctx.platform.name,
            group_id=ev.group_id,
            message_id=ev.message_id,
            starter_id=ev.sender.platform_id,
            title=title,
            keyword=keyword[:64],
            winners=values["winners"],
            active_days=values["days"],
            min_points=values["points"],
            secret=secret,
            commitment=commitment(secret),
            created_at=ev.ts,
            deadline=ev.ts + minutes * 60 if minutes else None,
            status="open",
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    t = _TEXT[lang]
    rules = []
    if values["days"]:
        rules.append(t["days"].format(n=values["days"]))
    if values["points"]:
        rules.append(t["points"].format(n=values["points"]))
    tz = ctx.settings.activities.timezone
    when = t["at"].format(when=show_time(ev.ts + minutes * 60, tz)) if minutes else t["manual"]
    text = t["start"].format(
        id=lid,
        title=title,
        k=values["winners"],
        kw=keyword,
        rules=t["rules"].format(rules=t["and"].join(rules)) if rules else "",
        when=when,
        commitment=commitment(secret),
    )
    announce(ctx, text, "lottery.start", ev.sender.platform_id)


def spoke_recently(
    conn: Connection,
    platform: str,
    group: str,
    member: str,
    since: float,
    before: float,
) -> bool:
    """Whether ``member`` posted in ``group`` in ``[since, before)``.

    ``before`` is the entry's own time, so the entry message never qualifies itself.
    """
    m, g, mem = schema.messages, schema.groups, schema.members
    q = (
        select(func.count())
        .select_from(m.join(g, g.c.id == m.c.group_id).join(mem, mem.c.id == m.c.member_id))
        .where(
            g.c.platform == platform,
            g.c.platform_id == group,
            mem.c.platform == platform,
            mem.c.platform_id == member,
            m.c.ts >= since,
            m.c.ts < before,
        )
    )
    return bool(conn.execute(q).scalar_one())


def _enter(ctx: Context, ev: MessagePosted, row: Row[Any]) -> None:
    assert ev.sender is not None
    lang, mid, name = ctx.settings.language, ev.sender.platform_id, name_of(ev.sender)
    conn, pf, g = ctx.conn, ctx.platform.name, ev.group_id
    le = schema.lottery_entries
    if conn.execute(
        select(le.c.id).where(le.c.lottery_id == row.id, le.c.member_id == mid)
    ).first():
        reply(ctx, ev, say(_TEXT, lang, "again", name=name), "lottery.again")
        return
    if row.active_days and not spoke_recently(
        conn, pf, g, mid, ev.ts - row.active_days * 86400, ev.ts
    ):
        reply(
            ctx, ev, say(_TEXT, lang, "quiet", name=name, n=row.active_days), "lottery.ineligible"
        )
        return
    # Points are the check-in feature's: per group, or across its group set.
    scope = scope_groups(conn, pf, g, ctx.settings.checkin)
    if row.min_points and (have := points_balance(conn, pf, scope, mid)) < row.min_points:
        reply(
            ctx,
            ev,
            say(_TEXT, lang, "poor", name=name, need=row.min_points, have=have),
            "lottery.ineligible",
        )
        return
    conn.execute(
        le.insert().values(
            lottery_id=row.id, member_id=mid, name=name, message_id=ev.message_id, ts=ev.ts
        )
    )
    n = conn.execute(select(func.count()).where(le.c.lottery_id == row.id)).scalar_one()
    reply(ctx, ev, say(_TEXT, lang, "in", name=name, n=n), "lottery.entered")


def draw(conn: Connection, row: Row[Any], close_ref: str, now: float, lang: str) -> str:
    """Draw lottery ``row`` closed by ``close_ref``; log everything; the announcement."""
    lt, le = schema.lotteries, schema.lottery_entries
    entries = conn.execute(select(le.c.member_id, le.c.name).where(le.c.lottery_id == row.id)).all()
    names = {e.member_id: e.name for e in entries}
    entrants = sorted(names)
    seed = draw_seed(row.id, close_ref, row.secret)
    winners = pick_winners(seed, entrants, row.winners)
    for rank, mid in enumerate(winners, 1):
        conn.execute(
            update(le).where(le.c.lottery_id == row.id, le.c.member_id == mid).values(rank=rank)
        )
    conn.execute(
        update(lt)
        .where(lt.c.id == row.id)
        .values(
            status="drawn",
            close_ref=close_ref[:160],
            seed=seed,
            entrants=json.dumps(entrants, ensure_ascii=False),
            result=json.dumps(winners, ensure_ascii=False),
            drawn_at=now,
        )
    )
    t = _TEXT[lang]
    shown = " ".join(f"@{names[m] or m}" for m in winners) or t["nobody"]
    return t["drawn"].format(
        id=row.id,
        title=row.title,
        winners=shown,
        n=len(entrants),
        secret=row.secret,
        ref=close_ref,
        seed=seed,
    )


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Draw the lotteries whose deadline has passed."""
    for row in due(conn, schema.lotteries, now):
        platform = platforms.get(row.platform)
        if platform is None:
            continue
        lang = settings_for(row.platform, row.group_id).language
        text = draw(conn, row, f"deadline:{row.deadline:.0f}", now, lang)
        plan_send(
            conn,
            platform,
            row.group_id,
            text,
            now=now,
            reason="lottery.drawn",
            key=f"activities.lottery.draw:{row.id}",
        )
