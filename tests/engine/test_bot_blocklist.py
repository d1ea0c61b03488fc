"""Transcripts of the deployment's blocklist (全局黑名单): a member the ladder removes for
ads in one group is removed from the bot's other groups, kept out of them, and let back
when an operator lifts the listing or undoes the removal."""

from __future__ import annotations

import json
from typing import Any

from bot_transcript import Deployment, rows, user

from shequn.actions import blocklist
from shequn.actions.moderation import undo
from shequn.botconfig import GroupSettings
from shequn.events import JoinRequested, MemberLeft
from shequn.features.strikes import Step
from shequn.platforms.port import Capability, FakePlatform, PlatformError
from shequn.store import Store, schema

AD = "优惠多多 加微信 abc123"
SPAMMER = user("spam1", "推广小号")
BOB = user("bob", "Bob")


async def three_ads(d: Deployment, group: str = "g1") -> None:
    await d.say_times(3, group, SPAMMER, AD)


class RefusesIn(FakePlatform):
    """Answers every removal in one group with an error (a lost permission, a 502)."""

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group

    async def kick(self, group_id: str, member_id: str, *, ban: bool = False,
                   reason: str = "") -> None:  # fmt: skip
        if group_id == self.group:
            raise PlatformError("502 Bad Gateway")
        await super().kick(group_id, member_id, ban=ban, reason=reason)


def entries(store: Store) -> list[Any]:
    return rows(store, schema.blocklist, schema.blocklist.c.id)


def removals(store: Store) -> list[tuple[str, str, str]]:
    t = schema.bot_actions
    return [
        (r.group_id, r.kind, r.status) for r in rows(store, t, t.c.id) if r.reason == "blocklist"
    ]


async def test_removed_for_ads_in_one_group_removes_them_from_the_others(store: Store) -> None:
    d = Deployment(store)
    await d.chat("g2").say(SPAMMER, "大家好")  # known in g2: they posted
    await d.chat("g3").join(SPAMMER)  # known in g3: they joined
    await d.chat("g4").say(BOB, "大家好")  # never seen in g4
    d.take()

    await three_ads(d, "g1")
    calls = d.take()
    assert ("kick", {"group_id": "g1", "member_id": "spam1", "ban": False}) in calls
    # banned where they are, so a kicked spammer cannot walk back in, and what they
    # posted there lately is recalled (purge_minutes)
    assert calls[-3:] == [
        ("kick", {"group_id": "g2", "member_id": "spam1", "ban": True}),
        ("delete", {"group_id": "g2", "message_id": "m1"}),
        ("kick", {"group_id": "g3", "member_id": "spam1", "ban": True}),
    ]
    [entry] = entries(store)
    assert (entry.platform, entry.member_id, entry.member_name, entry.group_id, entry.rule,
            entry.status) == ("fake", "spam1", "推广小号", "g1", "ad", "active")  # fmt: skip
    kick = next(r for r in rows(store, schema.bot_actions) if r.kind == "kick")
    assert entry.action_id == kick.id and entry.strike_id == kick.strike_id
    assert json.loads(entry.evidence)["text"] == AD
    assert entry.swept_at is not None
    assert removals(store) == [("g2", "ban", "done"), ("g3", "ban", "done")]
    ban = next(r for r in rows(store, schema.bot_actions) if r.reason == "blocklist")
    assert json.loads(ban.evidence) == {
        "blocklist_id": entry.id, "listed_in": "g1", "rule": "ad", "text": AD,
    }  # fmt: skip


async def test_a_listed_member_is_kept_out_of_every_group(store: Store) -> None:
    d = Deployment(store)
    await three_ads(d, "g1")
    d.take()

    # joining another group: removed at once, no gate, no welcome
    await d.chat("g4").join(SPAMMER)
    assert d.take() == [("kick", {"group_id": "g4", "member_id": "spam1", "ban": True})]
    # asking to join: declined
    req = JoinRequested("fake", "g5", "r1", d.clock.advance(1), SPAMMER)
    await d.pipeline.handle(req, d.platform)
    assert d.take() == [("approve_join", {"group_id": "g5", "request_id": "r1", "approve": False})]
    # posting where the bot had not seen them: the message goes, and so do they
    await d.chat("g6").say(SPAMMER, "hello")
    assert d.take() == [
        ("delete", {"group_id": "g6", "message_id": "m1"}),
        ("kick", {"group_id": "g6", "member_id": "spam1", "ban": True}),
    ]
    # a message sent before that removal and delivered after it: deleted, no second ban
    await d.chat("g6").say(SPAMMER, "hello again")
    assert d.take() == [("delete", {"group_id": "g6", "message_id": "m2"})]
    # staff and others are untouched
    await d.chat("g6").say(BOB, "hi")
    assert d.take() == []
    # strikes were never given for these: the listing is not a new violation
    assert {s.group_id for s in rows(store, schema.strikes)} == {"g1"}


