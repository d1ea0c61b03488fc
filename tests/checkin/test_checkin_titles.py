"""Weekly titles on group cards (荣誉驱动): the week's winner gets ``weekly_title`` in
front of their card through the outbox, last week's holder gets it taken off, each
change audited; a human task where the platform cannot set cards; on every backend."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot_transcript import Chat, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.features.checkin import CheckinSettings
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import Store, schema

SH = ZoneInfo("Asia/Shanghai")
STAR = "【本周之星】"


def at(chat: Chat, day: int, hh: int, mm: int = 0) -> float:
    """The clock at September ``day`` (32 is October 1st) hh:mm, Shanghai time."""
    ts = (datetime(2026, 9, 1, hh, mm, tzinfo=SH) + timedelta(days=day - 1)).timestamp()
    chat.clock.now = ts - 1
    return ts


def chat_with(store: Store, platform: FakePlatform | None = None) -> Chat:
    s = CheckinSettings(weekly_top=3, weekly_bonus=(), tiers=(), weekly_title=STAR)
    return make_chat(store, GroupSettings(checkin=s), platform=platform)


async def check_ins(chat: Chat, who: str, name: str, days: tuple[int, ...]) -> None:
    for day in days:
        at(chat, day, 9)
        await chat.say(user(who, name), "签到")


def card_calls(chat: Chat) -> list[tuple[str, str]]:
    return [(a["member_id"], a["card"]) for name, a in chat.take() if name == "set_card"]


def title_audit(store: Store) -> list[tuple[str, str, str, str, dict[str, object]]]:
    a = schema.bot_actions
    return [
        (r.member_id, r.kind, r.status, r.reason, json.loads(r.evidence))
        for r in rows(store, a, a.c.id)
        if r.reason in ("checkin.title", "checkin.untitle")
    ]


async def test_the_title_moves_to_the_new_winner_and_off_the_old(store: Store) -> None:
    chat = chat_with(store)
    await check_ins(chat, "alice", "Alice", (21, 22, 23))
    await check_ins(chat, "bob", "Bob", (22, 23))
    chat.take()
    await chat.pipeline.tick(at(chat, 28, 8))  # Monday before the hour: nothing yet
    assert card_calls(chat) == []
    await chat.pipeline.tick(at(chat, 28, 9, 30))
    await chat.pipeline.tick(at(chat, 28, 10))  # once per week
    assert card_calls(chat) == [("alice", f"{STAR}Alice")]
    # Week two: the platform now shows Alice's card with the title; Bob wins.
    await check_ins(chat, "bob", "Bob", (28, 29, 30))
    await check_ins(chat, "alice", f"{STAR}Alice", (29,))
    chat.take()
    await chat.pipeline.tick(at(chat, 35, 9, 30))  # Monday, October 5th
    await chat.pipeline.tick(at(chat, 35, 11))
    assert card_calls(chat) == [("alice", "Alice"), ("bob", f"{STAR}Bob")]
    a = schema.bot_actions
    assert title_audit(store) == [
        ("alice", "set_card", "done", "checkin.title",
         {"period": "2026-W39", "previous": "Alice", "title": True}),
        ("alice", "set_card", "done", "checkin.untitle",
         {"period": "2026-W40", "previous": f"{STAR}Alice", "title": False}),
        ("bob", "set_card", "done", "checkin.title",
         {"period": "2026-W40", "previous": "Bob", "title": True}),
    ]  # fmt: skip
    # Week three: Bob wins again and keeps his card; nothing is planned.
    await check_ins(chat, "bob", f"{STAR}Bob", (36,))
    chat.take()
    await chat.pipeline.tick(at(chat, 42, 10))
    assert card_calls(chat) == []
    assert len(title_audit(store)) == 3  # no card change
    assert [r.reason for r in rows(store, a)].count("checkin.weekly") == 3  # three boards


async def test_a_platform_without_cards_gets_human_tasks(store: Store) -> None:
    no_cards = FakePlatform(capabilities=frozenset(Capability) - {Capability.SET_CARD})
    chat = chat_with(store, no_cards)
    await check_ins(chat, "alice", "Alice", (21, 22))
    await chat.pipeline.tick(at(chat, 28, 10))
    # Week two: Alice changed her card herself (no title on it) and Bob wins.
    await check_ins(chat, "alice", "Alice (Shanghai)", (29,))
    await check_ins(chat, "bob", "Bob", (29, 30))
    await chat.pipeline.tick(at(chat, 35, 10))
    assert card_calls(chat) == []  # never called: a person does it
    tasks = [(r.member_id, r.kind, r.text) for r in rows(store, schema.human_tasks)]
    assert tasks == [
        ("alice", "set_card", f"set the member's group card / 修改群名片; member=alice; "
         f"card={STAR}Alice; reason=checkin.title"),
        ("bob", "set_card", f"set the member's group card / 修改群名片; member=bob; "
         f"card={STAR}Bob; reason=checkin.title"),
    ]  # fmt: skip
    got = [(m, k, s, r) for m, k, s, r, _ in title_audit(store)]
    assert got == [
        ("alice", "set_card", "human_task", "checkin.title"),
        ("alice", "title_ended", "done", "checkin.untitle"),  # her own card is left alone
        ("bob", "set_card", "human_task", "checkin.title"),
    ]


async def test_undoing_a_title_puts_the_previous_card_back(store: Store) -> None:
    from shequn.actions.moderation import undo

    chat = chat_with(store)
    await check_ins(chat, "alice", "Alice", (21, 22))
    chat.take()
    await chat.pipeline.tick(at(chat, 28, 10))
    assert card_calls(chat) == [("alice", f"{STAR}Alice")]
    a = schema.bot_actions
    (titled,) = [r for r in rows(store, a, a.c.id) if r.reason == "checkin.title"]
    new = await undo(store, chat.platform, titled.id, "op", now=at(chat, 28, 11))
    assert card_calls(chat) == [("alice", "Alice")]
    after = {r.id: r for r in rows(store, a, a.c.id)}
    assert after[titled.id].status == "undone"
    assert [(after[i].kind, after[i].undo_of, after[i].operator) for i in new] == [
        ("set_card", titled.id, "op")
    ]
