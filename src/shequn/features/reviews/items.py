"""What can be reviewed: activities, content posts, topics and campaigns, as :class:`Item`.

Each source is a function ``(conn) -> list[Item]`` in :data:`SOURCES`; a feature that
adds a reviewable thing (the fission campaigns, say) appends its own with
:func:`register_source` and the review pages pick it up. An item happens in one or
more groups at one moment ``at``: that moment splits "before" from "after".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shequn.store import schema

__all__ = ["SOURCES", "Item", "all_items", "find_item", "register_source"]

GroupKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Item:
    """One reviewable thing: ``kind`` + ``id`` name it, ``at`` splits before from after."""

    kind: str  # poll | chain | lottery | event | topic | post | mass | campaign | coupon
    id: int
    title: str
    at: float
    groups: tuple[GroupKey, ...]

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"


Source = Callable[[Connection], list[Item]]


def _activities(conn: Connection) -> list[Item]:
    out: list[Item] = []
    for kind, t, at in (
        ("poll", schema.polls, schema.polls.c.created_at),
        ("chain", schema.chains, schema.chains.c.created_at),
        ("lottery", schema.lotteries, schema.lotteries.c.created_at),
        ("event", schema.activity_events, schema.activity_events.c.starts_at),
    ):
        for r in conn.execute(select(t.c.id, t.c.title, t.c.platform, t.c.group_id, at)):
            out.append(Item(kind, r.id, r.title, float(r[4]), ((r.platform, r.group_id),)))
    return out


def _topics(conn: Connection) -> list[Item]:
    t = schema.content_topics
    rows = conn.execute(
        select(t.c.id, t.c.text, t.c.platform, t.c.group_id, t.c.posted_at).where(
            t.c.posted_at.is_not(None)
        )
    )
    return [
        Item("topic", r.id, r.text, float(r.posted_at), ((r.platform, r.group_id),)) for r in rows
    ]


def _sends(conn: Connection, source: str, kind: str, title_table: object) -> list[Item]:
    s = schema.content_sends
    rows = conn.execute(
        select(s.c.source_id, s.c.platform, s.c.group_id, func.min(s.c.due_at).label("at"))
        .where(s.c.source == source, s.c.status == "planned")
        .group_by(s.c.source_id, s.c.platform, s.c.group_id)
    ).all()
    t = title_table
    titles = {r[0]: r[1] for r in conn.execute(select(t.c.id, t.c.name))}  # type: ignore[attr-defined]
    by_source: dict[int, list[tuple[GroupKey, float]]] = {}
    for r in rows:
        by_source.setdefault(int(r.source_id), []).append(((r.platform, r.group_id), float(r.at)))
    return [
        Item(
            kind,
            sid,
            str(titles.get(sid) or f"#{sid}"),
            min(a for _, a in gs),
            tuple(sorted(g for g, _ in gs)),
        )
        for sid, gs in by_source.items()
    ]


def _posts(conn: Connection) -> list[Item]:
    return _sends(conn, "plan", "post", schema.content_plans)


def _mass(conn: Connection) -> list[Item]:
    return _sends(conn, "mass", "mass", schema.content_mass)


def _campaigns(conn: Connection) -> list[Item]:
    """Fission campaigns (裂变): from their start, in the groups their 活码 and their
    referrers bring people into."""
    c, t, r = schema.invite_campaigns, schema.invite_targets, schema.invite_referrers
    groups: dict[int, set[GroupKey]] = {}
    via_code = select(c.c.id, t.c.platform, t.c.group_id).join(t, t.c.code_id == c.c.code_id)
    via_referrers = select(r.c.campaign_id, r.c.platform, r.c.group_id).where(r.c.group_id != "")
    for cid, platform, gid in [*conn.execute(via_code), *conn.execute(via_referrers)]:
        groups.setdefault(cid, set()).add((platform, gid))
    rows = conn.execute(select(c.c.id, c.c.name, c.c.starts_at))
    return [
        Item("campaign", row.id, row.name, float(row.starts_at), tuple(sorted(groups[row.id])))
        for row in rows
        if groups.get(row.id)
    ]


def _coupons(conn: Connection) -> list[Item]:
    """Coupon / promotion campaigns of the CRM: from their announcement, in its groups."""
    c, s = schema.crm_campaigns, schema.content_sends
    rows = conn.execute(
        select(c.c.id, c.c.name, c.c.created_at, s.c.platform, s.c.group_id)
        .join(s, (s.c.source == "mass") & (s.c.source_id == c.c.mass_id))
        .order_by(c.c.id)
    ).all()
    found: dict[int, tuple[str, float, set[GroupKey]]] = {}
    for row in rows:
        found.setdefault(row.id, (row.name, float(row.created_at), set()))[2].add(
            (row.platform, row.group_id)
        )
    return [Item("coupon", i, n, at, tuple(sorted(g))) for i, (n, at, g) in found.items()]


SOURCES: list[Source] = [_activities, _topics, _posts, _mass, _campaigns, _coupons]


def register_source(source: Source) -> None:
    """Add a source of reviewable items (e.g. fission campaigns: kind ``campaign``)."""
    if source not in SOURCES:
        SOURCES.append(source)


def all_items(conn: Connection) -> list[Item]:
    """Every reviewable item, newest first."""
    items = [i for source in SOURCES for i in source(conn)]
    items.sort(key=lambda i: (-i.at, i.kind, -i.id))
    return items


def find_item(conn: Connection, kind: str, item_id: int) -> Item | None:
    return next((i for i in all_items(conn) if i.kind == kind and i.id == item_id), None)
