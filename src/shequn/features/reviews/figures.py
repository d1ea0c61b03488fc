"""Review figures: before vs after an item, against comparable groups (difference-in-differences).

For a moment ``at`` and a window of ``days``, each group gets two periods,
``before = [at - days, at)`` and ``after = [at, at + days)``, and in each:

``active``     distinct members who posted
``messages``   messages posted
``newcomers``  join events
``retention``  of those newcomers whose seventh day has passed by ``now``, the share
               with no leave or kick within 7 days of joining (None when none)
``orders``     orders in the group, when an ``orders`` table exists (None otherwise)

Each side is the mean per group (one group for most items; every recipient group of
a mass message), retention and orders over the groups that have a figure. Comparable
groups are on the same platform, of similar size (members seen before ``at``, within
a factor of :data:`SIZE_FACTOR`), treated by no reviewable item within the window on
either side, up to :data:`MAX_CONTROLS` nearest in size; the estimate is ``(after - before)[treated] - (after - before)[controls]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from shequn.features.reviews.items import GroupKey, Item, all_items
from shequn.store import schema

__all__ = ["METRICS", "Period", "Review", "review"]

DAY = 86_400.0
SIZE_FACTOR = 2.0
MAX_CONTROLS = 5
RETENTION_DAYS = 7
METRICS = ("active", "messages", "newcomers", "retention", "orders")

_m = schema.messages
_e = schema.membership_events
_g = schema.groups


@dataclass(slots=True)
class Period:
    active: float = 0
    messages: float = 0
    newcomers: float = 0
    retention: float | None = None
    orders: float | None = None

    def get(self, metric: str) -> float | None:
        value: float | None = getattr(self, metric)
        return value


@dataclass(slots=True)
class Side:
    groups: list[dict[str, Any]]
    before: Period
    after: Period
    daily: list[float]  # messages per day over before + after (mean per group)


@dataclass(slots=True)
class Review:
    item: Item
    days: int
    now: float
    treated: Side
    controls: Side
    did: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {
                "groups": s.groups,
                "before": {k: s.before.get(k) for k in METRICS},
                "after": {k: s.after.get(k) for k in METRICS},
                "daily_messages": s.daily,
            }

        return {
            "item": {
                "kind": self.item.kind, "id": self.item.id, "title": self.item.title,
                "at": self.item.at, "groups": [list(g) for g in self.item.groups],
            },
            "days": self.days,
            "treated": side(self.treated),
            "controls": side(self.controls),
            "did": self.did,
        }  # fmt: skip


def _group_rows(conn: Connection) -> dict[GroupKey, Any]:
    return {(r.platform, r.platform_id): r for r in conn.execute(select(_g))}


def _orders_table() -> Any:
    """The CRM's orders table when there is one with a group and a time (else None)."""
    t = schema.metadata.tables.get("orders")
    if t is None or "group_id" not in t.c:
        return None
    for col in ("ts", "ordered_at", "created_at"):
        if col in t.c:
            return t, t.c[col]
    return None


def _period(
    conn: Connection,
    gids: Sequence[int],
    keys: Sequence[GroupKey],
    lo: float,
    hi: float,
    now: float,
) -> Period:
    p = Period()
    if not gids:
        return p
    p.messages = conn.execute(
        select(func.count()).where(_m.c.group_id.in_(gids), _m.c.ts >= lo, _m.c.ts < hi)
    ).scalar_one()
    p.active = conn.execute(
        select(func.count(func.distinct(_m.c.member_id))).where(
            _m.c.group_id.in_(gids), _m.c.ts >= lo, _m.c.ts < hi, _m.c.member_id.is_not(None)
        )
    ).scalar_one()
    joins = conn.execute(
        select(_e.c.group_id, _e.c.member_id, _e.c.ts).where(
            _e.c.group_id.in_(gids), _e.c.action == "join", _e.c.ts >= lo, _e.c.ts < hi
        )
    ).all()
    p.newcomers = len(joins)
    measurable = [j for j in joins if j.ts + RETENTION_DAYS * DAY <= now]
    if measurable:
        left = conn.execute(
            select(_e.c.group_id, _e.c.member_id, _e.c.ts).where(
                _e.c.group_id.in_(gids), _e.c.action.in_(("leave", "kick")), _e.c.ts >= lo
            )
        ).all()
        gone: dict[tuple[int, int], list[float]] = {}
        for r in left:
            gone.setdefault((r.group_id, r.member_id), []).append(float(r.ts))
        kept = sum(
            1
            for j in measurable
            if not any(
                j.ts <= t < j.ts + RETENTION_DAYS * DAY
                for t in gone.get((j.group_id, j.member_id), [])
            )
        )
        p.retention = kept / len(measurable)
    found = _orders_table()
    if found is not None:
        t, ts = found
        cond = [ts >= lo, ts < hi]
        if "platform" in t.c:  # group ids are the platform's own strings there
            cond.append(or_(*(and_(t.c.platform == k[0], t.c.group_id == k[1]) for k in keys)))
        else:
            cond.append(t.c.group_id.in_(gids))
        p.orders = conn.execute(select(func.count()).select_from(t).where(*cond)).scalar_one()
    return p