async def test_a_kicked_member_who_came_back_unseen_is_removed_again(store: Store) -> None:
    d = Deployment(store, platform=FakePlatform(
        capabilities=frozenset(Capability) - {Capability.BAN}
    ))  # fmt: skip
    await d.chat("g2").say(SPAMMER, "hi")
    await three_ads(d, "g1")
    assert d.take()[-2:] == [
        ("kick", {"group_id": "g2", "member_id": "spam1", "ban": False}),
        ("delete", {"group_id": "g2", "message_id": "m1"}),  # their "hi", recalled
    ]
    d.clock.advance(3600)  # long after: the member rejoined without the bot seeing it
    await d.chat("g2").say(SPAMMER, "我又回来了")
    assert d.take() == [
        ("delete", {"group_id": "g2", "message_id": "m2"}),
        ("kick", {"group_id": "g2", "member_id": "spam1", "ban": False}),
    ]


async def test_groups_that_opt_out_or_exempt_the_member_are_left_alone(store: Store) -> None:
    d = Deployment(store, {
        "g2": GroupSettings(blocklist="off"),
        "g3": GroupSettings(exempt=frozenset({"spam1"})),
        "g4": GroupSettings(blocklist="honour"),
    })  # fmt: skip
    for g in ("g2", "g3", "g4"):
        await d.chat(g).say(SPAMMER, "大家好")
    await three_ads(d, "g1")
    assert removals(store) == [("g4", "ban", "done")]
    d.take()
    await d.chat("g2").say(SPAMMER, "still here")  # off: not enforced either
    await d.chat("g3").say(SPAMMER, "still here")
    assert d.take() == []


async def test_only_the_listed_rules_in_sharing_groups_list_a_member(store: Store) -> None:
    d = Deployment(store, {
        "g1": GroupSettings(blocklist="honour"),
        "g2": GroupSettings(blocklist_rules=frozenset({"spam"})),
    })  # fmt: skip
    await three_ads(d, "g1")  # honour: removed here, not listed
    await three_ads(d, "g2")  # ads are not among g2's rules
    assert entries(store) == []
    await d.chat("g3").join(SPAMMER)
    assert d.take()[-1][0] == "send"  # welcomed like anyone
    d3 = Deployment(store)
    d3.clock.advance(10)
    # mutes and warnings never list anyone: only a removal does
    await d3.chat("g4").say(user("carol"), AD)
    await d3.chat("g4").say(user("carol"), AD)
    assert entries(store) == []


async def test_flooding_alone_removes_but_does_not_list(store: Store) -> None:
    spam_kicks = GroupSettings(ladder_by_rule={"spam": (Step("kick"),)})
    d = Deployment(store, {
        "g1": GroupSettings(flood_messages=3, flood_seconds=60, ladder_by_rule={
            "spam": (Step("warn"), Step("warn"), Step("kick"))
        }),
        **{g: spam_kicks for g in ("g3", "g4", "g5")},
    })  # fmt: skip
    await d.chat("g2").say(BOB, "hi")
    for i in range(6):  # a keen member forwarding in bursts: struck three times, kicked
        await d.chat("g1").say(BOB, f"转发第 {i} 篇文章")
    assert ("kick", {"group_id": "g1", "member_id": "bob", "ban": False}) in d.take()
    assert entries(store) == []  # not a spammer elsewhere
    # the same text posted across groups is a spam run: removed from the third, listed
    for g in ("g3", "g4", "g5"):
        await d.chat(g).say(SPAMMER, "低价代购 名额有限")
    assert [e.rule for e in entries(store)] == ["spam"]


async def test_a_member_who_left_is_not_chased(store: Store) -> None:
    d = Deployment(store)
    await d.chat("g2").say(SPAMMER, "hi")
    await d.chat("g3").join(SPAMMER)
    left = MemberLeft("fake", "g3", "l1", d.clock.advance(1), SPAMMER)
    await d.pipeline.handle(left, d.platform)
    await three_ads(d, "g1")
    assert removals(store) == [("g2", "ban", "done")]


