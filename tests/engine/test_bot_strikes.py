"""Transcripts of the strike ladder: warn → mute 1 h → kick, undo, exemptions (appeals:
``test_bot_appeals``)."""

from __future__ import annotations

import json

import pytest
from bot_transcript import GROUP, audit, make_chat, params, rows, user

from shequn.actions.moderation import undo
from shequn.botconfig import GroupSettings
from shequn.features.strikes import Step
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

AD = "优惠多多 加微信 abc123"
ALICE = user("alice", "Alice")


async def test_an_ad_three_times_is_warned_muted_then_kicked(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "大家好")
    assert chat.take() == []

    await chat.say(ALICE, AD)  # m2
    warn = (
        "@Alice 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。"
    )
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m2"}),
        ("send", {"group_id": GROUP, "text": warn, "reply_to": None}),
    ]
    await chat.say(ALICE, AD)  # m3
    muted = "@Alice 因发布广告（第 2 次违规）被禁言 1 小时。如有误判，可发送「申诉 理由」。"
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m3"}),
        ("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 3600}),
        ("send", {"group_id": GROUP, "text": muted, "reply_to": None}),
    ]
    await chat.say(ALICE, AD)  # m4
    removed = "Alice 因发布广告（第 3 次违规）已被移出本群。"  # no private channel to appeal in
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m4"}),
        ("kick", {"group_id": GROUP, "member_id": "alice", "ban": False}),
        ("send", {"group_id": GROUP, "text": removed, "reply_to": None}),
        # what she posted in the last purge_minutes goes with her (清理)
        ("delete", {"group_id": GROUP, "message_id": "m1"}),
    ]
    made = {r.kind: r.id for r in rows(store, schema.bot_actions)}  # one mute, one kick
    assert audit(store) == [
        ("delete", "done", "strike.ad", params(message_id="m2")),
        ("send", "done", "strike.ad", params(text=warn)),
        ("delete", "done", "strike.ad", params(message_id="m3")),
        ("mute", "done", "strike.ad", params(seconds=3600)),
        # a penalty's notice names the call it announces: it is said once that is made
        ("send", "done", "strike.ad", params(text=muted, after=made["mute"])),
        ("delete", "done", "strike.ad", params(message_id="m4")),
        ("kick", "done", "strike.ad", params()),
        ("send", "done", "strike.ad", params(text=removed, after=made["kick"])),
        ("delete", "done", "purge", params(message_id="m1")),
    ]
    strikes = rows(store, schema.strikes, schema.strikes.c.id)
    assert [(s.member_id, s.rule, s.message_id, s.status) for s in strikes] == [
        ("alice", "ad", f"m{i}", "active") for i in (2, 3, 4)
    ]
    # Every action carries its evidence: the verdict's reasons and the message.
    t = schema.bot_actions
    evidence = json.loads(rows(store, t, t.c.id)[-2].evidence)  # the kick's
    assert evidence == {
        "message_id": "m4",
        "text": AD,
        "verdict": "ad",
        "score": 0.95,
        "reasons": [["lexicon", "加微信", 0.9]],
    }
    assert strikes[0].expires_at == pytest.approx(strikes[0].created_at + 30 * 86400)


