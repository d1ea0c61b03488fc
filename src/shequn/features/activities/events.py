"""Events with sign-up (线上分享 / 线下聚会): capacity, waiting list, reminders, attendance.

``/event 标题 | 2026-10-01 19:30 | 上海 | 20`` or ``发起活动 ...`` (staff; place ``线上``
or ``online`` for an online session; capacity 0 or left out: no limit). ``报名`` /
``/signup`` and ``取消报名`` / ``/cancel`` (optionally ``#id``) sign up and cancel; a
cancellation promotes the first of the waiting list at once. ``活动名单`` /
``/attendees`` lists who is in. The tick reminds the signed-up members
``events.remind_minutes`` before the start; ``活动签到`` / ``到场`` / ``/attend`` checks in
attendance around the start. ``同城分群`` / ``/cities`` (staff) suggests city
sub-groups from the members' stated cities.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, and_, func, select, update

from shequn.events import MessagePosted
from shequn.features.activities.cities import suggest_city_groups
from shequn.features.activities.common import (
    after_command,
    announce,
    is_command,
    is_operator,
    name_of,
    plan_send,
    reply,
    say,
    show_time,
    split_fields,
)
from shequn.features.checkin.behaviours import credit
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "parse_time", "tick"]

START = ("/event", "发起活动")
SIGNUP = ("/signup", "报名")
CANCEL = ("/cancel", "取消报名")
LIST = ("/attendees", "活动名单")
ATTEND = ("/attend", "活动签到", "到场")
CITIES = ("/cities", "同城分群")
_ONLINE = ("线上", "online", "在线", "腾讯会议", "zoom")
_ID = re.compile(r"^#?(\d+)$")

_TEXT = {
    "zh": {
        "start": "📅 活动 #{id}：{title}\n时间：{when}\n地点：{place}\n名额：{cap}\n"
        "回复「报名」参加，「取消报名」退出。",
        "online": "线上",
        "nolimit": "不限",
        "bad": "发起活动的格式：/event 标题 | 2026-10-01 19:30 | 城市或线上 | 人数",
        "staff": "只有管理员可以发起活动。",
        "going": "✅ @{name} 报名成功：{title}（{n}/{cap}）",
        "waiting": "⏳ @{name} 名额已满，你在候补第 {pos} 位：{title}",
        "already": "@{name} 你已经报名了（{what}）。",
        "is_going": "正式",
        "is_waiting": "候补第 {pos} 位",
        "started": "@{name} 活动已开始，报名已截止。",
        "cancelled": "@{name} 已取消报名：{title}",
        "not_in": "@{name} 你没有报名这个活动。",
        "promoted": "🎉 @{name} 有人退出，你已从候补转为正式参加：{title}",
        "list": "📅 活动 #{id}：{title}（{when}，{place}）\n正式 {n}/{cap}：{going}\n候补：{waiting}",
        "nobody": "（无）",
        "remind": "⏰ 活动提醒：{title} 将于 {when} 开始（{place}）。已报名：{names}",
        "attended": "✅ @{name} 到场签到成功：{title}",
        "not_now": "@{name} 现在不是签到时间（开始前 {before} 分钟到开始后 {after} 分钟）。",
        "cities": "🏙 同城分群建议（≥ {n} 人）：\n{lines}",
        "city": "{city}（{k} 人）：{names}",
        "no_cities": "🏙 还没有哪个城市够 {n} 人，暂不建议分群。",
    },
    "en": {
        "start": "📅 Event #{id}: {title}\nWhen: {when}\nWhere: {place}\nPlaces: {cap}\n"
        "Reply “/signup” to join, “/cancel” to drop out.",
        "online": "online",
        "nolimit": "no limit",
        "bad": "Start an event with: /event Title | 2026-10-01 19:30 | city or online | places",
        "staff": "Only admins may start an event.",
        "going": "✅ @{name} you are in: {title} ({n}/{cap})",
        "waiting": "⏳ @{name} the event is full; you are number {pos} on the waiting list: {title}",
        "already": "@{name} you are already signed up ({what}).",
        "is_going": "in",
        "is_waiting": "waiting list number {pos}",
        "started": "@{name} the event has started; sign-up is closed.",
        "cancelled": "@{name} your sign-up is cancelled: {title}",
        "not_in": "@{name} you are not signed up for this event.",
        "promoted": "🎉 @{name} a place came free: you are now in for {title}",
        "list": "📅 Event #{id}: {title} ({when}, {place})\nIn {n}/{cap}: {going}\nWaiting: {waiting}",
        "nobody": "(nobody)",
        "remind": "⏰ Reminder: {title} starts at {when} ({place}). Signed up: {names}",
        "attended": "✅ @{name} attendance checked in: {title}",
        "not_now": "@{name} attendance check-in is open from {before} minutes before "
        "to {after} minutes after the start.",
        "cities": "🏙 City sub-groups worth starting (≥ {n} members):\n{lines}",
        "city": "{city} ({k}): {names}",
        "no_cities": "🏙 No city has {n} members yet: no sub-group suggested.",
    },
}

_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M", "%m-%d %H:%M",
            "%m/%d %H:%M", "%m月%d日 %H:%M")  # fmt: skip


def parse_time(text: str, tz: str, now: float) -> float | None:
    """``2026-10-01 19:30`` (or ``10-01 19:30``: the next such date) in ``tz``, as epoch."""
    t = " ".join(text.replace("：", ":").split())
    zone = ZoneInfo(tz)
    year = datetime.fromtimestamp(now, zone).year
    for fmt in _FORMATS:
        dated = "%Y" in fmt
        try:
            parsed = datetime.strptime(  # noqa: DTZ007 - the zone is attached below
                t if dated else f"{year} {t}", fmt if dated else f"%Y {fmt}"
            )
        except ValueError:
            continue
        local = parsed.replace(tzinfo=zone)
        if not dated and local.timestamp() < now:
            local = local.replace(year=year + 1)
        return local.timestamp()
    return None


async def handle(ctx: Context, ev: MessagePosted) -> bool:
    s = ctx.settings.activities.events
    if not s.enabled or ev.sender is None or ev.edited:
        return False
    text = ev.text.strip()
    if (rest := after_command(text, START)) is not None:
        _start(ctx, ev, rest)
        return True
    if is_command(text, CITIES):
        return _cities(ctx, ev)
    for words, act in ((CANCEL, _cancel), (SIGNUP, _signup), (LIST, _list), (ATTEND, _attend)):
        rest = after_command(text, words)
        if rest is None:
            continue
        m = _ID.match(rest)
        if rest and m is None:
            return False  # "报名截止了吗" is a question, not a sign-up
        eid = int(m.group(1)) if m else None
        nearest = act is _attend  # attendance: the event starting (or started) around now
        event = _find(ctx.conn, ctx.platform.name, ev.group_id, eid, ev.ts, nearest=nearest)
        if event is None:
            return False
        act(ctx, ev, event)
        return True
    return False


def _find(
    conn: Connection, platform: str, group: str, eid: int | None, now: float, *, nearest: bool
) -> Row[Any] | None:
    """Event ``eid``; else the nearest in time, or the next to start (else the latest)."""
    e = schema.activity_events
    q = select(e).where(e.c.platform == platform, e.c.group_id == group, e.c.status == "open")
    if eid is not None:
        return conn.execute(q.where(e.c.id == eid)).first()
    if nearest:
        rows = conn.execute(q).all()
        return min(rows, key=lambda r: abs(r.starts_at - now), default=None)
    upcoming = conn.execute(
        q.where(e.c.starts_at > now).order_by(e.c.starts_at, e.c.id).limit(1)
    ).first()
    return upcoming or conn.execute(q.order_by(e.c.id.desc()).limit(1)).first()


def _place(event: Row[Any], lang: str) -> str:
    return _TEXT[lang]["online"] if event.online else event.city


def _cap(event: Row[Any], lang: str) -> str:
    return str(event.capacity) if event.capacity else _TEXT[lang]["nolimit"]


def _start(ctx: Context, ev: MessagePosted, rest: str) -> None:
    assert ev.sender is not None
    lang, tz = ctx.settings.language, ctx.settings.activities.timezone
    if not is_operator(ctx, ev.sender):
        reply(ctx, ev, say(_TEXT, lang, "staff"), "event.refused")
        return
    fields = split_fields(rest)
    starts = parse_time(fields[1], tz, ev.ts) if len(fields) >= 3 else None
    capacity = fields[3] if len(fields) >= 4 else "0"
    if starts is None or starts <= ev.ts or len(fields) > 4 or not capacity.isdigit():
        reply(ctx, ev, say(_TEXT, lang, "bad"), "event.bad")
        return
    place = fields[2]
    online = place.casefold() in _ONLINE
    e = schema.activity_events
    eid = ctx.conn.execute(
        e.insert().values(
            platform=ctx.platform.name,
            group_id=ev.group_id,
            message_id=ev.message_id,
            organiser_id=ev.sender.platform_id,
            title=fields[0],
            starts_at=starts,
            city="" if online else place[:64],
            online=online,
            capacity=int(capacity),
            created_at=ev.ts,
            status="open",
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    event = ctx.conn.execute(select(e).where(e.c.id == eid)).one()
    text = say(_TEXT, lang, "start", id=eid, title=event.title, when=show_time(starts, tz),
               place=_place(event, lang), cap=_cap(event, lang))  # fmt: skip
    announce(ctx, text, "event.start", ev.sender.platform_id)


def _signups(conn: Connection, event_id: int, status: str) -> list[Row[Any]]:
    su = schema.event_signups
    q = select(su).where(su.c.event_id == event_id, su.c.status == status)
    return list(conn.execute(q.order_by(su.c.ts, su.c.id)).all())


def _signup(ctx: Context, ev: MessagePosted, event: Row[Any]) -> None:
    assert ev.sender is not None
    lang, mid, name = ctx.settings.language, ev.sender.platform_id, name_of(ev.sender)
    su = schema.event_signups
    t = _TEXT[lang]
    mine = ctx.conn.execute(
        select(su).where(su.c.event_id == event.id, su.c.member_id == mid)
    ).first()
    if mine is not None and mine.status != "cancelled":
        if mine.status == "going":
            what = t["is_going"]
        else:
            waiting = [r.member_id for r in _signups(ctx.conn, event.id, "waiting")]
            what = t["is_waiting"].format(pos=waiting.index(mid) + 1)
        reply(ctx, ev, t["already"].format(name=name, what=what), "event.already")
        return
    if event.starts_at <= ev.ts:
        reply(ctx, ev, t["started"].format(name=name), "event.closed")
        return
    going = len(_signups(ctx.conn, event.id, "going"))
    status = "going" if not event.capacity or going < event.capacity else "waiting"
    values = dict(status=status, ts=ev.ts, name=name, attended_at=None)
    if mine is None:
        ctx.conn.execute(su.insert().values(event_id=event.id, member_id=mid, **values))
    else:
        ctx.conn.execute(update(su).where(su.c.id == mine.id).values(**values))
    if status == "going":
        text = t["going"].format(name=name, title=event.title, n=going + 1, cap=_cap(event, lang))
    else:
        pos = len(_signups(ctx.conn, event.id, "waiting"))
        text = t["waiting"].format(name=name, title=event.title, pos=pos)
    reply(ctx, ev, text, f"event.{status}")


def _cancel(ctx: Context, ev: MessagePosted, event: Row[Any]) -> None:
    assert ev.sender is not None
    lang, mid, name = ctx.settings.language, ev.sender.platform_id, name_of(ev.sender)
    su = schema.event_signups
    t = _TEXT[lang]
    mine = ctx.conn.execute(
        select(su).where(
            su.c.event_id == event.id, su.c.member_id == mid, su.c.status != "cancelled"
        )
    ).first()
    if mine is None:
        reply(ctx, ev, t["not_in"].format(name=name), "event.not_in")
        return
    ctx.conn.execute(update(su).where(su.c.id == mine.id).values(status="cancelled", ts=ev.ts))
    reply(ctx, ev, t["cancelled"].format(name=name, title=event.title), "event.cancelled")
    if mine.status != "going" or event.starts_at <= ev.ts:
        return
    waiting = _signups(ctx.conn, event.id, "waiting")
    if waiting:
        first = waiting[0]
        ctx.conn.execute(update(su).where(su.c.id == first.id).values(status="going", ts=ev.ts))
        text = t["promoted"].format(name=first.name or first.member_id, title=event.title)
        announce(ctx, text, "event.promoted", first.member_id)


def _list(ctx: Context, ev: MessagePosted, event: Row[Any]) -> None:
    lang, tz = ctx.settings.language, ctx.settings.activities.timezone
    t = _TEXT[lang]
    going = _signups(ctx.conn, event.id, "going")
    waiting = _signups(ctx.conn, event.id, "waiting")

    def names(rows: list[Row[Any]]) -> str:
        return "、".join(f"{i}. {r.name}" for i, r in enumerate(rows, 1)) or t["nobody"]

    text = t["list"].format(id=event.id, title=event.title, when=show_time(event.starts_at, tz),
                            place=_place(event, lang), n=len(going), cap=_cap(event, lang),
                            going=names(going), waiting=names(waiting))  # fmt: skip
    announce(ctx, text, "event.list")


def _attend(ctx: Context, ev: MessagePosted, event: Row[Any]) -> None:
    assert ev.sender is not None
    s, lang, name = ctx.settings.activities.events, ctx.settings.language, name_of(ev.sender)
    su = schema.event_signups
    t = _TEXT[lang]
    opens = event.starts_at - s.attend_before_minutes * 60
    closes = event.starts_at + s.attend_after_minutes * 60
    if not opens <= ev.ts <= closes:
        text = t["not_now"].format(
            name=name, before=s.attend_before_minutes, after=s.attend_after_minutes
        )
        reply(ctx, ev, text, "event.attend_closed")
        return
    mine = and_(
        su.c.event_id == event.id, su.c.member_id == ev.sender.platform_id, su.c.status == "going"
    )
    if ctx.conn.execute(select(su.c.id).where(mine)).first() is None:
        reply(ctx, ev, t["not_in"].format(name=name), "event.not_in")
        return
    ctx.conn.execute(update(su).where(mine, su.c.attended_at.is_(None)).values(attended_at=ev.ts))
    credit(ctx, ev.sender.platform_id, "attend", f"event:{event.id}", ev.ts)
    reply(ctx, ev, t["attended"].format(name=name, title=event.title), "event.attended")


def _cities(ctx: Context, ev: MessagePosted) -> bool:
    assert ev.sender is not None
    if not is_operator(ctx, ev.sender):
        return False
    lang, n = ctx.settings.language, ctx.settings.activities.events.min_city_members
    t = _TEXT[lang]
    groups = suggest_city_groups(ctx.conn, ctx.platform.name, ev.group_id, n)
    if not groups:
        announce(ctx, t["no_cities"].format(n=n), "event.cities")
        return True
    lines = "\n".join(
        t["city"].format(city=c, k=len(names), names="、".join(names)) for c, names in groups
    )
    announce(ctx, t["cities"].format(n=n, lines=lines), "event.cities")
    return True


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Remind signed-up members before the start: one reminder per threshold passed.

    Only the nearest threshold already passed is sent: an event created an hour before
    its start gets the one-hour reminder, not also the one-day one.
    """
    e, a = schema.activity_events, schema.bot_actions
    upcoming = conn.execute(
        select(e).where(e.c.status == "open", e.c.starts_at > now).order_by(e.c.id)
    ).all()
    for event in upcoming:
        platform = platforms.get(event.platform)
        if platform is None:
            continue
        gs = settings_for(event.platform, event.group_id)
        s = gs.activities.events
        if not gs.activities.enabled or not s.enabled:
            continue
        due = [m for m in s.remind_minutes if now >= event.starts_at - m * 60]
        if not due:
            continue
        key = f"activities.event.remind:{event.id}:{min(due)}"
        done = conn.execute(
            select(func.count()).where(a.c.platform == event.platform, a.c.event_key == key)
        ).scalar_one()
        if done:
            continue
        going = _signups(conn, event.id, "going")
        if not going:
            continue
        lang, tz = gs.language, gs.activities.timezone
        text = say(_TEXT, lang, "remind", title=event.title, when=show_time(event.starts_at, tz),
                   place=_place(event, lang),
                   names=" ".join(f"@{r.name or r.member_id}" for r in going))  # fmt: skip
        plan_send(conn, platform, event.group_id, text, now=now, reason="event.remind", key=key)
