"""Transcripts of the live member layers: climbing as members talk and get replies,
demotion only after the grace period, honours, ``/level``, replays, the gate's lookup,
on every storage backend."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bot_transcript import GROUP, Chat, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.events import MemberRef, MessagePosted
from shequn.features.checkin import points_balance
from shequn.features.layers import LEVELS, LayerSettings, layer_lookup
from shequn.features.layers.honours import card_for
from shequn.features.layers.settings import LayerBonus
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

DAY = 86400.0
ALICE = user("alice", "Alice")
FRIENDS = [user(f"f{i}", f"Friend{i}") for i in range(6)]


def chat_with(store: Store, platform: FakePlatform | None = None, **kw: Any) -> Chat:
    lang = kw.pop("language", "zh")
    gate = kw.pop("gate", None)
    extra = {"gate": gate} if gate is not None else {}
    settings = GroupSettings(language=lang, layers=LayerSettings(**kw), **extra)
    return make_chat(store, settings, platform=platform)


def member(store: Store, mid: str) -> Any:
    (row,) = [r for r in rows(store, schema.layer_members) if r.member_id == mid]
    return row


def history(store: Store, mid: str = "alice") -> list[tuple[str, str]]:
    t = schema.layer_history
    return [(r.from_layer, r.to_layer) for r in rows(store, t, t.c.id) if r.member_id == mid]


def sent(chat: Chat) -> list[tuple[str, dict[str, Any]]]:
    return [(n, a) for n, a in chat.take() if n in ("send", "set_card")]


async def talk(chat: Chat, who: MemberRef, n: int) -> list[MessagePosted]:
    return [await chat.say(who, f"{who.name} 说第 {i} 句") for i in range(n)]


async def next_day(chat: Chat) -> None:
    chat.clock.advance(DAY)


async def climb(chat: Chat) -> None:
    """Alice talks on three days; friends reply to her, more of them each day."""
    for day, repliers in enumerate((0, 3, 5)):
        if day:
            await next_day(chat)
        mine = await talk(chat, ALICE, 4)
        for f in FRIENDS[:repliers]:
            await chat.say(f, "同意！", reply_to=mine[0].message_id)
        await chat.pipeline.tick()


async def test_a_member_climbs_as_they_talk_and_get_replies(store: Store, card_calls: None) -> None:
    chat = chat_with(store)
    await talk(chat, ALICE, 2)
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "bystander"  # two messages are not enough
    await talk(chat, ALICE, 1)
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "participant"
    chat.take()
    await next_day(chat)
    await talk(chat, ALICE, 4)
    for f in FRIENDS[:3]:
        await chat.say(f, "有道理", reply_to=chat.sent[0].message_id)
    await chat.pipeline.tick()
    alice = member(store, "alice")
    assert (alice.messages, alice.active_days, alice.replies, alice.reach) == (7, 2, 3, 3)
    assert alice.layer == "co_opinion_leader"  # reach 3 on 2 days, the group's best
    assert sent(chat) == [
        (
            "send",
            {
                "group_id": GROUP,
                "reply_to": None,
                "text": "🎉 恭喜 @Alice 成为本群的「联合意见领袖」！"
                "（近 100 个活跃日被 3 位成员回复或@（4 人中第 1，前 25%）；2 天有发言）",
            },
        ),
        ("set_card", {"group_id": GROUP, "member_id": "alice", "card": "【骨干】Alice"}),
    ]
    assert points_balance_of(store, "alice") == 50
    await next_day(chat)
    carded = user("alice", "【骨干】Alice")  # the platform now shows the card we set
    today = await talk(chat, carded, 2)
    for f in FRIENDS[3:5]:
        await chat.say(f, "学到了", reply_to=today[0].message_id)
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "opinion_leader"
    assert ("set_card", {"group_id": GROUP, "member_id": "alice", "card": "【核心】Alice"}) in sent(
        chat
    )
    assert history(store) == [
        ("bystander", "participant"),
        ("participant", "co_opinion_leader"),
        ("co_opinion_leader", "opinion_leader"),
    ]
    assert points_balance_of(store, "alice") == 150
    (last,) = [r for r in rows(store, schema.layer_history) if r.to_layer == "opinion_leader"]
    assert any("5" in reason for reason in json.loads(last.reasons))
    # The gate's layer mode can ask the live layers.
    assert layer_lookup(store)("fake", GROUP, "alice") == LEVELS["opinion_leader"] == 5
    assert layer_lookup(store)("fake", GROUP, "f0") == LEVELS["bystander"] == 0
    assert layer_lookup(store)("fake", GROUP, "nobody") is None


def points_balance_of(store: Store, mid: str) -> int:
    with store.engine.connect() as conn:
        return points_balance(conn, "fake", GROUP, mid)


async def test_demotion_waits_for_the_grace_period(store: Store) -> None:
    chat = chat_with(store, grace_days=14)
    await talk(chat, ALICE, 3)
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "participant"
    # Bob keeps the group talking for 100 more active days: Alice's day leaves the window.
    bob = user("bob", "Bob")
    for _ in range(99):
        await next_day(chat)
        await chat.say(bob, "早")
    await chat.pipeline.tick()
    assert member(store, "alice").messages == 3  # the window still holds her day
    await next_day(chat)
    await chat.say(bob, "早")
    await chat.pipeline.tick()
    alice = member(store, "alice")
    assert (alice.messages, alice.active_days, alice.computed) == (0, 0, "bystander")
    assert alice.layer == "participant"  # kept: the grace period has begun
    failing = alice.failing_since
    await chat.pipeline.tick(failing + 13.9 * DAY)
    assert member(store, "alice").layer == "participant"
    await chat.pipeline.tick(failing + 14 * DAY)
    assert member(store, "alice").layer == "bystander"
    assert history(store) == [("bystander", "participant"), ("participant", "bystander")]


async def test_the_grace_period_restarts_when_the_rules_hold_again(store: Store) -> None:
    chat = chat_with(store, grace_days=14)
    await talk(chat, ALICE, 3)
    await chat.pipeline.tick()
    bob = user("bob", "Bob")
    for _ in range(100):
        await next_day(chat)
        await chat.say(bob, "早")
    await chat.pipeline.tick()
    assert member(store, "alice").failing_since is not None
    await talk(chat, ALICE, 3)  # back within the grace period
    await chat.pipeline.tick()
    alice = member(store, "alice")
    assert (alice.layer, alice.failing_since) == ("participant", None)
    await chat.pipeline.tick(chat.clock.now + 30 * DAY)
    assert member(store, "alice").layer == "participant"


async def test_set_card_is_skipped_where_the_platform_cannot(
    store: Store, card_calls: None
) -> None:
    caps = frozenset(Capability) - {Capability.SET_CARD}
    chat = chat_with(store, FakePlatform(capabilities=caps), language="en")
    await climb(chat)
    names = [n for n, _ in chat.calls()]
    assert "set_card" not in names
    assert member(store, "alice").layer == "opinion_leader"
    kinds = [r.kind for r in rows(store, schema.bot_actions)]
    assert "set_card" not in kinds  # no human task for a title either: it is optional
    texts = [a["text"] for n, a in chat.calls() if n == "send"]
    assert texts[-1].startswith("🎉 Congratulations @Alice: you are now a opinion leader")


async def test_a_card_the_member_chose_is_kept(store: Store, card_calls: None) -> None:
    # The gate asks for 城市-昵称-行业; a prefixed card would break it: no title.
    from shequn.features.gate import GateSettings

    chat = chat_with(store, gate=GateSettings(name_format="[^-]+-[^-]+-[^-]+"))
    await climb(chat)
    assert member(store, "alice").layer == "opinion_leader"
    assert "set_card" not in [n for n, _ in chat.calls()]


@pytest.mark.parametrize(
    ("current", "last_set", "prefix", "want"),
    [
        ("Alice", None, "【核心】", "【核心】Alice"),  # first title
        ("【骨干】Alice", "【骨干】Alice", "【核心】", "【核心】Alice"),  # promoted: swap
        ("【核心】Alice", "【核心】Alice", "", "Alice"),  # demoted to no title: strip
        ("Alice 上海", "【骨干】Alice", "【核心】", None),  # they took the title off
        ("【骨干】Alice 上海", "【骨干】Alice", "【核心】", "【核心】Alice 上海"),  # kept ours
        ("【核心】Alice", None, "【核心】", None),  # already right
        ("A" * 60, None, "【核心】", None),  # too long for a card
    ],
)
def test_card_rules(current: str, last_set: str | None, prefix: str, want: str | None) -> None:
    assert card_for(current, last_set, prefix, ("【核心】", "【骨干】")) == want


async def test_level_command_replies_with_layer_reasons_and_next_step(store: Store) -> None:
    chat = chat_with(store)
    await talk(chat, ALICE, 2)
    chat.take()
    await chat.say(ALICE, "我的等级")  # the command itself is the third message
    (reply,) = [a["text"] for n, a in chat.take() if n == "send"]
    assert reply.splitlines() == [
        "@Alice 你的等级：参与者",
        "依据：近 100 个活跃日发言 3 条；1 天有发言",
        "升到「活跃者」还需要：再发言 7 条；再有 2 天发言；发言量进入本群前 20%；"
        "或再有 9 天发言（习惯）",
    ]
    chat2 = chat_with(store, language="en")
    chat2.group = "g2"
    await chat2.say(ALICE, "/level")
    (reply,) = [a["text"] for n, a in chat2.take() if n == "send"]
    assert reply.splitlines()[0] == "@Alice your layer: bystander"
    assert reply.splitlines()[-1] == "For participant you still need: 2 more messages"


async def test_layer_stats_are_for_staff(store: Store) -> None:
    chat = chat_with(store)
    await talk(chat, ALICE, 3)
    chat.take()
    await chat.say(ALICE, "分层统计")
    assert [n for n, _ in chat.take()] == []  # a member asking gets nothing
    await chat.say(user("op", "Op", is_operator=True), "分层统计")
    (text,) = [a["text"] for n, a in chat.take() if n == "send"]
    lines = text.splitlines()
    assert lines[0] == "📊 分层统计（近 100 个活跃日，共 2 人）"
    assert lines[5].startswith("参与者：1 人 — 关怀参与者")
    assert lines[6].startswith("旁观者：1 人 — 引导旁观者")


async def test_a_replayed_event_counts_once_and_an_edit_not_at_all(store: Store) -> None:
    chat = chat_with(store)
    first = await talk(chat, ALICE, 3)
    reply = await chat.say(FRIENDS[0], "好", reply_to=first[0].message_id)
    before = member(store, "alice")
    for ev in [*first, reply]:
        assert await chat.pipeline.handle(ev, chat.platform) is False
    edit = MessagePosted(
        "fake", GROUP, first[0].message_id, chat.clock.advance(1), ALICE, "改一下", edited=True
    )
    assert await chat.pipeline.handle(edit, chat.platform) is True
    after = member(store, "alice")
    assert (after.messages, after.replies, after.reach) == (before.messages, 1, 1) == (3, 1, 1)
    (bucket,) = [r for r in rows(store, schema.layer_days) if r.member_id == "alice"]
    assert bucket.messages == 3


async def test_an_edit_counts_by_the_archive_not_by_remembered_event_keys(store: Store) -> None:
    """The event keys are forgotten after 30 days (``pipeline.forget``) and an import
    writes none: whether an edit is a new message is the archive's answer."""
    from shequn.store.writer import ArchiveWriter

    chat = chat_with(store)
    old = MessagePosted("fake", GROUP, "imported-1", chat.clock.advance(1), ALICE, "旧消息")
    with store.engine.begin() as conn:  # archived by an import, never seen live
        writer = ArchiveWriter(conn)
        writer.add(old)
        writer.flush()
    await talk(chat, ALICE, 1)
    with store.engine.begin() as conn:
        conn.execute(schema.processed_events.delete())  # the keys forgotten
    before = member(store, "alice").messages
    edit = MessagePosted(
        "fake", GROUP, "imported-1", chat.clock.advance(1), ALICE, "改过", edited=True
    )
    assert await chat.pipeline.handle(edit, chat.platform) is True
    assert member(store, "alice").messages == before  # the same message, not a new one
    # an edit whose first version never reached the archive is its first sighting
    for text in ("只见过改后的", "又改了一次"):
        again = MessagePosted(
            "fake", GROUP, "never-seen", chat.clock.advance(1), ALICE, text, edited=True
        )
        await chat.pipeline.handle(again, chat.platform)
    assert member(store, "alice").messages == before + 1


