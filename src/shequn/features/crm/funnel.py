"""The conversion funnel (playbook §5.3): members → spoke → tagged or likely buyer →
coupon received → ordered, per group and per campaign.

Each step counts the people of the step before who also did this one, so the
numbers only fall; people who ordered without passing an earlier step are counted
apart as ``ordered_any``. People are merged identities (:mod:`.people`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import Connection, select

from shequn.features.crm.buyers import Buyer
from shequn.features.crm.identities import Account
from shequn.features.crm.people import GroupKey, Person, people
from shequn.store import schema

__all__ = ["STAGES", "campaign_funnel", "campaign_groups", "group_funnel"]

STAGES = ("members", "spoke", "engaged", "coupon", "ordered")


def _steps(
    population: list[Person],
    got_coupon: Callable[[Person], bool],
    ordered: Callable[[Person], bool],
) -> dict[str, int]:
    steps = [
        lambda p: True,
        lambda p: p.messages > 0,
        lambda p: bool(p.tags) or p.likely_buyer,
        got_coupon,
        ordered,
    ]
    left = population
    out: dict[str, int] = {}
    for stage, test in zip(STAGES, steps, strict=True):
        left = [p for p in left if test(p)]
        out[stage] = len(left)
    out["ordered_any"] = sum(1 for p in population if ordered(p))
    return out


def group_funnel(
    conn: Connection, group: GroupKey, *, now: float, buyers: Mapping[Account, Buyer]
) -> dict[str, int]:
    """The funnel of one group: its members, any coupon, any order."""
    population = people(conn, [group], now=now, buyers=buyers)
    return _steps(population, lambda p: p.coupons > 0, lambda p: p.orders > 0)


def campaign_groups(conn: Connection, mass_id: int | None) -> list[GroupKey]:
    """The groups a campaign's announcement went to."""
    if mass_id is None:
        return []
    s = schema.content_sends
    q = select(s.c.platform, s.c.group_id).where(s.c.source == "mass", s.c.source_id == mass_id)
    return sorted({(r.platform, r.group_id) for r in conn.execute(q)})


def campaign_funnel(
    conn: Connection,
    campaign_id: int,
    scope: Iterable[GroupKey],
    *,
    now: float,
    buyers: Mapping[Account, Buyer],
) -> dict[str, int]:
    """The funnel of one campaign over the members of ``scope`` (its groups in reach):
    coupon = a coupon of this campaign, ordered = an order quoting its coupon."""
    c, o = schema.crm_coupons, schema.crm_orders
    got = {
        (r.platform, r.member_id)
        for r in conn.execute(
            select(c.c.platform, c.c.member_id).where(c.c.campaign_id == campaign_id)
        )
    }
    bought = {
        (r.platform, r.member_id)
        for r in conn.execute(
            select(o.c.platform, o.c.member_id).where(o.c.campaign_id == campaign_id)
        )
    }
    population = people(conn, scope, now=now, buyers=buyers)
    return _steps(
        population,
        lambda p: any(a in got for a in p.accounts),
        lambda p: any(a in bought for a in p.accounts),
    )
