"""Transcripts of flooding (刷屏) and one text posted across groups (群发广告)."""

from __future__ import annotations

from bot_transcript import GROUP, make_chat, user

from shequn.botconfig import GroupSettings
from shequn.events import MessagePosted
from shequn.features.flood import FloodWatch
from shequn.store import Store

BOB = user("bob", "Bob")


async def test_eight_messages_in_ten_seconds_is_a_flood(store: Store) -> None:
    chat = make_chat(store)  # say() spaces messages one second apart
    for n in range(7):
        await chat.say(BOB, f"第 {n} 句")
    assert chat.take() == []
    await chat.say(BOB, "第 8 句")  # m8: eight within 10 s
    calls = chat.take()
    assert calls[0] == ("delete", {"group_id": GROUP, "message_id": "m8"})
    assert calls[1][0] == "send"  # the 1st strike's warning


async def test_a_slow_talker_is_never_a_flood(store: Store) -> None:
    chat = make_chat(store)
    for n in range(20):
        await chat.say(BOB, f"第 {n} 句")
        chat.clock.advance(1.5)  # 2.5 s apart: at most four in any 10 s
    assert chat.take() == []


async def test_flood_limits_come_from_the_group_settings(store: Store) -> None:
    chat = make_chat(store, GroupSettings(flood_messages=0))  # 0 turns it off
    for n in range(12):
        await chat.say(BOB, f"{n}")
    assert chat.take() == []


async def test_one_text_in_three_groups_is_a_spam_run(store: Store) -> None:
    chat = make_chat(store)
    text = "今晚八点直播间抽奖，记得来看看"  # no contact, no link: fine in one group
    for n, group in enumerate(("g1", "g2", "g3")):
        # evasion does not help: spacing and full-width give the same fingerprint
        body = text if n < 2 else "今 晚 八 点 直 播 间 抽 奖 ，记得来看看！"
        ev = MessagePosted("fake", group, f"x{n}", chat.clock.advance(60), BOB, body)
        await chat.pipeline.handle(ev, chat.platform)
    calls = chat.take()
    assert calls[0] == ("delete", {"group_id": "g3", "message_id": "x2"})


def test_short_common_texts_are_not_compared_across_groups() -> None:
    watch = FloodWatch()
    limits = {"flood_messages": 0, "flood_seconds": 10.0,
              "duplicate_groups": 3, "duplicate_seconds": 600.0}  # fmt: skip
    verdicts = [watch.feed("qq", f"g{n}", "bob", float(n), "谢谢大家", **limits) for n in range(5)]
    assert verdicts == [None] * 5
    spam = [
        watch.feed("qq", f"g{n}", "bob", float(n), "加群领取学习资料包哦", **limits)
        for n in range(3)
    ]
    assert spam[:2] == [None, None] and spam[2] is not None
    assert spam[2].reasons[0].detector == "cross_group"
