"""The people of a set of groups with everything a segment can filter on.

One pass of grouped queries over the archive (messages, joins) and the feature
tables (points, layers, strikes, tags, orders, coupons) for the groups in reach,
then accounts linked into one profile are folded into one :class:`Person` whose
figures sum over them. Only groups in ``scope`` count: a reader never sees points,
layers or groups outside their reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, tuple_

from shequn.features.crm.buyers import Buyer
from shequn.features.crm.identities import Account, profile_map
from shequn.store import schema

__all__ = ["GroupKey", "Person", "people"]

GroupKey = tuple[str, str]


@dataclass
class Person:
    """One person: an account, or several merged ones (``accounts[0]`` names them)."""

    accounts: list[Account]
    name: str = ""
    groups: set[GroupKey] = field(default_factory=set)
    layers: dict[GroupKey, str] = field(default_factory=dict)
    points: int = 0
    messages: int = 0
    last_spoke: float | None = None
    joined: float | None = None
    strikes: int = 0
    tags: set[tuple[str, str]] = field(default_factory=set)  # (category, tag)
    buyer_score: float = 0.0
    orders: int = 0
    order_cents: int = 0
    coupons: int = 0

    @property
    def key(self) -> Account:
        return self.accounts[0]

    @property
    def cities(self) -> list[str]:
        return sorted(tag for cat, tag in self.tags if cat == "city")

    @property
    def likely_buyer(self) -> bool:
        return self.buyer_score > 0


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _archive_groups(conn: Connection, scope: Iterable[GroupKey]) -> dict[int, GroupKey]:
    g = schema.groups
    keys = sorted(set(scope))
    if not keys:
        return {}
    rows = conn.execute(
        select(g.c.id, g.c.platform, g.c.platform_id).where(
            tuple_(g.c.platform, g.c.platform_id).in_(keys)
        )
    )
    return {int(r.id): (r.platform, r.platform_id) for r in rows}


_Base = tuple[Account, str, frozenset[GroupKey], int, float | None, float | None]
_cache: dict[tuple[object, ...], list[_Base]] = {}
_CACHE_SIZE = 8


def _stamp(conn: Connection) -> tuple[int, ...]:
    """Changes whenever a message or membership change is added (or removed)."""
    out: list[int] = []
    for table in (schema.messages, schema.membership_events):
        n, top = conn.execute(select(func.count(), func.coalesce(func.max(table.c.id), 0))).one()
        out += [int(n), int(top)]
    return tuple(out)


def _archive_part(conn: Connection, gids: dict[int, GroupKey]) -> list[_Base]:
    """Per account: name, groups, messages, last spoke, last joined — from the archive.

    The archive only grows between imports, so the result is kept until it changes:
    the grouped scan costs about 1.4 s per 200k messages, a page load should not.
    """
    key = (conn.engine.url.render_as_string(hide_password=True), tuple(sorted(gids)), _stamp(conn))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    m, ev, mem = schema.messages, schema.membership_events, schema.members
    ids = list(gids)
    acc: dict[int, list[Any]] = {}
    member_rows = conn.execute(
        select(mem.c.id, mem.c.platform, mem.c.platform_id, mem.c.name).where(
            mem.c.is_bot.is_(False),
            mem.c.id.in_(
                select(m.c.member_id).where(m.c.group_id.in_(ids), m.c.member_id.is_not(None))
                .union(select(ev.c.member_id).where(ev.c.group_id.in_(ids)))
            ),
        )
    )  # fmt: skip
    for r in member_rows:
        acc[int(r.id)] = [
            (r.platform, r.platform_id),
            r.name or r.platform_id,
            set(),
            0,
            None,
            None,
        ]
    spoke = (
        select(m.c.member_id, m.c.group_id, func.count(), func.max(m.c.ts))
        .where(m.c.group_id.in_(ids), m.c.member_id.is_not(None), m.c.kind != "system")
        .group_by(m.c.member_id, m.c.group_id)
    )
    for mid, gid, n, last in conn.execute(spoke):
        a = acc.get(int(mid))
        if a is not None:
            a[2].add(gids[int(gid)])
            a[3] += int(n)
            a[4] = _max(a[4], float(last))
    joins = (
        select(ev.c.member_id, ev.c.group_id, func.max(ev.c.ts))
        .where(ev.c.group_id.in_(ids), ev.c.action == "join")
        .group_by(ev.c.member_id, ev.c.group_id)
    )
    for mid, gid, last in conn.execute(joins):
        a = acc.get(int(mid))
        if a is not None:
            a[2].add(gids[int(gid)])
            a[5] = _max(a[5], float(last))
    for mid, gid in conn.execute(
        select(ev.c.member_id, ev.c.group_id).where(ev.c.group_id.in_(ids)).distinct()
    ):
        if int(mid) in acc:
            acc[int(mid)][2].add(gids[int(gid)])
    out: list[_Base] = [(a[0], a[1], frozenset(a[2]), a[3], a[4], a[5]) for a in acc.values()]
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[key] = out
    return out


def people(
    conn: Connection,
    scope: Iterable[GroupKey],
    *,
    now: float,
    buyers: Mapping[Account, Buyer] | None = None,
) -> list[Person]:
    """Everyone (no bots) who joined or spoke in a group of ``scope``, merged by profile."""
    gids = _archive_groups(conn, scope)
    scope_keys = set(gids.values())
    if not gids:
        return []
    by_account: dict[Account, Person] = {}
    for account, name, groups, messages, last_spoke, joined in _archive_part(conn, gids):
        by_account[account] = Person(
            [account], name, set(groups), messages=messages, last_spoke=last_spoke, joined=joined
        )
    _feature_figures(conn, by_account, scope_keys, now)
    for account, b in (buyers or {}).items():
        if account in by_account:
            by_account[account].buyer_score = b.score
    return _merge(conn, by_account)


def _feature_figures(
    conn: Connection, by_account: dict[Account, Person], scope: set[GroupKey], now: float
) -> None:
    pl, lm, st = schema.points_ledger, schema.layer_members, schema.strikes
    for platform, gid, mid, total in conn.execute(
        select(pl.c.platform, pl.c.group_id, pl.c.member_id, func.sum(pl.c.delta)).group_by(
            pl.c.platform, pl.c.group_id, pl.c.member_id
        )
    ):
        p = by_account.get((platform, mid))
        if p is not None and (platform, gid) in scope:
            p.points += int(total or 0)
    for r in conn.execute(select(lm.c.platform, lm.c.group_id, lm.c.member_id, lm.c.layer)):
        p = by_account.get((r.platform, r.member_id))
        if p is not None and (r.platform, r.group_id) in scope:
            p.layers[(r.platform, r.group_id)] = r.layer
    active = (
        select(st.c.platform, st.c.group_id, st.c.member_id, func.count())
        .where(st.c.status == "active", st.c.expires_at > now)
        .group_by(st.c.platform, st.c.group_id, st.c.member_id)
    )
    for platform, gid, mid, n in conn.execute(active):
        p = by_account.get((platform, mid))
        if p is not None and (platform, gid) in scope:
            p.strikes += int(n)
    t = schema.member_tags
    for r in conn.execute(select(t.c.platform, t.c.member_id, t.c.category, t.c.tag)):
        p = by_account.get((r.platform, r.member_id))
        if p is not None:
            p.tags.add((r.category, r.tag))
    o = schema.crm_orders
    for platform, mid, n, cents in conn.execute(
        select(o.c.platform, o.c.member_id, func.count(), func.sum(o.c.amount_cents)).group_by(
            o.c.platform, o.c.member_id
        )
    ):
        p = by_account.get((platform, mid))
        if p is not None:
            p.orders += int(n)
            p.order_cents += int(cents or 0)
    c = schema.crm_coupons
    for platform, mid, n in conn.execute(
        select(c.c.platform, c.c.member_id, func.count()).group_by(c.c.platform, c.c.member_id)
    ):
        p = by_account.get((platform, mid))
        if p is not None:
            p.coupons += int(n)


def _merge(conn: Connection, by_account: dict[Account, Person]) -> list[Person]:
    """Fold the accounts of one profile into one person (the first account by sort)."""
    profiles = profile_map(conn)
    folded: dict[object, Person] = {}
    for account in sorted(by_account):
        p = by_account[account]
        key: object = ("profile", profiles[account]) if account in profiles else account
        into = folded.get(key)
        if into is None:
            folded[key] = p
            continue
        into.accounts.append(account)
        into.groups |= p.groups
        into.layers.update(p.layers)
        into.points += p.points
        into.messages += p.messages
        into.last_spoke = _max(into.last_spoke, p.last_spoke)
        into.joined = _max(into.joined, p.joined)
        into.strikes += p.strikes
        into.tags |= p.tags
        into.buyer_score = max(into.buyer_score, p.buyer_score)
        into.orders += p.orders
        into.order_cents += p.order_cents
        into.coupons += p.coupons
    return sorted(folded.values(), key=lambda p: (-(p.last_spoke or 0.0), p.key))