def _daily(conn: Connection, gids: Sequence[int], lo: float, days: int) -> list[float]:
    out = [0.0] * (2 * days)
    if not gids:
        return out
    rows = conn.execute(
        select(_m.c.ts).where(_m.c.group_id.in_(gids), _m.c.ts >= lo, _m.c.ts < lo + 2 * days * DAY)
    ).scalars()
    for ts in rows:
        out[int((float(ts) - lo) // DAY)] += 1
    n = len(gids)
    return [v / n for v in out]


def _size(conn: Connection, gids: Iterable[int], before: float) -> dict[int, int]:
    """Members seen in each group before ``before``: posted, or joined."""
    gids = list(gids)
    seen: dict[int, set[int]] = {g: set() for g in gids}
    for t in (_m, _e):
        rows = conn.execute(
            select(t.c.group_id, t.c.member_id)
            .where(t.c.group_id.in_(gids), t.c.ts < before, t.c.member_id.is_not(None))
            .distinct()
        )
        for r in rows:
            seen[r.group_id].add(r.member_id)
    return {g: len(s) for g, s in seen.items()}


def _mean(periods: list[Period]) -> Period:
    out = Period()
    n = len(periods)
    if not n:
        return out
    for k in METRICS:
        values = [p.get(k) for p in periods]
        present = [v for v in values if v is not None]
        if k in ("retention", "orders"):
            setattr(out, k, sum(present) / len(present) if present else None)
        else:
            setattr(out, k, sum(present) / n)
    return out


def _diff(a: Period, b: Period, c: Period, d: Period, k: str) -> float | None:
    va, vb, vc, vd = a.get(k), b.get(k), c.get(k), d.get(k)
    if va is None or vb is None:
        return None
    if vc is None or vd is None:
        return None
    return (vb - va) - (vd - vc)


def review(conn: Connection, item: Item, *, days: int = 7, now: float) -> Review:
    """The review of ``item``: its groups vs comparable groups, ``days`` either side."""
    rows = _group_rows(conn)
    lo, at, hi = item.at - days * DAY, item.at, item.at + days * DAY
    treated_keys = [k for k in item.groups if k in rows]
    tg = [int(rows[k].id) for k in treated_keys]
    busy = {k for other in all_items(conn) if lo <= other.at < hi for k in other.groups} | set(
        item.groups
    )
    platforms = {k[0] for k in treated_keys}
    candidates = [int(r.id) for k, r in rows.items() if k[0] in platforms and k not in busy]
    sizes = _size(conn, tg + candidates, at)
    t_size = sum(sizes[g] for g in tg) / len(tg) if tg else 0
    similar = [
        g for g in candidates if t_size and t_size / SIZE_FACTOR <= sizes[g] <= t_size * SIZE_FACTOR
    ]
    similar.sort(key=lambda g: (abs(sizes[g] - t_size), g))
    cg = similar[:MAX_CONTROLS]
    by_id = {int(r.id): r for r in rows.values()}

    def info(g: int) -> dict[str, Any]:
        r = by_id[g]
        return {
            "id": g,
            "platform": r.platform,
            "platform_id": r.platform_id,
            "name": r.name,
            "size": sizes[g],
        }

    def side(gids: list[int], start: float, end: float) -> Period:
        return _mean(
            [
                _period(conn, [g], [(by_id[g].platform, by_id[g].platform_id)], start, end, now)
                for g in gids
            ]
        )

    t_before, t_after = side(tg, lo, at), side(tg, at, hi)
    c_before, c_after = side(cg, lo, at), side(cg, at, hi)
    t_daily = _daily(conn, tg, lo, days)
    rv = Review(
        item=item, days=days, now=now,
        treated=Side([info(g) for g in tg], t_before, t_after, t_daily),
        controls=Side([info(g) for g in cg], c_before, c_after, _daily(conn, cg, lo, days)),
    )  # fmt: skip
    if cg:
        rv.did = {k: _diff(t_before, t_after, c_before, c_after, k) for k in METRICS}
    else:
        rv.did = dict.fromkeys(METRICS)
    return rv
