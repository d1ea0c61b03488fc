"""Honours from points (荣誉驱动): the weekly top 10 and a member's own card.

:func:`plan_weekly_awards` is a tick job: on Monday after ``weekly_hour`` (group-local)
it ranks last week's *earned* points (spending does not lower a place), writes one
``point_awards`` row per place, credits ``weekly_bonus`` to the first places and posts
the board, once per group and week. :func:`me_text` is the member's ``我的积分`` card:
balance, this week, streak, the tier titles and the weekly places held.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from shequn.actions.moderation import plan
from shequn.features.checkin.points import award, points_balance
from shequn.features.checkin.settings import CheckinSettings
from shequn.i18n import t
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["me_text", "period_of", "plan_weekly_awards", "week_board"]

#: Bonus entries of the weekly awards; they are not counted as earned in a week.
_BONUS_REASON = "checkin.weekly"


def period_of(monday: date) -> str:
    """The ISO week label of the week starting ``monday`` (``2026-W39``)."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_board(
    conn: Connection, platform: str, group: str, monday: date, limit: int
) -> list[tuple[str, int]]:
    """Members by points earned from ``monday`` to the Sunday after, best first."""
    p = schema.points_ledger
    total = func.sum(p.c.delta).label("total")
    q = (
        select(p.c.member_id, total)
        .where(p.c.platform == platform, p.c.group_id == group, p.c.delta > 0)
        .where(p.c.day >= monday.isoformat(), p.c.day <= (monday + timedelta(6)).isoformat())
        .where(p.c.reason != _BONUS_REASON, p.c.reason != "redeem.refund")
        .group_by(p.c.member_id)
        .order_by(total.desc(), p.c.member_id)
        .limit(limit)
    )
    return [(r.member_id, int(r.total)) for r in conn.execute(q)]


def _name(conn: Connection, platform: str, group: str, member: str) -> str:
    """The member's latest name: from check-ins, else the archive, else the id."""
    c, m = schema.checkins, schema.members
    got = conn.execute(
        select(c.c.name)
        .where(c.c.platform == platform, c.c.group_id == group, c.c.member_id == member)
        .order_by(c.c.ts.desc())
        .limit(1)
    ).scalar()
    if not got:
        got = conn.execute(
            select(m.c.name).where(m.c.platform == platform, m.c.platform_id == member).limit(1)
        ).scalar()
    return str(got or member)


def plan_weekly_awards(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    """Announce and record last week's top N in every group once; the planned ids."""
    p, aw = schema.points_ledger, schema.point_awards
    planned: list[int] = []
    for pf, group in conn.execute(select(p.c.platform, p.c.group_id).distinct()).all():
        platform = platforms.get(pf)
        if platform is None:
            continue
        gs = settings_for(pf, group)
        s = gs.checkin
        if not s.enabled or s.weekly_top <= 0:
            continue
        local = datetime.fromtimestamp(now, ZoneInfo(s.timezone))
        monday = local.date() - timedelta(days=local.weekday())
        if local.weekday() == 0 and local.hour < s.weekly_hour:
            continue
        last = monday - timedelta(days=7)
        period = period_of(last)
        done = conn.execute(
            select(aw.c.id).where(aw.c.platform == pf, aw.c.group_id == group)
            .where(aw.c.period == period).limit(1)
        ).first()  # fmt: skip
        if done is not None:
            continue
        board = week_board(conn, pf, group, last, s.weekly_top)
        if not board:
            continue
        planned.append(_announce(conn, platform, group, gs.language, s, board, last, now))
    return planned


def _announce(
    conn: Connection,
    platform: Platform,
    group: str,
    lang: str,
    s: CheckinSettings,
    board: list[tuple[str, int]],
    monday: date,
    now: float,
) -> int:
    period = period_of(monday)
    today = datetime.fromtimestamp(now, ZoneInfo(s.timezone)).date().isoformat()
    lines = []
    for rank, (mid, pts) in enumerate(board, 1):
        name = _name(conn, platform.name, group, mid)
        bonus = s.weekly_bonus[rank - 1] if rank <= len(s.weekly_bonus) else 0
        conn.execute(
            schema.point_awards.insert().values(
                platform=platform.name, group_id=group, period=period, rank=rank,
                member_id=mid, name=name[:255], points=pts, bonus=bonus, ts=now,
            )
        )  # fmt: skip
        line = t("honours.weekly_line", lang=lang, rank=rank, name=name, points=pts)
        if bonus:
            award(conn, platform.name, group, mid, points=bonus, reason=_BONUS_REASON,
                  day=today, ts=now, cap=bonus, ref=f"week:{period}")  # fmt: skip
            line += t("honours.weekly_bonus", lang=lang, bonus=bonus)
        lines.append(line)
    label = f"{monday:%m-%d}–{monday + timedelta(6):%m-%d}"
    text = t("honours.weekly", lang=lang, period=label, n=len(board), lines="\n".join(lines))
    return plan(conn, platform, group_id=group, kind="send", now=now, params={"text": text},
                reason="checkin.weekly", event_key=f"checkin.weekly:{group}:{period}")  # fmt: skip


def me_text(
    conn: Connection,
    platform: str,
    group: str,
    member: str,
    name: str,
    s: CheckinSettings,
    lang: str,
    today: date,
    streak: int,
    total: int,
) -> str:
    """The member's card: points, this week, streak, titles and weekly places."""
    p, aw = schema.points_ledger, schema.point_awards
    monday = today - timedelta(days=today.weekday())
    week = conn.execute(
        select(func.coalesce(func.sum(p.c.delta), 0))
        .where(p.c.platform == platform, p.c.group_id == group, p.c.member_id == member)
        .where(p.c.delta > 0, p.c.day >= monday.isoformat())
    ).scalar_one()
    lines = [
        t("honours.me", lang=lang, name=name, points=points_balance(conn, platform, group, member),
          week=int(week), streak=streak, total=total)
    ]  # fmt: skip
    reasons = {
        r[0]
        for r in conn.execute(
            select(p.c.reason)
            .where(p.c.platform == platform, p.c.group_id == group, p.c.member_id == member)
            .where(p.c.reason.like("checkin.tier.%"))
        )
    }
    titles = [tier.title for tier in sorted(s.tiers, key=lambda x: x.days)
              if f"checkin.tier.{tier.days}" in reasons]  # fmt: skip
    sep = t("honours.sep", lang=lang)
    if titles:
        lines.append(t("honours.me_titles", lang=lang, titles=sep.join(titles)))
    places = conn.execute(
        select(aw.c.period, aw.c.rank)
        .where(aw.c.platform == platform, aw.c.group_id == group, aw.c.member_id == member)
        .order_by(aw.c.period.desc())
        .limit(5)
    ).all()
    if places:
        items = [t("honours.award_item", lang=lang, period=r.period, rank=r.rank) for r in places]
        lines.append(t("honours.me_awards", lang=lang, awards=sep.join(items)))
    return "\n".join(lines)
