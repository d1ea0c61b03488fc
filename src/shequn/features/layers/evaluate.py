"""Re-evaluating a group's layers from the running totals, with hysteresis.

The rules are the analytics' own: the group's totals are handed to
:func:`shequn.analytics.layers.assign_layers` and :func:`member_layers` (reasons), with
the same :class:`AnalyticsSettings`, so the live layer and the batch report cannot
drift apart by a rewritten threshold. Rank rules ("top 5% by reach") compare a member
with the whole group, so a group with any change is evaluated whole: one read of its
``layer_members`` rows, one small Polars frame.

Hysteresis (Discourse's TL3 low-water mark): a better layer is taken at once; a
worse one only after the rules have put the member below their layer for
``grace_days`` without a break.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select, update

from shequn.features.layers.counters import COUNTERS
from shequn.features.layers.settings import LAYER_KEYS
from shequn.store import schema

__all__ = ["Change", "evaluate_group", "rank", "slide"]

DAY = 86400.0


def rank(layer: str) -> int:
    """0 for the best layer (opinion leader) ... 5 for bystanders."""
    return LAYER_KEYS.index(layer)


@dataclass(frozen=True, slots=True)
class Change:
    """A member's held layer changed (``promoted``: to a better one)."""

    member_id: str
    name: str
    old: str
    new: str
    best_before: str
    reasons: tuple[str, ...]
    card: str | None

    @property
    def promoted(self) -> bool:
        return rank(self.new) < rank(self.old)


def _nth_active_day(conn: Connection, platform: str, group: str, n: int) -> str:
    gd = schema.layer_group_days
    q = (
        select(gd.c.day)
        .where(gd.c.platform == platform, gd.c.group_id == group)
        .order_by(gd.c.day.desc())
        .offset(n - 1)
        .limit(1)
    )
    return conn.execute(q).scalar_one_or_none() or ""


def slide(conn: Connection, platform: str, group: str, window_days: int) -> bool:
    """Move the group's window to its last ``window_days`` active days; the days it
    leaves are taken off the totals (their members become dirty). True if it moved."""
    g, d, r, m = schema.layer_groups, schema.layer_days, schema.layer_reach, schema.layer_members
    key = (g.c.platform == platform, g.c.group_id == group)
    old = conn.execute(select(g.c.window_start).where(*key)).scalar_one_or_none() or ""
    new = _nth_active_day(conn, platform, group, window_days)
    if new <= old:
        return False
    gone = (d.c.platform == platform, d.c.group_id == group, d.c.day >= old, d.c.day < new)
    sums = [func.sum(d.c[c]).label(c) for c in COUNTERS]
    days = func.sum(case((d.c.messages > 0, 1), else_=0)).label("active_days")
    q = select(d.c.member_id, *sums, days).where(*gone).group_by(d.c.member_id)
    mkey = (m.c.platform == platform, m.c.group_id == group)
    for row in conn.execute(q).all():
        minus = {c: m.c[c] - int(getattr(row, c) or 0) for c in (*COUNTERS, "active_days")}
        conn.execute(
            update(m).where(*mkey, m.c.member_id == row.member_id).values(dirty=True, **minus)
        )
    lost = (r.c.platform == platform, r.c.group_id == group, r.c.day >= old, r.c.day < new)
    q = select(r.c.member_id, func.count().label("n")).where(*lost).group_by(r.c.member_id)
    for row in conn.execute(q).all():
        conn.execute(
            update(m)
            .where(*mkey, m.c.member_id == row.member_id)
            .values(dirty=True, reach=m.c.reach - int(row.n))
        )
    conn.execute(update(g).where(*key).values(window_start=new))
    return True


def _day_start(day: str, tz: str) -> float:
    if not day:
        return float("-inf")
    d = datetime.fromisoformat(day).date()
    return datetime.combine(d, time(0), ZoneInfo(tz)).timestamp()


