"""Merging one person's accounts across platforms, and taking them apart again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shequn.features import crm
from shequn.features.crm import identities
from shequn.store import Store, schema

TG = ("telegram", "42")
WX = ("wechat", "wxid_a")
QQ = ("qq", "10001")
DC = ("discord", "7")


def _profiles(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(schema.member_profiles)).scalar_one()
        )


def test_link_joins_profiles_and_unlink_drops_a_lone_profile(store: Store) -> None:
    with store.engine.begin() as conn:
        with pytest.raises(ValueError):
            crm.link(conn, TG, TG, by="t", now=1.0)
        p1 = crm.link(conn, TG, WX, by="t", now=1.0)
        assert crm.link(conn, WX, TG, by="t", now=1.0) == p1  # already one person
        assert crm.link(conn, QQ, WX, by="t", now=1.0) == p1  # joins the existing profile
        p2 = crm.link(conn, DC, ("discord", "8"), by="t", now=1.0)
        assert p2 != p1
        assert crm.link(conn, DC, TG, by="t", now=1.0) == min(p1, p2)  # two profiles become one
        assert crm.accounts_of(conn, WX) == [WX, ("discord", "7"), ("discord", "8"), QQ, TG]
    assert _profiles(store) == 1
    with store.engine.begin() as conn:
        assert sorted(crm.unlink(conn, WX)) == [DC, ("discord", "8"), QQ, TG]
        assert crm.accounts_of(conn, WX) == [WX]
        crm.unlink(conn, DC)
        crm.unlink(conn, ("discord", "8"))
        assert crm.unlink(conn, QQ) == [TG]  # TG alone now: the profile is gone
        assert crm.accounts_of(conn, TG) == [TG]
        assert identities.profile_map(conn) == {}
    assert _profiles(store) == 0


def test_figures_sum_over_linked_accounts(store: Store) -> None:
    with store.engine.begin() as conn:
        for platform, gid, member in (
            ("telegram", "-100", "42"),
            ("wechat", "room@chatroom", "wxid_a"),
        ):
            g = conn.execute(
                schema.groups.insert().values(platform=platform, platform_id=gid, name=gid)
            )
            m = conn.execute(
                schema.members.insert().values(platform=platform, platform_id=member, name=member)
            )
            for i in range(3 if platform == "telegram" else 2):
                conn.execute(schema.messages.insert().values(
                    group_id=g.inserted_primary_key[0], platform_id=f"{i}", ts=100.0 + i,
                    member_id=m.inserted_primary_key[0], kind="text", text="hi"))  # fmt: skip
            conn.execute(schema.points_ledger.insert().values(
                platform=platform, group_id=gid, member_id=member, delta=7, reason="checkin",
                day="2025-01-01", ts=1.0))  # fmt: skip
        scope = [("telegram", "-100"), ("wechat", "room@chatroom")]
        apart = crm.people(conn, scope, now=200.0)
        assert len(apart) == 2
        crm.link(conn, TG, WX, by="t", now=1.0)
        (one,) = crm.people(conn, scope, now=200.0)
    assert one.accounts == [TG, WX]
    assert (one.messages, one.points, one.last_spoke) == (5, 14, 102.0)
    assert one.groups == set(scope)
    with store.engine.begin() as conn:
        crm.unlink(conn, TG)
        assert len(crm.people(conn, scope, now=200.0)) == 2
