"""The tick job of content plans: plan each due occurrence once, per group, via the outbox.

Every occurrence gets a ``content_sends`` row keyed by plan, group and occurrence
before its ``send`` is planned (in the same transaction), so a second tick or a tick
after a restart finds the row and does nothing. The ``send`` goes through
:func:`shequn.actions.moderation.plan`: on a platform that cannot post by API it
becomes a human task carrying the text, never a silent drop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, union_all, update

from shequn.actions.moderation import plan
from shequn.features.content.plans import targets
from shequn.features.content.schedule import Schedule, occurrences, zone
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["compose", "group_born", "plan_due_posts", "seed_of", "send_key"]

#: Occurrences at most this old are looked at again (and recorded as missed if late).
LOOKBACK = 2 * 86400


def compose(text: str, link: str = "", image_url: str = "", name: str = "") -> str:
    """The message: text (``{name}`` filled in), then the link, then the image's address.

    The platform port sends text only, so an image goes out as its address (chat
    clients preview it); a human task shows all three.
    """
    parts = [text.replace("{name}", name) if name else text.replace("{name}", "")]
    parts += [p for p in (link, image_url) if p]
    return "\n".join(p.strip() for p in parts if p.strip())


def send_key(source: str, source_id: int, group_id: str, occurrence: str) -> str:
    key = f"content.{source}:{source_id}:{group_id}:{occurrence}"
    if len(key) > 255:
        key = key[:190] + ":" + hashlib.sha256(key.encode()).hexdigest()
    return key


def seed_of(plan_id: int, platform: str, group_id: str) -> str:
    return f"{plan_id}:{platform}:{group_id}"


def group_born(conn: Connection, platform: str, group_id: str) -> float | None:
    """When the group began, as far as the archive knows: its first message or join."""
    g, m, me = schema.groups, schema.messages, schema.membership_events
    gid = conn.execute(
        select(g.c.id).where(g.c.platform == platform, g.c.platform_id == group_id)
    ).scalar()
    if gid is None:
        return None
    both = union_all(
        select(func.min(m.c.ts).label("ts")).where(m.c.group_id == gid),
        select(func.min(me.c.ts).label("ts")).where(me.c.group_id == gid),
    ).subquery()
    found = conn.execute(select(func.min(both.c.ts))).scalar()
    return None if found is None else float(found)


def _joins(conn: Connection, platform: str, group_id: str, since: float) -> list[Any]:
    g, m, me = schema.groups, schema.members, schema.membership_events
    q = (
        select(m.c.platform_id, m.c.name, me.c.ts)
        .join(me, me.c.member_id == m.c.id)
        .join(g, g.c.id == me.c.group_id)
        .where(g.c.platform == platform, g.c.platform_id == group_id)
        .where(me.c.action == "join", me.c.ts >= since, m.c.is_bot.is_(False))
        .order_by(me.c.ts)
    )
    return list(conn.execute(q).all())


def _exists(conn: Connection, source: str, sid: int, pf: str, gid: str, occ: str) -> bool:
    s = schema.content_sends
    q = select(s.c.id).where(
        s.c.source == source, s.c.source_id == sid, s.c.platform == pf,
        s.c.group_id == gid, s.c.occurrence == occ,
    )  # fmt: skip
    return conn.execute(q).first() is not None


def plan_due_posts(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    """Plan every due, not yet planned occurrence of every active plan; the new action ids."""
    t, s = schema.content_plans, schema.content_sends
    planned: list[int] = []
    for row in conn.execute(select(t).where(t.c.status == "active").order_by(t.c.id)).all():
        sched = Schedule.of(row)
        for pf, gid in targets(conn, row):
            platform = platforms.get(pf)
            if platform is None:
                continue  # not connected in this process; planned when it is
            cs = settings_for(pf, gid).content
            if not cs.enabled:
                continue
            tz = zone(row.timezone or cs.timezone)
            lo = max(row.active_from, now - LOOKBACK)
            seed = seed_of(row.id, pf, gid)
            due: list[tuple[str, float, str]] = []  # (occurrence, due, member name)
            if sched.kind in ("once", "weekly"):
                due = [(k, ts, "") for k, ts in occurrences(sched, tz, lo, now, seed)]
            elif sched.kind == "after_creation":
                born = group_born(conn, pf, gid)
                due = [(k, ts, "") for k, ts in occurrences(sched, tz, lo, now, seed, born)]
            else:  # after_join: members who joined since the plan exists (not the backlog)
                since = max(row.created_at, lo - (sched.days + 1) * 86400)
                for member_id, name, joined in _joins(conn, pf, gid, since):
                    for k, ts in occurrences(sched, tz, lo, now, f"{seed}:{member_id}", joined):
                        due.append((f"join:{member_id}:{k}", ts, name or member_id))
            for occ, ts, name in due:
                if _exists(conn, "plan", row.id, pf, gid, occ):
                    continue
                late = now - ts > cs.late_minutes * 60
                sid = conn.execute(
                    s.insert().values(
                        source="plan", source_id=row.id, platform=pf, group_id=gid,
                        occurrence=occ, due_at=ts, status="missed" if late else "planned",
                        created_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
                if late:
                    continue
                aid = plan(
                    conn, platform, group_id=gid, kind="send", now=now,
                    params={"text": compose(row.text, row.link, row.image_url, name)},
                    reason="content.plan", evidence={"plan_id": row.id, "occurrence": occ},
                    event_key=send_key("plan", row.id, gid, occ),
                )  # fmt: skip
                conn.execute(update(s).where(s.c.id == sid).values(action_id=aid, planned_at=now))
                planned.append(aid)
    return planned
