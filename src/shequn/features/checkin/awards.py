"""Honours from points (荣誉驱动): the weekly top 10 and a member's own card.

:func:`plan_weekly_awards` is a tick job: on Monday after ``weekly_hour`` (group-local)
it ranks last week's *earned* points (spending does not lower a place), writes one
``point_awards`` row per place, credits ``weekly_bonus`` to the first places and posts
the board, once per group and week. :func:`me_text` is the member's ``我的积分`` card:
balance, this week, streak, the tier titles and the weekly places held.

With ``scope = "set"`` the board ranks the whole group set: the rows and the bonus are
written once (in the first group of the set the tick meets), the board is posted in
every group of the set that has check-ins on.

Titles on cards (``weekly_title``, e.g. ``【本周之星】``): the first ``weekly_title_places``
get the title in front of their group card (in each group of the scope where they
earned points) through the outbox (``set_card``; a human task where the platform
cannot set cards), and last week's holders who did not place again get it taken off.
Only the bot's prefix is touched (see :func:`shequn.features.layers.honours.card_for`):
a member who took the title off themselves is left alone. Each change is a
``bot_actions`` row (reason ``checkin.title`` / ``checkin.untitle``) whose evidence
keeps the card before it (``previous``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from shequn.actions.moderation import plan
from shequn.features.checkin.points import award, points_balance
from shequn.features.checkin.scope import Scope, in_scope, scope_groups
from shequn.features.checkin.settings import CheckinSettings
from shequn.features.layers.honours import card_for
from shequn.i18n import t
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["me_text", "period_of", "plan_titles", "plan_weekly_awards", "week_board"]

#: Bonus entries of the weekly awards; they are not counted as earned in a week.
_BONUS_REASON = "checkin.weekly"


def period_of(monday: date) -> str:
    """The ISO week label of the week starting ``monday`` (``2026-W39``)."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_board(
    conn: Connection, platform: str, group: Scope, monday: date, limit: int
) -> list[tuple[str, int]]:
    """Members by points earned from ``monday`` to the Sunday after, best first."""
    p = schema.points_ledger
    total = func.sum(p.c.delta).label("total")
    q = (
        select(p.c.member_id, total)
        .where(p.c.platform == platform, in_scope(p.c.group_id, group), p.c.delta > 0)
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
    """Announce and record last week's top N in every group (or set) once, and move the
    weekly title on cards; the planned ids."""
    p, aw = schema.points_ledger, schema.point_awards
    planned: list[int] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    pairs = conn.execute(select(p.c.platform, p.c.group_id).distinct()).all()
    for pf, group in sorted(pairs):
        platform = platforms.get(pf)
        if platform is None:
            continue
        gs = settings_for(pf, group)
        s = gs.checkin
        if not s.enabled or s.weekly_top <= 0:
            continue
        sc = scope_groups(conn, pf, group, s)
        if (pf, sc) in seen:
            continue  # the set was handled from another of its groups
        seen.add((pf, sc))
        local = datetime.fromtimestamp(now, ZoneInfo(s.timezone))
        monday = local.date() - timedelta(days=local.weekday())
        if local.weekday() == 0 and local.hour < s.weekly_hour:
            continue
        last = monday - timedelta(days=7)
        period = period_of(last)
        done = conn.execute(
            select(aw.c.id).where(aw.c.platform == pf, in_scope(aw.c.group_id, sc))
            .where(aw.c.period == period).limit(1)
        ).first()  # fmt: skip
        if done is None:
            board = week_board(conn, pf, sc, last, s.weekly_top)
            if board:
                targets = [g for g in sc if g == group or settings_for(pf, g).checkin.enabled]
                planned += _announce(conn, platform, group, targets, gs.language, s, board,
                                     last, now)  # fmt: skip
        if s.weekly_title:
            planned += plan_titles(conn, platform, sc, s, period, now,
                                   name_format=gs.gate.name_format)  # fmt: skip
    return planned


def _announce(
    conn: Connection,
    platform: Platform,
    group: str,
    targets: Sequence[str],
    lang: str,
    s: CheckinSettings,
    board: list[tuple[str, int]],
    monday: date,
    now: float,
) -> list[int]:
    """Record the board in ``group`` (bonus included) and post it in each of ``targets``."""
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
    return [
        plan(conn, platform, group_id=g, kind="send", now=now, params={"text": text},
             reason="checkin.weekly", event_key=f"checkin.weekly:{g}:{period}")
        for g in targets
    ]  # fmt: skip


def _holders(
    conn: Connection, platform: str, groups: Sequence[str]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(group, member) -> (card set, period) of who holds the weekly title now: the
    latest title action for them is a ``checkin.title`` not undone."""
    a = schema.bot_actions
    rows = conn.execute(
        select(a.c.group_id, a.c.member_id, a.c.reason, a.c.params, a.c.evidence)
        .where(a.c.platform == platform, a.c.group_id.in_(list(groups)))
        .where(a.c.kind.in_(("set_card", "title_ended")))
        .where(a.c.reason.in_(("checkin.title", "checkin.untitle")))
        .where(a.c.status != "undone", a.c.member_id.is_not(None))
        .order_by(a.c.id)
    ).all()
    held: dict[tuple[str, str], tuple[str, str]] = {}
    for r in rows:
        key = (r.group_id, str(r.member_id))
        if r.reason == "checkin.title":
            card = str(json.loads(r.params).get("card", ""))
            held[key] = (card, str(json.loads(r.evidence).get("period", "")))
        else:
            held.pop(key, None)
    return held


def _card_now(conn: Connection, platform: str, group: str, member: str, last_set: str | None,
              since: float) -> str:  # fmt: skip
    """The member's card as last seen: a check-in name after ``since`` (when the bot set
    ``last_set``), else ``last_set``, else their latest known name."""
    c = schema.checkins
    seen = conn.execute(
        select(c.c.name)
        .where(c.c.platform == platform, c.c.group_id == group, c.c.member_id == member)
        .where(c.c.ts > since)
        .order_by(c.c.ts.desc())
        .limit(1)
    ).scalar()
    if seen:
        return str(seen)
    return last_set if last_set is not None else _name(conn, platform, group, member)


def _set_at(conn: Connection, platform: str, group: str, member: str) -> float:
    a = schema.bot_actions
    got = conn.execute(
        select(func.max(a.c.created_at))
        .where(a.c.platform == platform, a.c.group_id == group, a.c.member_id == member)
        .where(a.c.kind == "set_card", a.c.reason == "checkin.title")
    ).scalar()
    return float(got or 0.0)


def plan_titles(
    conn: Connection,
    platform: Platform,
    groups: Sequence[str],
    s: CheckinSettings,
    period: str,
    now: float,
    *,
    name_format: str = "",
) -> list[int]:
    """Give ``period``'s first ``weekly_title_places`` the title on their cards and take
    it off earlier holders; idempotent (a second call plans nothing)."""
    aw, p = schema.point_awards, schema.points_ledger
    pf, title = platform.name, s.weekly_title
    winners = conn.execute(
        select(aw.c.member_id)
        .where(aw.c.platform == pf, aw.c.group_id.in_(list(groups)), aw.c.period == period)
        .where(aw.c.rank <= s.weekly_title_places)
    ).scalars().all()  # fmt: skip
    if not winners:
        return []  # the week is not recorded yet: titles move when it is
    held = _holders(conn, pf, groups)
    planned: list[int] = []
    for (g, mid), (card, since) in sorted(held.items()):
        if mid in winners or since == period:
            continue
        current = _card_now(conn, pf, g, mid, card, _set_at(conn, pf, g, mid))
        new = card_for(current, card, "", (title,))
        planned += _plan_card(conn, platform, g, mid, new, current, period, now, "checkin.untitle")
        if new is None:  # they changed the card themselves: nothing to take off, but the
            planned += _plan_mark(conn, platform, g, mid, period, now)  # title is over
    for mid in winners:
        earned_in = conn.execute(
            select(p.c.group_id).distinct()
            .where(p.c.platform == pf, p.c.group_id.in_(list(groups)), p.c.member_id == mid)
        ).scalars().all()  # fmt: skip
        for g in sorted(earned_in):
            if (g, mid) in held:
                continue  # holds it already (placed again)
            current = _name(conn, pf, g, mid)
            new = card_for(current, None, title, (title,))
            if new is not None and name_format and not re.fullmatch(name_format, new):
                new = None  # the gate would ask them to rename: leave the card alone
            planned += _plan_card(conn, platform, g, mid, new, current, period, now,
                                  "checkin.title")  # fmt: skip
    return planned


def _plan_card(conn: Connection, platform: Platform, group: str, member: str, card: str | None,
               previous: str, period: str, now: float, reason: str) -> list[int]:  # fmt: skip
    if card is None:
        return []
    a = schema.bot_actions
    key = f"{reason}:{group}:{period}:{member}"[:255]
    if (
        conn.execute(
            select(a.c.id).where(a.c.platform == platform.name, a.c.event_key == key)
        ).first()
        is not None
    ):
        return []  # fmt: skip
    return [
        plan(conn, platform, group_id=group, kind="set_card", member_id=member,
             params={"card": card}, reason=reason, event_key=key, now=now,
             evidence={"period": period, "previous": previous, "title": reason.endswith(".title")})
    ]  # fmt: skip


def _plan_mark(conn: Connection, platform: Platform, group: str, member: str, period: str,
               now: float) -> list[int]:  # fmt: skip
    """Record that a holder's title ended without a platform call (they took it off)."""
    a = schema.bot_actions
    key = f"checkin.untitle:{group}:{period}:{member}"[:255]
    if conn.execute(select(a.c.id).where(a.c.platform == platform.name,
                                         a.c.event_key == key)).first():  # fmt: skip
        return []
    aid = conn.execute(
        a.insert().values(
            platform=platform.name, group_id=group, member_id=member, kind="title_ended",
            params=json.dumps({}), reason="checkin.untitle",
            evidence=json.dumps({"period": period, "note": "card changed by the member"}),
            status="done", attempts=0, event_key=key, created_at=now, done_at=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    return [int(aid)]


def me_text(
    conn: Connection,
    platform: str,
    group: Scope,
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
        .where(p.c.platform == platform, in_scope(p.c.group_id, group))
        .where(p.c.member_id == member, p.c.delta > 0, p.c.day >= monday.isoformat())
    ).scalar_one()
    lines = [
        t("honours.me", lang=lang, name=name, points=points_balance(conn, platform, group, member),
          week=int(week), streak=streak, total=total)
    ]  # fmt: skip
    reasons = {
        r[0]
        for r in conn.execute(
            select(p.c.reason)
            .where(p.c.platform == platform, in_scope(p.c.group_id, group))
            .where(p.c.member_id == member, p.c.reason.like("checkin.tier.%"))
        )
    }
    titles = [tier.title for tier in sorted(s.tiers, key=lambda x: x.days)
              if f"checkin.tier.{tier.days}" in reasons]  # fmt: skip
    sep = t("honours.sep", lang=lang)
    if titles:
        lines.append(t("honours.me_titles", lang=lang, titles=sep.join(titles)))
    places = conn.execute(
        select(aw.c.period, aw.c.rank)
        .where(aw.c.platform == platform, in_scope(aw.c.group_id, group))
        .where(aw.c.member_id == member)
        .order_by(aw.c.period.desc())
        .limit(5)
    ).all()
    if places:
        items = [t("honours.award_item", lang=lang, period=r.period, rank=r.rank) for r in places]
        lines.append(t("honours.me_awards", lang=lang, awards=sep.join(items)))
    return "\n".join(lines)