def _feature_counts(
    conn: Connection, platform: str, group: str, start: str, tz: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Check-in days and activities joined (votes, chain entries, lottery entries,
    sign-ups) per member in the window, read from those features' own tables."""
    c = schema.checkins
    checkins = {
        r.member_id: int(r.n)
        for r in conn.execute(
            select(c.c.member_id, func.count().label("n"))
            .where(c.c.platform == platform, c.c.group_id == group, c.c.day >= start)
            .group_by(c.c.member_id)
        )
    }
    since = _day_start(start, tz)
    acts: dict[str, int] = {}
    parts: list[tuple[Any, Any, Any, Any]] = [
        (schema.poll_votes, schema.poll_votes.c.voter, schema.polls, "poll_id"),
        (schema.chain_entries, schema.chain_entries.c.member_id, schema.chains, "chain_id"),
        (
            schema.lottery_entries,
            schema.lottery_entries.c.member_id,
            schema.lotteries,
            "lottery_id",
        ),
        (
            schema.event_signups,
            schema.event_signups.c.member_id,
            schema.activity_events,
            "event_id",
        ),
    ]
    for child, who, parent, fk in parts:
        ts_col = child.c.ts if "ts" in child.c else parent.c.created_at
        q = (
            select(who.label("member_id"), func.count(func.distinct(parent.c.id)).label("n"))
            .join(parent, parent.c.id == child.c[fk])
            .where(parent.c.platform == platform, parent.c.group_id == group)
            .group_by(who)
        )
        if since > float("-inf"):
            q = q.where(ts_col >= since)
        for r in conn.execute(q):
            acts[r.member_id] = acts.get(r.member_id, 0) + int(r.n)
    return checkins, acts


def _assign(rows: list[Any], lang: str) -> dict[str, tuple[str, list[str]]]:
    """Each member's layer by the analytics' rules, with the analytics' reasons."""
    import polars as pl

    from shequn.analytics.layers import assign_layers, member_layers
    from shequn.analytics.settings import AnalyticsSettings

    s = AnalyticsSettings()
    ids = [r.member_id for r in rows]
    window = pl.DataFrame(
        {
            "group_id": [0] * len(rows),
            "member_id": ids,
            "messages": [r.messages for r in rows],
            "active_days": [r.active_days for r in rows],
            "forwards": [r.forwards for r in rows],
            "replies_received": [r.replies for r in rows],
            "mentions_received": [r.mentions for r in rows],
            "reach": [r.reach for r in rows],
            "reactions_received": [r.reactions for r in rows],
            "invites": [r.invites for r in rows],
            "invites_stayed": [r.invites_stayed for r in rows],
        },
        schema_overrides={"group_id": pl.Int32, "member_id": pl.String},
    )
    members = pl.DataFrame(
        {"member_id": ids, "is_bot": [bool(r.is_bot) for r in rows]},
        schema_overrides={"member_id": pl.String},
    )
    groups = pl.DataFrame({"group_id": [0], "name": [""]}, schema_overrides={"group_id": pl.Int32})
    pairs = assign_layers(window, members, s)
    out = member_layers(pairs, members, groups, s, lang)
    return {
        mid: (layer, list(reasons))
        for mid, layer, reasons in out.select("member_id", "layer", "layer_reasons").iter_rows()
    }


def evaluate_group(
    conn: Connection,
    platform: str,
    group: str,
    now: float,
    *,
    grace_days: float,
    tz: str,
    lang: str,
    force: bool = False,
) -> list[Change]:
    """Slide the window, re-evaluate the group if anything changed (or ``force``),
    apply hysteresis and write the history. Returns the held-layer changes."""
    from shequn.analytics.settings import AnalyticsSettings

    a = AnalyticsSettings()
    m = schema.layer_members
    key = (m.c.platform == platform, m.c.group_id == group)
    slid = slide(conn, platform, group, a.layer_window_days)
    dirty = conn.execute(select(m.c.id).where(*key, m.c.dirty.is_(True)).limit(1)).first()
    grace = grace_days * DAY
    due = conn.execute(
        select(m.c.id).where(*key, m.c.failing_since <= now - grace).limit(1)
    ).first()
    if not (slid or dirty or due or force):
        return []
    rows = list(conn.execute(select(m).where(*key).order_by(m.c.member_id)).all())
    if not rows:
        return []
    start = (
        conn.execute(
            select(schema.layer_groups.c.window_start).where(
                schema.layer_groups.c.platform == platform, schema.layer_groups.c.group_id == group
            )
        ).scalar_one_or_none()
        or ""
    )
    checkins, acts = _feature_counts(conn, platform, group, start, tz)
    assigned = _assign(rows, lang)
    changes: list[Change] = []
    for row in rows:
        computed, reasons = assigned[row.member_id]
        held, since, failing = row.layer, row.since, row.failing_since
        if rank(computed) <= rank(held):
            failing = None
            if computed != held:
                held, since = computed, now
        else:
            if failing is None:
                failing = now  # below the held layer from now on: the grace period starts
            if now - failing >= grace:
                held, since, failing = computed, now, None
        best = held if rank(held) < rank(row.best) else row.best
        values: dict[str, Any] = dict(
            computed=computed,
            layer=held,
            since=since,
            failing_since=failing,
            best=best,
            reasons=json.dumps(reasons, ensure_ascii=False),
            checkins=checkins.get(row.member_id, 0),
            activities=acts.get(row.member_id, 0),
            dirty=False,
        )
        conn.execute(update(m).where(m.c.id == row.id).values(**values))
        if held != row.layer:
            conn.execute(
                schema.layer_history.insert().values(
                    platform=platform,
                    group_id=group,
                    member_id=row.member_id,
                    from_layer=row.layer,
                    to_layer=held,
                    ts=now,
                    reasons=values["reasons"],
                )
            )
            changes.append(
                Change(
                    row.member_id,
                    row.name,
                    row.layer,
                    held,
                    row.best,
                    tuple(reasons),
                    row.card,
                )
            )
    g = schema.layer_groups
    conn.execute(
        update(g).where(g.c.platform == platform, g.c.group_id == group).values(evaluated_at=now)
    )
    return changes