async def test_lifting_lets_them_back_everywhere(store: Store) -> None:
    d = Deployment(store)
    await d.chat("g2").say(SPAMMER, "hi")
    await d.chat("g3").say(SPAMMER, "hi")
    await three_ads(d, "g1")
    d.take()
    [entry] = entries(store)
    with store.engine.begin() as conn:
        new = blocklist.lift(conn, d.platform, entry.id, "console:admin", now=d.clock())
        assert blocklist.listed(conn, "fake", "spam1") is None
    from shequn.actions.moderation import carry_out

    await carry_out(store, d.platform, now=d.clock(), ids=new)
    assert d.take() == [
        ("unban", {"group_id": "g2", "member_id": "spam1"}),
        ("unban", {"group_id": "g3", "member_id": "spam1"}),
    ]
    [entry] = entries(store)
    assert (entry.status, entry.lifted_by) == ("lifted", "console:admin")
    assert removals(store) == [("g2", "ban", "undone"), ("g3", "ban", "undone")]
    await d.chat("g4").join(SPAMMER)
    assert d.take()[-1][0] == "send"  # welcomed
    # the removal in g1 was the ladder's own: lifting the listing leaves it to its undo
    kick = next(r for r in rows(store, schema.bot_actions) if r.kind == "kick")
    assert kick.status == "done"


async def test_undoing_the_removal_that_listed_them_lifts_the_listing(store: Store) -> None:
    d = Deployment(store)
    await d.chat("g2").say(SPAMMER, "hi")
    await three_ads(d, "g1")
    d.take()
    kick = next(r for r in rows(store, schema.bot_actions) if r.kind == "kick")
    await undo(store, d.platform, kick.id, "admin1", now=d.clock())
    assert d.take() == [
        ("unban", {"group_id": "g1", "member_id": "spam1"}),
        ("unban", {"group_id": "g2", "member_id": "spam1"}),
    ]
    [entry] = entries(store)
    assert (entry.status, entry.lifted_by) == ("lifted", "admin1")
    assert "undo of action" in entry.note


async def test_lifting_drops_removals_not_yet_made(store: Store) -> None:
    d = Deployment(store, platform=RefusesIn("g2"))
    await d.chat("g2").say(SPAMMER, "hi")
    await three_ads(d, "g1")  # the platform errs: the ban in g2 stays planned for a retry
    assert removals(store) == [("g2", "ban", "planned")]
    [entry] = entries(store)
    with store.engine.begin() as conn:
        new = blocklist.lift(conn, d.platform, entry.id, "admin1", now=d.clock())
    assert new == []
    assert removals(store) == [("g2", "ban", "dropped")]


async def test_an_operator_listing_is_swept_by_the_tick(store: Store) -> None:
    d = Deployment(store)
    await d.chat("g2").say(SPAMMER, "hi")
    d.take()
    with store.engine.begin() as conn:
        eid = blocklist.add(conn, platform="fake", member_id="spam1", now=d.clock(),
                            operator="console:admin", note="scammer reported by members")  # fmt: skip
        assert blocklist.add(conn, platform="fake", member_id="spam1", now=d.clock()) is None
    await d.pipeline.tick()
    assert d.take() == [
        ("kick", {"group_id": "g2", "member_id": "spam1", "ban": True}),
        ("delete", {"group_id": "g2", "message_id": "m1"}),
    ]
    await d.pipeline.tick()  # swept once
    assert d.take() == []
    [entry] = entries(store)
    assert (entry.id, entry.created_by, entry.group_id) == (eid, "console:admin", "")


async def test_where_the_platform_cannot_remove_a_person_is_asked(store: Store) -> None:
    wecom = FakePlatform(capabilities=frozenset(Capability) - {Capability.KICK, Capability.BAN})
    d = Deployment(store, platform=wecom)
    await d.chat("g2").say(SPAMMER, "hi")
    await three_ads(d, "g1")
    assert removals(store) == [("g2", "kick", "human_task")]
    tasks = [t for t in rows(store, schema.human_tasks) if t.group_id == "g2"]
    assert [(t.kind, t.member_id) for t in tasks] == [("kick", "spam1")]
    # their next message there is deleted; the person already asked is not asked again
    await d.chat("g2").say(SPAMMER, "广告")
    assert len([t for t in rows(store, schema.human_tasks) if t.group_id == "g2"]) == 1
