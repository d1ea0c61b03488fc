"""The check-in handler: 签到, 补签 and 排行榜 commands in a group chat."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from shequn.events import MessagePosted, ReactionAdded
from shequn.features.checkin import rewards
from shequn.features.checkin.awards import me_text
from shequn.features.checkin.behaviours import thanked
from shequn.features.checkin.points import award, points_balance, spend
from shequn.features.checkin.scope import Scope, in_scope, lock_member, scope_groups
from shequn.features.checkin.settings import CheckinSettings
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "local_day", "streak_and_total"]

_TEXT = {
    "zh": {
        "ok": "@{name} 签到成功！连续 {streak} 天，累计 {total} 天，积分 {points}（+{gain}）",
        "again": "@{name} 今天已经签到过了：连续 {streak} 天，累计 {total} 天，积分 {points}",
        "tier": "🎉 @{name} 连续签到 {days} 天，获得称号「{title}」，奖励 {bonus} 积分！",
        "makeup": "@{name} 补签成功（{day}），花费 {cost} 积分：连续 {streak} 天，积分 {points}",
        "no_gap": "@{name} 无需补签：昨天已签到，或补签也接不上连续天数。",
        "poor": "@{name} 积分不足：补签需要 {cost} 积分，你有 {points}。",
        "limit": "@{name} 本月补签次数已用完（每月 {n} 次）。",
        "top": "🏆 积分排行榜",
        "week": "本周",
        "all": "总榜",
        "empty": "（暂无）",
    },
    "en": {
        "ok": "@{name} checked in! Streak {streak} days, {total} days in all, "
        "{points} points (+{gain})",
        "again": "@{name} already checked in today: streak {streak} days, "
        "{total} days in all, {points} points",
        "tier": "🎉 @{name} reached a {days}-day streak: title “{title}”, +{bonus} points!",
        "makeup": "@{name} made up {day} for {cost} points: streak {streak} days, {points} points",
        "no_gap": "@{name} nothing to make up: yesterday is checked in, "
        "or filling it would not restore a streak.",
        "poor": "@{name} not enough points: a make-up costs {cost}, you have {points}.",
        "limit": "@{name} no make-ups left this month ({n} per month).",
        "top": "🏆 Points leaderboard",
        "week": "This week",
        "all": "All time",
        "empty": "(nobody yet)",
    },
}


def local_day(ts: float, tz: str) -> date:
    """The calendar day ``ts`` falls on in the time zone ``tz``."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).date()


def streak_and_total(
    conn: Connection, platform: str, group: Scope, member: str, day: date
) -> tuple[int, int]:
    """Consecutive days ending on ``day`` (0 if ``day`` is missing) and all days, in the
    group or across a set's groups (a day checked in twice there counts once)."""
    c = schema.checkins
    days = {
        r[0]
        for r in conn.execute(
            select(c.c.day).where(
                c.c.platform == platform, in_scope(c.c.group_id, group), c.c.member_id == member
            )
        )
    }
    streak, d = 0, day
    while d.isoformat() in days:
        streak += 1
        d -= timedelta(days=1)
    return streak, len(days)


def _checked_in(conn: Connection, platform: str, group: Scope, member: str, day: date) -> bool:
    c = schema.checkins
    q = select(c.c.id).where(
        c.c.platform == platform,
        in_scope(c.c.group_id, group),
        c.c.member_id == member,
        c.c.day == day.isoformat(),
    )
    return conn.execute(q).first() is not None


def _matches(text: str, words: tuple[str, ...]) -> bool:
    t = " ".join(text.split()).casefold()
    return any(t == w.casefold() for w in words)


async def handle(ctx: Context) -> bool:
    """Answer check-in, make-up, leaderboard, points and redemption commands.

    Other messages pass through; a reply that thanks an answer (or a 👍 on it) earns
    its author ``helpful`` points on the way.
    """
    ev, s = ctx.event, ctx.settings.checkin
    if s.enabled and isinstance(ev, ReactionAdded):
        thanked(ctx)
        return False
    if not s.enabled or not isinstance(ev, MessagePosted) or ev.sender is None:
        return False
    if ev.sender.is_bot or not ev.text:
        return False
    if _matches(ev.text, s.keywords):
        _check_in(ctx, ev, s)
    elif _matches(ev.text, s.makeup_keywords):
        _make_up(ctx, ev, s)
    elif _matches(ev.text, s.top_keywords):
        _leaderboard(ctx, ev, s)
    elif _matches(ev.text, s.me_keywords):
        _me(ctx, ev, s)
    elif not rewards.command(ctx, ev, s):
        thanked(ctx)
        return False
    return True  # a command is answered here: it is not a question for the watch