async def test_bots_and_self_replies_do_not_reach(store: Store) -> None:
    chat = chat_with(store)
    (msg,) = await talk(chat, ALICE, 1)
    await chat.say(user("bot", "Bot", is_bot=True), "欢迎", reply_to=msg.message_id)
    await chat.say(ALICE, "自己回自己", reply_to=msg.message_id, mentions=(ALICE,))
    alice = member(store, "alice")
    assert (alice.replies, alice.mentions, alice.reach) == (0, 0, 0)
    await chat.say(FRIENDS[0], "@Alice", reply_to=msg.message_id, mentions=(ALICE,))
    alice = member(store, "alice")
    assert (alice.replies, alice.mentions, alice.reach) == (1, 1, 1)  # one person, once


async def test_promotion_points_are_paid_once_per_new_best(store: Store) -> None:
    chat = chat_with(store, grace_days=0, bonus=LayerBonus(participant=7), bonus_daily_cap=10)
    await talk(chat, ALICE, 3)
    await chat.pipeline.tick()
    assert points_balance_of(store, "alice") == 7
    bob = user("bob", "Bob")
    for _ in range(100):  # Alice's day leaves the window: demoted at once (no grace)
        await next_day(chat)
        await chat.say(bob, "早")
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "bystander"
    await talk(chat, ALICE, 3)
    await chat.pipeline.tick()
    assert member(store, "alice").layer == "participant"
    assert points_balance_of(store, "alice") == 7  # climbing back again pays nothing


