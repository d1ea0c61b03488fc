"""Topic calendar (话题策划): one topic a day per group, the product link at the peak.

A first version. The tick posts the day's topic at its local time, counts the
messages members write after it (from the archive), posts the product link once
``link_after_messages`` have come in or at ``link_at`` local time, whichever is
first, and after ``topic_watch_minutes`` records replies and participants.
The product link goes out tracked (``/l/<code>``, :mod:`.links`) when the console's
public address is set; clicks and the orders attributed to the topic are read back by
:func:`shequn.features.content.links.topic_results`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from shequn.actions.moderation import plan
from shequn.features.content.links import public_link, tracked_link
from shequn.features.content.posting import compose, send_key
from shequn.features.content.schedule import local_ts, zone
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings

__all__ = ["add_topic", "participation", "run_topics"]


def add_topic(
    conn: Connection,
    *,
    platform: str,
    group_id: str,
    day: str,
    post_at: str,
    text: str,
    now: float,
    product_text: str = "",
    product_link: str = "",
    link_after_messages: int = 10,
    link_at: str = "",
    timezone: str = "",
    by: str = "",
) -> int:
    """Prepare a group's topic for ``day`` (usually the day before)."""
    date.fromisoformat(day)
    _hhmm(post_at)
    if link_at:
        _hhmm(link_at)
    if not text.strip():
        raise ValueError("a topic needs a text")
    t = schema.content_topics
    return int(
        conn.execute(
            t.insert().values(
                platform=platform, group_id=group_id, day=day, post_at=post_at, text=text,
                product_text=product_text, product_link=product_link,
                link_after_messages=link_after_messages, link_at=link_at, timezone=timezone,
                status="scheduled", created_by=by, created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )  # fmt: skip


def _hhmm(value: str) -> time:
    return time.fromisoformat(value)


def participation(
    conn: Connection, platform: str, group_id: str, start: float, end: float
) -> tuple[int, int]:
    """(messages, distinct members) by non-bot members in ``[start, end]`` from the archive."""
    g, m, mem = schema.groups, schema.messages, schema.members
    q = (
        select(func.count(), func.count(func.distinct(m.c.member_id)))
        .select_from(m)
        .join(g, g.c.id == m.c.group_id)
        .join(mem, mem.c.id == m.c.member_id)
        .where(g.c.platform == platform, g.c.platform_id == group_id)
        .where(m.c.ts >= start, m.c.ts <= end, mem.c.is_bot.is_(False))
    )
    n, people = conn.execute(q).one()
    return int(n), int(people)


def _send(conn: Connection, platform: Platform, row: Any, what: str, text: str, now: float) -> int:
    return plan(
        conn, platform, group_id=row.group_id, kind="send", now=now, params={"text": text},
        reason=f"content.topic.{what}", evidence={"topic_id": row.id},
        event_key=send_key("topic", row.id, row.group_id, what),
    )  # fmt: skip


def _public_url(settings: GroupSettings) -> str:
    """The console's public address (the one the 活码 links use), or ""."""
    return settings.invites.public_url


def run_topics(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    t = schema.content_topics
    planned: list[int] = []
    rows = conn.execute(select(t).where(t.c.status != "done").order_by(t.c.id)).all()
    for row in rows:
        platform = platforms.get(row.platform)
        if platform is None:
            continue
        cs = settings_for(row.platform, row.group_id).content
        if not cs.enabled:
            continue
        tz = zone(row.timezone or cs.timezone)
        day = date.fromisoformat(row.day)
        due = local_ts(day, _hhmm(row.post_at), tz)
        if row.status == "scheduled":
            if now < due:
                continue
            if now - due > cs.late_minutes * 60:
                conn.execute(update(t).where(t.c.id == row.id).values(status="done", replies=0))
                continue  # too late to post today's topic
            planned.append(_send(conn, platform, row, "post", row.text, now))
            conn.execute(update(t).where(t.c.id == row.id).values(status="posted", posted_at=now))
            continue
        start = row.posted_at
        n, people = participation(conn, row.platform, row.group_id, start, now)
        if row.status == "posted":
            at = row.link_at and local_ts(day, _hhmm(row.link_at), tz)
            peak = n >= row.link_after_messages or (at and now >= at)
            if peak and row.product_link:
                link = row.product_link
                base = _public_url(settings_for(row.platform, row.group_id))
                if base:
                    code = tracked_link(
                        conn, target=link, source="topic", source_id=row.id,
                        platform=row.platform, group_id=row.group_id, now=now,
                    )  # fmt: skip
                    link = public_link(base, code)
                text = compose(row.product_text, link)
                planned.append(_send(conn, platform, row, "link", text, now))
                conn.execute(
                    update(t).where(t.c.id == row.id).values(status="linked", linked_at=now)
                )
        end = start + cs.topic_watch_minutes * 60
        if now >= end:
            n, people = participation(conn, row.platform, row.group_id, start, end)
            conn.execute(
                update(t)
                .where(t.c.id == row.id)
                .values(status="done", replies=n, participants=people)
            )
    return planned