def _say(ctx: Context, ev: MessagePosted, key: str, **kw: object) -> None:
    assert ev.sender is not None
    text = _TEXT[ctx.settings.language][key].format(**kw)
    ctx.plan(
        "send", params={"text": text}, member_id=ev.sender.platform_id, reason=f"checkin.{key}"
    )


def _check_in(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> None:
    assert ev.sender is not None
    conn, pf, g = ctx.conn, ctx.platform.name, ev.group_id
    mid, name = ev.sender.platform_id, ev.sender.name or ev.sender.platform_id
    sc = scope_groups(conn, pf, g, s)
    lock_member(conn, pf, sc, mid)  # "checked in today?" then the check-in, not interleaved
    today = local_day(ev.ts, s.timezone)
    day = today.isoformat()
    if _checked_in(conn, pf, sc, mid, today):
        streak, total = streak_and_total(conn, pf, sc, mid, today)
        points = points_balance(conn, pf, sc, mid)
        _say(ctx, ev, "again", name=name, streak=streak, total=total, points=points)
        return
    conn.execute(
        schema.checkins.insert().values(
            platform=pf, group_id=g, member_id=mid, name=name, day=day, makeup=False, ts=ev.ts
        )
    )
    streak, total = streak_and_total(conn, pf, sc, mid, today)
    gain = award(conn, pf, g, mid, points=s.points, reason="checkin", day=day, ts=ev.ts,
                 cap=s.daily_cap, scope=sc)  # fmt: skip
    tiers = []
    for tier in sorted(s.tiers, key=lambda t: t.days):
        if streak >= tier.days and not _has_reason(conn, pf, sc, mid, f"checkin.tier.{tier.days}"):
            # The entry is written even when the cap leaves nothing: it marks the title
            # as given, so it is announced once.
            bonus = award(
                conn,
                pf,
                g,
                mid,
                points=tier.bonus,
                reason="checkin.tier",
                day=day,
                ts=ev.ts,
                cap=s.daily_cap,
                scope=sc,
            )
            _mark(conn, pf, g, mid, f"checkin.tier.{tier.days}", day, ev.ts)
            tiers.append((tier, bonus))
    points = points_balance(conn, pf, sc, mid)
    _say(ctx, ev, "ok", name=name, streak=streak, total=total, points=points, gain=gain)
    for tier, bonus in tiers:
        _say(ctx, ev, "tier", name=name, days=tier.days, title=tier.title, bonus=bonus)


def _has_reason(conn: Connection, platform: str, group: Scope, member: str, reason: str) -> bool:
    p = schema.points_ledger
    q = select(p.c.id).where(
        p.c.platform == platform,
        in_scope(p.c.group_id, group),
        p.c.member_id == member,
        p.c.reason == reason,
    )
    return conn.execute(q).first() is not None


def _mark(
    conn: Connection, platform: str, group: str, member: str, reason: str, day: str, ts: float
) -> None:
    conn.execute(
        schema.points_ledger.insert().values(
            platform=platform,
            group_id=group,
            member_id=member,
            delta=0,
            reason=reason,
            day=day,
            ts=ts,
        )
    )


def _make_up(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> None:
    assert ev.sender is not None
    conn, pf, g = ctx.conn, ctx.platform.name, ev.group_id
    mid, name = ev.sender.platform_id, ev.sender.name or ev.sender.platform_id
    sc = scope_groups(conn, pf, g, s)
    lock_member(conn, pf, sc, mid)
    today = local_day(ev.ts, s.timezone)
    yesterday = today - timedelta(days=1)
    # Only a gap of exactly yesterday, after a checked-in day before it, is filled:
    # otherwise the make-up would buy points of streak it never had.
    if _checked_in(conn, pf, sc, mid, yesterday) or not _checked_in(
        conn, pf, sc, mid, yesterday - timedelta(days=1)
    ):
        _say(ctx, ev, "no_gap", name=name)
        return
    p = schema.points_ledger
    month = today.isoformat()[:7]
    used = conn.execute(
        select(func.count()).where(
            p.c.platform == pf,
            in_scope(p.c.group_id, sc),
            p.c.member_id == mid,
            p.c.reason == "makeup",
            p.c.day >= f"{month}-01",
            p.c.day <= f"{month}-31",
        )
    ).scalar_one()
    if used >= s.makeup_per_month:
        _say(ctx, ev, "limit", name=name, n=s.makeup_per_month)
        return
    day = today.isoformat()
    if not spend(conn, pf, g, mid, points=s.makeup_cost, reason="makeup", day=day, ts=ev.ts,
                 scope=sc):  # fmt: skip
        points = points_balance(conn, pf, sc, mid)
        _say(ctx, ev, "poor", name=name, cost=s.makeup_cost, points=points)
        return
    conn.execute(
        schema.checkins.insert().values(
            platform=pf,
            group_id=g,
            member_id=mid,
            name=name,
            day=yesterday.isoformat(),
            makeup=True,
            ts=ev.ts,
        )
    )
    end = today if _checked_in(conn, pf, sc, mid, today) else yesterday
    streak, _total = streak_and_total(conn, pf, sc, mid, end)
    points = points_balance(conn, pf, sc, mid)
    _say(
        ctx,
        ev,
        "makeup",
        name=name,
        day=yesterday.isoformat(),
        cost=s.makeup_cost,
        streak=streak,
        points=points,
    )


def _me(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> None:
    assert ev.sender is not None
    conn, pf, g, mid = ctx.conn, ctx.platform.name, ev.group_id, ev.sender.platform_id
    sc = scope_groups(conn, pf, g, s)
    today = local_day(ev.ts, s.timezone)
    streak, total = streak_and_total(conn, pf, sc, mid, today)
    if not streak:  # not checked in yet today: the streak still runs to yesterday
        streak = streak_and_total(conn, pf, sc, mid, today - timedelta(days=1))[0]
    name = ev.sender.name or mid
    text = me_text(conn, pf, sc, mid, name, s, ctx.settings.language, today, streak, total)
    ctx.plan("send", params={"text": text}, member_id=mid, reason="checkin.me")


def _leaderboard(ctx: Context, ev: MessagePosted, s: CheckinSettings) -> None:
    conn, pf = ctx.conn, ctx.platform.name
    g = scope_groups(conn, pf, ev.group_id, s)
    today = local_day(ev.ts, s.timezone)
    monday = (today - timedelta(days=today.weekday())).isoformat()
    lang = ctx.settings.language
    t = _TEXT[lang]
    names = _names(conn, pf, g)
    lines = [t["top"]]
    for label, since in (("week", monday), ("all", None)):
        lines.append(f"{t[label]}:" if lang == "en" else f"{t[label]}：")
        board = _top(conn, pf, g, since)
        if not board:
            lines.append(t["empty"])
        for i, (mid, pts) in enumerate(board, 1):
            lines.append(f"{i}. {names.get(mid, mid)} {pts}")
    assert ev.sender is not None
    ctx.plan(
        "send",
        params={"text": "\n".join(lines)},
        member_id=ev.sender.platform_id,
        reason="checkin.top",
    )


def _top(conn: Connection, platform: str, group: Scope, since: str | None) -> list[tuple[str, int]]:
    p = schema.points_ledger
    total = func.sum(p.c.delta).label("total")
    q = select(p.c.member_id, total).where(p.c.platform == platform, in_scope(p.c.group_id, group))
    if since is not None:
        q = q.where(p.c.day >= since)
    q = q.group_by(p.c.member_id).having(func.sum(p.c.delta) > 0)
    q = q.order_by(total.desc(), p.c.member_id).limit(10)
    return [(r.member_id, int(r.total)) for r in conn.execute(q)]


def _names(conn: Connection, platform: str, group: Scope) -> dict[str, str]:
    c = schema.checkins
    q = select(c.c.member_id, c.c.name).where(
        c.c.platform == platform, in_scope(c.c.group_id, group)
    )
    return {r.member_id: r.name for r in conn.execute(q.order_by(c.c.ts))}
