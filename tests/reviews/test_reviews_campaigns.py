"""Campaigns are reviewable too: a fission campaign in its 活码's and referrers' groups,
a coupon campaign in the groups its announcement went to."""

from __future__ import annotations

from test_reviews_figures import D, T, _build

from shequn.features.crm import campaigns as crm_campaigns
from shequn.features.invites import campaigns as fission
from shequn.features.invites import codes
from shequn.features.reviews import all_items, find_item, review
from shequn.store import Store


def test_fission_and_coupon_campaigns_are_reviewed_in_their_groups(store: Store) -> None:
    _build(store)
    with store.engine.begin() as conn:
        code = codes.create_code(conn, name="拉新活码", now=T + 10 * D)
        codes.add_target(conn, code, "telegram", "A")
        fid = fission.create_campaign(
            conn, name="老带新", now=T + 10 * D, tiers=fission.parse_tiers("3=100 积分"),
            code_id=code,
        )  # fmt: skip
        fission.enrol(conn, fid, "telegram", "ann", group_id="B", now=T + 10 * D)
        lonely = fission.create_campaign(conn, name="没有群", now=T + 11 * D, tiers=[])
        cid = crm_campaigns.create_campaign(
            conn, name="双十一券", text="领券 {code}", code="S11", by="mia", now=T + 12 * D,
            recipients=[("telegram", "ann")], mass_groups=[("telegram", "C")],
        )  # fmt: skip
    with store.engine.connect() as conn:
        items = {(i.kind, i.id): i for i in all_items(conn)}
        camp, coupon = items[("campaign", fid)], items[("coupon", cid)]
        assert camp.title == "老带新" and camp.at == T + 10 * D
        assert camp.groups == (("telegram", "A"), ("telegram", "B"))
        assert ("campaign", lonely) not in items  # no group yet: nothing to compare
        assert coupon.groups == (("telegram", "C"),) and coupon.at == T + 12 * D
        found = find_item(conn, "campaign", fid)
        assert found == camp
        figures = review(conn, camp, days=7, now=T + 30 * D)
    assert figures.item == camp
