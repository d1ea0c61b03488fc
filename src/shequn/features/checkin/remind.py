"""Evening reminders: members on a streak of 3+ who have not checked in yet today."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from shequn.actions.moderation import plan
from shequn.features.checkin.handler import streak_and_total
from shequn.features.checkin.scope import in_scope, scope_groups
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["plan_reminders"]

_TEXT = {
    "zh": "⏰ 今天还没签到哦，别让连续记录断了：{names}",
    "en": "⏰ Not checked in yet today; keep your streak going: {names}",
}


def plan_reminders(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    """Plan one ``send`` per group listing who would lose a streak of 3+; once a day.

    Meant for the pipeline's ``tick``; the ``event_key`` ``checkin.remind:<group>:<day>``
    makes a second tick the same day a no-op. With ``scope = "set"`` the streak spans
    the set and a member is reminded once, in the group they last checked in.
    """
    c, a = schema.checkins, schema.bot_actions
    planned: list[int] = []
    groups = conn.execute(select(c.c.platform, c.c.group_id).distinct()).all()
    for pf, group in groups:
        platform = platforms.get(pf)
        if platform is None:
            continue
        gs = settings_for(pf, group)
        s = gs.checkin
        if not s.enabled or s.remind_hour < 0:
            continue
        local = datetime.fromtimestamp(now, ZoneInfo(s.timezone))
        if local.hour < s.remind_hour:
            continue
        today = local.date()
        key = f"checkin.remind:{group}:{today.isoformat()}"
        done = conn.execute(select(a.c.id).where(a.c.platform == pf, a.c.event_key == key)).first()
        if done is not None:
            continue
        names = []
        sc = scope_groups(conn, pf, group, s)
        members = conn.execute(
            select(c.c.member_id, c.c.name, c.c.group_id)
            .where(c.c.platform == pf, in_scope(c.c.group_id, sc))
            .order_by(c.c.ts, c.c.id)
        ).all()
        latest = {m.member_id: m.name for m in members}
        home = {m.member_id: m.group_id for m in members}
        for mid, name in latest.items():
            if home[mid] != group:
                continue  # reminded in the set's group they last checked in
            yesterday = today - timedelta(days=1)
            if streak_and_total(conn, pf, sc, mid, today)[0]:
                continue  # already checked in today
            if streak_and_total(conn, pf, sc, mid, yesterday)[0] >= 3:
                names.append(f"@{name or mid}")
        if not names:
            continue
        text = _TEXT[gs.language].format(names=" ".join(names))
        planned.append(
            plan(
                conn,
                platform,
                group_id=group,
                kind="send",
                now=now,
                params={"text": text},
                reason="checkin.remind",
                event_key=key,
            )
        )
    return planned
