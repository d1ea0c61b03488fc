"""Transcripts of the clean-up (清理): a member removed for a strike has their recent
messages recalled with them, and a spam run across groups loses its earlier copies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bot_transcript import Deployment, rows, user

from shequn.actions import purge
from shequn.botconfig import GroupSettings
from shequn.events import MessagePosted
from shequn.features.strikes import Step
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

AD = "优惠多多 加微信 abc123"
RUN = "新品上架 全场五折 速来围观 今天最后一天"  # not an ad to the stand-in: only the run is
SPAMMER = user("spam1", "推广小号")
BOB = user("bob", "Bob")
KICK = GroupSettings(ladder=(Step("kick"),), blocklist="off")


def purges(store: Store) -> list[tuple[str, str, str]]:
    t = schema.bot_actions
    return [
        (r.group_id, json.loads(r.params)["message_id"], r.status)
        for r in rows(store, t, t.c.id)
        if r.reason == purge.REASON
    ]


def removals(calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """delete and kick calls as (kind, group, message or member)."""
    return [
        (name, a["group_id"], a.get("message_id") or a["member_id"])
        for name, a in calls
        if name in ("delete", "kick")
    ]


async def test_a_removal_recalls_what_the_member_posted_within_purge_minutes(
    store: Store,
) -> None:
    d = Deployment(store, {"g1": KICK})
    g1 = d.chat("g1")
    await g1.say(SPAMMER, "早上好")  # m1: an hour before, outside the 30 minutes
    d.clock.advance(3600)
    await g1.say(SPAMMER, "有需要的朋友看过来")  # m2
    await g1.say(BOB, "什么东西")  # m3: someone else's
    await g1.say(SPAMMER, "质量保证 价格优惠")  # m4
    await d.chat("g2").say(SPAMMER, "在吗")  # another group: not removed there (list off)
    d.take()

    await g1.say(SPAMMER, AD)  # m5: kicked at its first strike
    assert removals(d.take()) == [
        ("delete", "g1", "m5"),
        ("kick", "g1", "spam1"),
        ("delete", "g1", "m2"),
        ("delete", "g1", "m4"),
    ]
    assert purges(store) == [("g1", "m2", "done"), ("g1", "m4", "done")]
    row = next(r for r in rows(store, schema.bot_actions) if r.reason == purge.REASON)
    strike = next(r for r in rows(store, schema.bot_actions) if r.kind == "kick")
    assert row.member_id == "spam1" and row.strike_id == strike.strike_id
    assert json.loads(row.evidence) == {
        "purge_of": "m5", "group": "g1", "verdict": "ad",
        "text": "有需要的朋友看过来", "posted_at": row.created_at - 4,
    }  # fmt: skip


async def test_warnings_and_mutes_recall_nothing_and_zero_turns_it_off(store: Store) -> None:
    d = Deployment(store, {"g2": GroupSettings(ladder=(Step("kick"),), purge_minutes=0,
                                               blocklist="off")})  # fmt: skip
    await d.chat("g1").say(SPAMMER, "大家好")
    await d.chat("g1").say(SPAMMER, AD)  # a warning
    await d.chat("g1").say(SPAMMER, AD)  # a mute
    await d.chat("g2").say(SPAMMER, "大家好")
    await d.chat("g2").say(SPAMMER, AD)  # a kick, with purging off
    assert purges(store) == []


async def test_a_spam_run_loses_its_earlier_copies_in_every_group(store: Store) -> None:
    d = Deployment(store, {"g4": GroupSettings(purge_minutes=0)})
    await d.chat("g1").say(SPAMMER, RUN)  # m1 in g1
    await d.chat("g1").say(SPAMMER, "另外一句话 不相干的内容")  # m2: not a copy
    await d.chat("g4").say(SPAMMER, RUN)  # g4 keeps its copy (purging off there)
    await d.chat("g2").say(BOB, RUN)  # m1 in g2: someone else's copy
    assert d.take() == []
    # the third group: the run is caught here (the same text after normalisation), and
    # only warned (the ladder's first step), but its copies go everywhere
    await d.chat("g2").say(SPAMMER, "新品上架，全场五折！速来围观，今天最后一天")  # m2
    assert removals(d.take()) == [("delete", "g2", "m2"), ("delete", "g1", "m1")]
    # the next copy: only itself goes, the earlier ones are gone already
    await d.chat("g3").say(SPAMMER, RUN)
    assert removals(d.take()) == [("delete", "g3", "m1")]
    assert purges(store) == [("g1", "m1", "done")]
    assert [s.group_id for s in rows(store, schema.strikes)] == ["g2", "g3"]


async def test_the_blocklist_sweep_recalls_what_they_posted_in_each_group(store: Store) -> None:
    d = Deployment(store, {"g3": GroupSettings(purge_minutes=0)})
    await d.chat("g2").say(SPAMMER, "大家好 我是新来的")
    d.clock.advance(40 * 60)
    await d.chat("g2").say(SPAMMER, "有兴趣的私聊")  # m2
    await d.chat("g3").say(SPAMMER, "有兴趣的私聊")  # kept: purging off in g3
    await d.say_times(3, "g1", SPAMMER, AD)
    assert purges(store) == [("g2", "m2", "done")]
    ban = next(r for r in rows(store, schema.bot_actions) if r.reason == purge.REASON)
    [entry] = rows(store, schema.blocklist)
    assert json.loads(ban.evidence)["blocklist_id"] == entry.id


async def test_where_the_bot_cannot_delete_nobody_is_asked_message_by_message(
    store: Store,
) -> None:
    wecom = FakePlatform(capabilities=frozenset(Capability) - {Capability.DELETE})
    d = Deployment(store, {"g1": KICK}, platform=wecom)
    for text in ("一", "二二二", "三三三三"):
        await d.chat("g1").say(SPAMMER, text)
    await d.chat("g1").say(SPAMMER, AD)
    assert purges(store) == []
    tasks = [t.kind for t in rows(store, schema.human_tasks)]
    assert tasks.count("delete") == 1  # the offending message only


async def test_a_replayed_event_recalls_nothing_twice(store: Store) -> None:
    d = Deployment(store, {"g1": KICK})
    await d.chat("g1").say(SPAMMER, "看这里")
    ad = await d.chat("g1").say(SPAMMER, AD)
    first = purges(store)
    assert first == [("g1", "m1", "done")]
    replay = MessagePosted("fake", "g1", ad.message_id, ad.ts, SPAMMER, AD)
    assert await d.pipeline.handle(replay, d.platform) is False
    assert purges(store) == first


async def test_the_search_reads_only_the_newest_messages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = Deployment(store, {"g1": KICK})
    await d.chat("g1").say(SPAMMER, "第一条")  # m1: beyond the scan
    for i in range(3):
        await d.chat("g2").say(BOB, f"别人的消息 {i}")
    await d.chat("g1").say(SPAMMER, "第二条")  # m2
    monkeypatch.setattr(purge, "SCAN", 3)  # the newest 3 ids: m2 and two of Bob's
    await d.chat("g1").say(SPAMMER, AD)
    assert purges(store) == [("g1", "m2", "done")]