async def test_undo_unmutes_unbans_and_takes_the_strike_back(store: Store) -> None:
    chat = make_chat(store)
    for _ in range(3):
        await chat.say(ALICE, AD)
    chat.take()
    by_kind = {r.kind: r for r in rows(store, schema.bot_actions)}

    new = await undo(store, chat.platform, by_kind["mute"].id, "admin1", now=chat.clock())
    assert chat.take() == [("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 0})]
    await undo(store, chat.platform, by_kind["kick"].id, "admin1", now=chat.clock())
    assert chat.take() == [("unban", {"group_id": GROUP, "member_id": "alice"})]

    acts = {r.id: r for r in rows(store, schema.bot_actions)}
    assert acts[by_kind["mute"].id].status == "undone"
    assert acts[by_kind["kick"].id].status == "undone"
    undo_rows = [r for r in acts.values() if r.undo_of is not None]
    assert sorted((r.kind, r.status, r.operator) for r in undo_rows) == [
        ("mute", "done", "admin1"),
        ("strike_removed", "done", "admin1"),
        ("strike_removed", "done", "admin1"),
        ("unban", "done", "admin1"),
    ]
    assert len(new) == 2
    statuses = [s.status for s in rows(store, schema.strikes, schema.strikes.c.id)]
    assert statuses == ["active", "revoked", "revoked"]
    with pytest.raises(ValueError, match="already undone"):
        await undo(store, chat.platform, by_kind["mute"].id, "admin1", now=chat.clock())

    # With two strikes taken back, the next ad is only the second strike: a mute again.
    await chat.say(ALICE, AD)
    assert chat.take()[1] == ("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 3600})


async def test_admins_trusted_members_and_allowlists_are_exempt(store: Store) -> None:
    settings = GroupSettings(exempt=frozenset({"trusted"}), allow=("加微信 official",))
    chat = make_chat(store, settings)
    await chat.say(user("boss", is_operator=True), AD)
    await chat.say(user("trusted"), AD)
    await chat.say(user("bob"), "加微信 official 客服")
    assert chat.take() == []
    assert rows(store, schema.strikes) == []


async def test_strikes_expire(store: Store) -> None:
    chat = make_chat(store, GroupSettings(strike_days=1))
    await chat.say(ALICE, AD)
    chat.clock.advance(2 * 86400)
    await chat.say(ALICE, AD)
    assert [c[0] for c in chat.take()] == ["delete", "send", "delete", "send"]  # two warnings


async def test_ladder_per_rule(store: Store) -> None:
    settings = GroupSettings(ladder_by_rule={"ad": (Step("ban"),)})
    chat = make_chat(store, settings)
    await chat.say(ALICE, AD)
    assert chat.take()[1] == ("kick", {"group_id": GROUP, "member_id": "alice", "ban": True})


async def test_a_platform_without_kick_gets_a_human_task(store: Store) -> None:
    wecom = FakePlatform(capabilities=frozenset(Capability) - {Capability.KICK})
    chat = make_chat(store, platform=wecom)
    for _ in range(3):
        await chat.say(ALICE, AD)
    # the removal is a person's to make, and theirs to announce: the bot says nothing of it
    assert [c[0] for c in chat.calls()] == ["delete", "send", "delete", "mute", "send", "delete"]
    assert audit(store)[-1] == ("kick", "human_task", "strike.ad", params())
    tasks = rows(store, schema.human_tasks)
    assert [(t.kind, t.member_id, t.status) for t in tasks] == [("kick", "alice", "open")]
    assert "alice" in tasks[0].text and "strike.ad" in tasks[0].text


_LADDER = (Step("mute", 600), Step("mute", 2 * 86400), Step("ban"))


async def test_penalties_are_announced_in_english(store: Store) -> None:
    chat = make_chat(store, GroupSettings(language="en", ladder=_LADDER, appeals=False))
    for _ in range(3):
        await chat.say(ALICE, AD)
    said = [c[1]["text"] for c in chat.take() if c[0] == "send"]
    assert said == [
        "@Alice is muted for 10 minutes: ads, violation 1.",
        "@Alice is muted for 2 days: ads, violation 2.",
        "Alice has been removed from the group and banned: ads, violation 3.",
    ]


async def test_penalties_can_be_kept_quiet_but_a_warning_is_said(store: Store) -> None:
    quiet = make_chat(store, GroupSettings(announce_penalties=False))
    for _ in range(3):
        await quiet.say(ALICE, AD)
    # a warning is the step itself: it is said even when penalties are not announced
    assert [c[0] for c in quiet.take()] == ["delete", "send", "delete", "mute", "delete", "kick"]


async def test_a_raid_is_struck_in_full_but_only_five_notices_a_minute_are_said(
    store: Store,
) -> None:
    chat = make_chat(store)  # notices_per_minute = 5 by default
    for i in range(8):  # eight throwaway accounts post the same ad within seconds
        await chat.say(user(f"raider{i}", f"R{i}"), AD)
        chat.clock.advance(2)
    calls = chat.take()
    assert [c[0] for c in calls].count("delete") == 8  # every ad removed ...
    assert len(rows(store, schema.strikes)) == 8  # ... and struck
    warned = [c[1]["text"].split(" ")[0] for c in calls if c[0] == "send"]
    assert warned == ["@R0", "@R1", "@R2", "@R3", "@R4"]  # ... but the group hears five
    chat.clock.advance(60)  # a minute later the budget is back
    await chat.say(user("late", "L"), AD)
    assert [c[0] for c in chat.take()] == ["delete", "send"]
    unlimited = make_chat(store, GroupSettings(notices_per_minute=0))
    unlimited.group = "g2"
    for i in range(7):
        await unlimited.say(user(f"other{i}"), AD)
    assert [c[0] for c in unlimited.take()].count("send") == 7


async def test_an_uncertain_verdict_is_an_alert_not_a_strike(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "maybe buy this")
    assert chat.take() == []
    assert rows(store, schema.strikes) == []
    (alert,) = rows(store, schema.alerts)
    assert (alert.kind, alert.member_id, json.loads(alert.message_ids)) == (
        "uncertain",
        "alice",
        ["m1"],
    )
    assert alert.suggestion_zh and alert.suggestion_en


async def test_a_timed_mute_is_lifted_when_its_time_is_up(store: Store) -> None:
    # Matrix only knows muted / not muted: the engine ends a timed mute itself.
    chat = make_chat(store)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)  # 2nd strike: mute 3600 s
    chat.take()
    await chat.pipeline.tick(chat.clock.advance(3000))
    assert chat.take() == []  # not yet
    await chat.pipeline.tick(chat.clock.advance(700))
    assert chat.take() == [("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 0})]
    await chat.pipeline.tick(chat.clock.advance(3600))
    assert chat.take() == []  # lifted once
    lifts = [r for r in rows(store, schema.bot_actions) if r.reason == "mute.expired"]
    assert len(lifts) == 1 and lifts[0].status == "done"
    # the strike itself still counts: the next ad is the 3rd strike
    await chat.say(ALICE, AD)
    assert ("kick", {"group_id": GROUP, "member_id": "alice", "ban": False}) in chat.take()