async def test_the_gate_admits_by_the_live_layer(store: Store) -> None:
    from shequn.features.gate import GateSettings

    gate = GateSettings(mode="layer", layer_group="main", min_layer=LEVELS["participant"])
    chat = make_chat(store, GroupSettings(gate=gate), layer_of=layer_lookup(store))
    chat.group = "main"
    await talk(chat, ALICE, 3)
    await talk(chat, user("bob", "Bob"), 1)
    await chat.pipeline.tick()
    chat.take()
    chat.group = "vip"
    await chat.join(ALICE)
    await chat.join(user("bob", "Bob"))
    assert [(n, a.get("member_id")) for n, a in chat.take()] == [("send", None), ("kick", "bob")]


async def test_check_ins_and_activities_are_counted_from_their_tables(store: Store) -> None:
    chat = chat_with(store)
    await chat.say(ALICE, "大家好")
    await chat.say(ALICE, "签到")  # answered (and stopped) by the check-in handler
    await chat.say(ALICE, "#接龙 周六爬山\n1. Alice")  # a chain she starts and joins
    await chat.pipeline.tick()
    alice = member(store, "alice")
    assert (alice.checkins, alice.activities) == (1, 1)
    # The check-in and chain handlers stopped those two commands, but counting is an
    # observer that sees every recorded event: all three count, as in the report.
    assert alice.messages == 3
