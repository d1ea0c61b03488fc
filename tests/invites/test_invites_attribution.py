"""Adapters fill ``MemberJoined.invite``; the pipeline attributes the join to the link.

Payloads: ``invites_payloads.json`` (see its ``source``) and the Discord gateway
fixtures of ``tests/fixtures/discord`` (``member_add``, ``invite_create``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from invites_helpers import Clock, fake, pipeline, rows, settings

from shequn.events import Event, MemberJoined, MemberRef, MessagePosted
from shequn.features.invites import campaigns, codes
from shequn.platforms import telegram
from shequn.platforms.discord.gateway import Facts as DiscordFacts
from shequn.platforms.discord.gateway import translate as discord_translate
from shequn.platforms.discord.invites import InviteTracker
from shequn.platforms.discord.state import GatewayState
from shequn.platforms.wecom.events import Facts as WecomFacts
from shequn.platforms.wecom.events import group_info
from shequn.platforms.wecom.events import translate as wecom_translate
from shequn.store import Store, schema

HERE = Path(__file__).parent
PAYLOADS = json.loads((HERE / "invites_payloads.json").read_text(encoding="utf-8"))
DISCORD = {
    x["name"]: x["frame"]
    for x in json.loads((HERE.parent / "fixtures" / "discord" / "gateway.json").read_text())
}
TG_GROUP = "-1001234567890"
GUILD, HOME = "197038439483310086", "1016781634200866817"


def _telegram(name: str) -> MemberJoined:
    (ev,) = telegram.translate(PAYLOADS[name])
    assert isinstance(ev, MemberJoined)
    return ev


def _discord() -> MemberJoined:
    """A newcomer through ``mod7days``: the tracker sees its use count go up by one."""
    state = GatewayState(home_channels={GUILD: HOME})
    tracker = InviteTracker()
    created: dict[str, Any] = DISCORD["invite_create"]["d"]
    tracker.seen(GUILD, [created])
    fresh = [{**created, "uses": 1}]
    facts = DiscordFacts(invite=tracker.used(GUILD, fresh))
    evs: list[Event] = discord_translate(DISCORD["member_add"], state, now=0.0, facts=facts)
    (ev,) = evs
    assert isinstance(ev, MemberJoined)
    return ev


def _wecom() -> MemberJoined:
    facts = WecomFacts(group=group_info(PAYLOADS["wecom_group"]))
    (ev,) = wecom_translate(PAYLOADS["wecom_add_member"], facts)
    assert isinstance(ev, MemberJoined)
    return ev


def test_adapters_fill_the_invite_the_platform_names() -> None:
    assert _telegram("telegram_join_via_link").invite == "https://t.me/+Hk3mQ8zXyZ1hNjQ1"
    by_request = _telegram("telegram_join_via_request_link")
    assert by_request.invite == "https://t.me/+Rq7pPersonalLink"
    assert by_request.method.value == "request"
    d = _discord()
    assert (d.group_id, d.invite, d.inviter and d.inviter.platform_id) == (
        HOME, "mod7days", "80351110224678912",
    )  # fmt: skip
    w = _wecom()
    assert (w.member.platform_id, w.invite, w.method.value) == (
        "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", "spring", "link",
    )  # fmt: skip
    # a join the platform says nothing about carries no invite
    (plain,) = telegram.translate(
        {**PAYLOADS["telegram_join_via_link"], "chat_member": {
            k: v for k, v in PAYLOADS["telegram_join_via_link"]["chat_member"].items()
            if k != "invite_link"
        }}
    )  # fmt: skip
    assert isinstance(plain, MemberJoined) and plain.invite is None


def test_joins_are_attributed_through_the_real_pipeline(store: Store) -> None:
    with store.engine.begin() as conn:
        cid = codes.create_code(conn, name="spring", now=0.0, code="spring")
        tg = codes.add_target(
            conn, cid, "telegram", TG_GROUP, link="https://t.me/+Hk3mQ8zXyZ1hNjQ1"
        )
        dc = codes.add_target(conn, cid, "discord", HOME, link="https://discord.gg/mod7days")
        wc = codes.add_target(conn, cid, "wecom", "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
                              qr_url="https://example.com/qr.png")  # fmt: skip
        camp = campaigns.create_campaign(conn, name="spring", now=0.0, tiers=[], code_id=cid)
        # a referrer whose personal Telegram link is the request link above
        campaigns.enrol(conn, camp, "telegram", "5068627745", name="User1", group_id=TG_GROUP,
                        now=0.0, link="https://t.me/+Rq7pPersonalLink")  # fmt: skip
    clock = Clock(1_800_000_000.0)
    p = pipeline(store, clock, settings(public_url="https://shequn.example/"))
    for ev, platform in (
        (_telegram("telegram_join_via_link"), "telegram"),
        (_telegram("telegram_join_via_request_link"), "telegram"),
        (_discord(), "discord"),
        (_wecom(), "wecom"),
    ):
        assert asyncio.run(p.handle(ev, fake(platform)))
    got = {(r.platform, r.member_id): r for r in rows(store, schema.invite_joins)}
    assert got[("telegram", "999000777")].target_id == tg
    assert got[("telegram", "999000777")].campaign_id is None
    ivan = got[("telegram", "999000888")]
    assert (ivan.inviter_id, ivan.campaign_id, ivan.status) == ("5068627745", camp, "pending")
    assert got[("discord", "1016800123456789012")].target_id == dc
    # Discord names the invite's creator: the tree knows who brought them
    assert got[("discord", "1016800123456789012")].inviter_id == "80351110224678912"
    assert got[("wecom", "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA")].target_id == wc  # by its state
    # a replayed event is not attributed twice
    assert not asyncio.run(p.handle(_wecom(), fake("wecom")))
    assert len(rows(store, schema.invite_joins)) == 4
    # a member asks the bot for their personal link: enrolled, answered in the group
    tg = fake("telegram")
    ask = MessagePosted("telegram", TG_GROUP, "77", 1_800_000_100.0, MemberRef("999000777", "Heidi"),
                        text="邀请码")  # fmt: skip
    assert asyncio.run(p.handle(ask, tg))
    ref = next(r for r in rows(store, schema.invite_referrers) if r.member_id == "999000777")
    (call,) = [c for c in tg.calls if c.name == "send"]
    assert f"https://shequn.example/j/spring?r={ref.ref}" in call.args["text"]
