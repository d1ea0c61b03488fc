"""The conversion funnel on a small constructed archive, against hand-counted numbers.

Group G1 (six members) and G2 (one), one campaign announced in G1:

====  =====  ===================  ==============  =================================
who   spoke  tagged / buyer       coupon          order
====  =====  ===================  ==============  =================================
m1    yes    tag                  campaign        with its coupon
m2    yes    asks the price       campaign        —
m3    yes    —                    campaign        without a coupon
m4    yes    tag                  —               —
m5    no     tag                  campaign        with its coupon
m6    no     —                    —               —
m7    yes    —  (in G2)           campaign        with its coupon
====  =====  ===================  ==============  =================================
"""

from __future__ import annotations

from sqlalchemy import select

from shequn.features import crm
from shequn.features.crm import funnel
from shequn.store import Store, schema

G1, G2 = ("telegram", "-1"), ("telegram", "-2")
T = 1_700_000_000.0


def _build(store: Store) -> int:
    with store.engine.begin() as conn:
        gid = {}
        for key in (G1, G2):
            gid[key] = conn.execute(
                schema.groups.insert().values(platform=key[0], platform_id=key[1], name=key[1])
            ).inserted_primary_key[0]  # type: ignore[index]
        mid = {}
        for i in range(1, 8):
            mid[i] = conn.execute(schema.members.insert().values(
                platform="telegram", platform_id=f"m{i}", name=f"m{i}")).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            group = G2 if i == 7 else G1
            conn.execute(schema.membership_events.insert().values(
                group_id=gid[group], platform_id=f"j{i}", member_id=mid[i], ts=T, action="join"))  # fmt: skip
        said = {1: "hello", 2: "这个多少钱？怎么买？", 3: "hello", 4: "hello", 7: "hello"}
        for i, text in said.items():
            conn.execute(schema.messages.insert().values(
                group_id=gid[G2 if i == 7 else G1], platform_id=f"x{i}", member_id=mid[i],
                ts=T + i, kind="text", text=text))  # fmt: skip
        for i in (1, 4, 5):
            crm.add_tag(conn, ("telegram", f"m{i}"), "interest", "咖啡", by="t", now=T)
        cid = crm.create_campaign(
            conn, name="K", text="sale", by="t", now=T, mass_groups=[G1],
            recipients=[("telegram", f"m{i}") for i in (1, 2, 3, 5, 7)],
        )  # fmt: skip
        codes = {
            r.member_id: r.code
            for r in conn.execute(
                select(schema.crm_coupons).where(schema.crm_coupons.c.campaign_id == cid)
            )
        }
        for i in (1, 5, 7):
            crm.record_order(conn, crm.OrderInput("", "", 100, T, coupon_code=codes[f"m{i}"]),
                             source="manual", by="t", now=T)  # fmt: skip
        crm.record_order(
            conn, crm.OrderInput("telegram", "m3", 100, T), source="manual", by="t", now=T
        )
    return cid


def test_group_and_campaign_funnels_match_the_hand_count(store: Store) -> None:
    cid = _build(store)
    buyers = crm.likely_buyers(store)
    assert set(buyers) == {("telegram", "m2")}  # the report's scoring: asked the price
    with store.engine.connect() as conn:
        g1 = crm.group_funnel(conn, G1, now=T + 100, buyers=buyers)
        g2 = crm.group_funnel(conn, G2, now=T + 100, buyers=buyers)
        row = conn.execute(
            select(schema.crm_campaigns).where(schema.crm_campaigns.c.id == cid)
        ).one()
        scope = funnel.campaign_groups(conn, row.mass_id)
        k = crm.campaign_funnel(conn, cid, scope, now=T + 100, buyers=buyers)
    assert scope == [G1]
    assert g1 == {
        "members": 6,
        "spoke": 4,
        "engaged": 3,
        "coupon": 2,
        "ordered": 1,
        "ordered_any": 3,
    }
    assert g2 == {
        "members": 1,
        "spoke": 1,
        "engaged": 0,
        "coupon": 0,
        "ordered": 0,
        "ordered_any": 1,
    }
    assert k == {
        "members": 6,
        "spoke": 4,
        "engaged": 3,
        "coupon": 2,
        "ordered": 1,
        "ordered_any": 2,
    }
