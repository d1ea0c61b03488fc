"""Promotions and coupons (优惠活动) sent to a segment: one campaign, one coupon per member.

The announcement goes out as a mass message (群发) to the groups the segment's
members are in, through the content feature's :func:`create_mass` (a chat group is
the unit a bot can post to, so the coupon itself is recorded per member: a shared
code, or a code of their own that an order quotes back).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from shequn.features.content import create_mass
from shequn.features.crm.identities import Account
from shequn.features.crm.people import GroupKey
from shequn.store import schema

__all__ = ["campaign", "campaigns", "coupons_of", "create_campaign", "recipients"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


def _code(campaign_id: int) -> str:
    return f"C{campaign_id}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def create_campaign(
    conn: Connection,
    *,
    name: str,
    text: str,
    recipients: Iterable[Account],
    by: str,
    now: float,
    code: str = "",
    segment_id: int | None = None,
    mass_groups: Iterable[GroupKey] = (),
    link: str = "",
) -> int:
    """Record a campaign and a coupon for each recipient; announce it to ``mass_groups``.

    ``code`` is one code for everyone; without it each member gets a code of their own.
    ``{code}`` in ``text`` is replaced by the shared code. Raises ValueError on an
    empty name or text, or no recipient.
    """
    name, code = " ".join(name.split())[:255], code.strip()[:64]
    people = sorted(set(recipients))
    if not name:
        raise ValueError("a campaign needs a name")
    if not text.strip():
        raise ValueError("a campaign needs a text")
    if not people:
        raise ValueError("the segment has nobody in it")
    k, c = schema.crm_campaigns, schema.crm_coupons
    cid = int(
        conn.execute(
            k.insert().values(
                name=name, text=text.strip(), code=code, segment_id=segment_id, created_at=now,
                created_by=by,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )  # fmt: skip
    for platform, member in people:
        conn.execute(
            c.insert().values(
                campaign_id=cid, platform=platform, member_id=member,
                code=code or _code(cid), sent_at=now,
            )
        )  # fmt: skip
    groups = sorted(set(mass_groups))
    if groups:
        body = text.strip().replace("{code}", code) if code else text.strip()
        mass_id = create_mass(
            conn, text=body, groups=groups, by=by, now=now, name=f"campaign:{name}", link=link
        )
        conn.execute(update(k).where(k.c.id == cid).values(mass_id=mass_id))
    return cid


def campaigns(conn: Connection) -> list[dict[str, Any]]:
    """Every campaign, newest first, with its coupon and order counts."""
    k, c, o = schema.crm_campaigns, schema.crm_coupons, schema.crm_orders
    n_coupons: dict[int, int] = dict(
        conn.execute(select(c.c.campaign_id, func.count()).group_by(c.c.campaign_id)).all()
    )
    n_orders: dict[int, int] = dict(
        conn.execute(
            select(o.c.campaign_id, func.count())
            .where(o.c.campaign_id.is_not(None))
            .group_by(o.c.campaign_id)
        ).all()
    )
    return [
        {**r._mapping, "coupons": int(n_coupons.get(r.id, 0)), "orders": int(n_orders.get(r.id, 0))}
        for r in conn.execute(select(k).order_by(k.c.id.desc()))
    ]


def campaign(conn: Connection, campaign_id: int) -> Row[Any] | None:
    k = schema.crm_campaigns
    return conn.execute(select(k).where(k.c.id == campaign_id)).first()


def recipients(conn: Connection, campaign_id: int) -> list[Row[Any]]:
    c = schema.crm_coupons
    q = select(c).where(c.c.campaign_id == campaign_id).order_by(c.c.platform, c.c.member_id)
    return list(conn.execute(q).all())


def coupons_of(conn: Connection, accounts: Iterable[Account]) -> list[dict[str, Any]]:
    """The coupons any of ``accounts`` received, newest first, with the campaign name."""
    c, k = schema.crm_coupons, schema.crm_campaigns
    out: list[dict[str, Any]] = []
    for platform, member in sorted(set(accounts)):
        q = (
            select(c, k.c.name)
            .join(k, k.c.id == c.c.campaign_id)
            .where(c.c.platform == platform, c.c.member_id == member)
        )
        out += [dict(r._mapping) for r in conn.execute(q)]
    return sorted(out, key=lambda r: -r["sent_at"])
