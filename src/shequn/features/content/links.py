"""Tracked links: the bot posts ``<public url>/l/<code>``, the console counts and redirects.

A topic's product link goes out tracked when the console's public address is known
(``[groups.invites] public_url``, the same address the 活码 links use); without one
the bot posts the plain link and the topic's result shows no clicks. Each visit of
``/l/<code>`` adds one click (a plain counter: no cookies, no personal data).

Orders are attributed to a topic when the CRM has them (:mod:`shequn.features.crm`):
orders by members of the topic's group placed within ``ORDER_WINDOW`` after the link
was posted.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, union, update

from shequn.store import schema

__all__ = [
    "ORDER_WINDOW",
    "TopicResult",
    "click",
    "clicks_by_source",
    "public_link",
    "topic_results",
    "tracked_link",
]

#: Orders this long after the product link count for the topic.
ORDER_WINDOW = 86400.0


def public_link(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/l/{code}"


def tracked_link(
    conn: Connection,
    *,
    target: str,
    source: str,
    source_id: int,
    platform: str,
    group_id: str,
    now: float,
) -> str:
    """The code of the tracked link to ``target`` for this source (made once, then reused)."""
    if not target.startswith(("http://", "https://")):
        raise ValueError(f"not a web address: {target!r}")
    t = schema.content_links
    found = conn.execute(
        select(t.c.code).where(
            t.c.source == source, t.c.source_id == source_id, t.c.target == target,
            t.c.platform == platform, t.c.group_id == group_id,
        )
    ).scalar()  # fmt: skip
    if found is not None:
        return str(found)
    code = secrets.token_urlsafe(6)  # 8 characters, 48 bits: not guessable by walking
    conn.execute(
        t.insert().values(
            code=code, target=target, source=source, source_id=source_id, platform=platform,
            group_id=group_id, clicks=0, created_at=now,
        )
    )  # fmt: skip
    return code


def click(conn: Connection, code: str, now: float) -> str | None:
    """Count one visit of ``code``; its target, or None for an unknown code."""
    t = schema.content_links
    row = conn.execute(select(t.c.id, t.c.target).where(t.c.code == code[:16])).first()
    if row is None:
        return None
    conn.execute(
        update(t)
        .where(t.c.id == row.id)
        .values(
            clicks=t.c.clicks + 1,
            last_click_at=now,
            first_click_at=func.coalesce(t.c.first_click_at, now),
        )
    )
    return str(row.target)


def clicks_by_source(conn: Connection, source: str, ids: Iterable[int]) -> dict[int, int]:
    t = schema.content_links
    wanted = list(ids)
    if not wanted:
        return {}
    q = (
        select(t.c.source_id, func.sum(t.c.clicks))
        .where(t.c.source == source, t.c.source_id.in_(wanted))
        .group_by(t.c.source_id)
    )
    return {int(sid): int(n or 0) for sid, n in conn.execute(q)}


@dataclass(frozen=True, slots=True)
class TopicResult:
    tracked: bool  # did the bot post a tracked link (so clicks can be counted)
    clicks: int
    orders: int
    amount_cents: int


def _group_member_ids(conn: Connection, platform: str, group_id: str) -> Any:
    """The platform ids of the archive's members of a group (spoke or joined there)."""
    g, m, me, mem = schema.groups, schema.messages, schema.membership_events, schema.members
    gid = select(g.c.id).where(g.c.platform == platform, g.c.platform_id == group_id)
    ids = union(
        select(m.c.member_id.label("id")).where(m.c.group_id.in_(gid)),
        select(me.c.member_id.label("id")).where(me.c.group_id.in_(gid)),
    ).subquery()
    return select(mem.c.platform_id).where(mem.c.id.in_(select(ids.c.id)))


def topic_results(conn: Connection, topics: Iterable[Any]) -> dict[int, TopicResult]:
    """Clicks on each topic's tracked link and the orders attributed to it, by topic id."""
    rows = list(topics)
    t, o = schema.content_links, schema.crm_orders
    tracked = set(
        conn.execute(
            select(t.c.source_id).where(
                t.c.source == "topic", t.c.source_id.in_([r.id for r in rows])
            )
        ).scalars()
    )
    clicks = clicks_by_source(conn, "topic", tracked)
    out: dict[int, TopicResult] = {}
    for r in rows:
        n, cents = 0, 0
        if r.linked_at is not None:
            q = select(func.count(), func.coalesce(func.sum(o.c.amount_cents), 0)).where(
                o.c.platform == r.platform,
                o.c.member_id.in_(_group_member_ids(conn, r.platform, r.group_id)),
                o.c.ordered_at >= r.linked_at,
                o.c.ordered_at < r.linked_at + ORDER_WINDOW,
            )
            n, cents = conn.execute(q).one()
        out[r.id] = TopicResult(r.id in tracked, clicks.get(r.id, 0), int(n), int(cents))
    return out
