"""Early warnings: unanswered questions after N minutes (via tick) and heated quarrels."""

from __future__ import annotations

import json

import pytest
from bot_transcript import make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.features.strikes.escalation import is_question
from shequn.store import Store, schema

ASKER, HELPER = user("asker", "小张"), user("helper", "老李")


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("这个课程怎么报名", True),
        ("今天有直播吗", True),
        ("有人知道地址吗？", True),
        ("Where is the link?", True),
        ("他人呢", True),
        ("好的", False),
        ("谢谢大家！", False),
        ("?", False),
    ],
)
def test_what_counts_as_a_question(text: str, question: bool) -> None:
    assert is_question(text) is question


async def test_an_unanswered_question_alerts_after_n_minutes(store: Store) -> None:
    chat = make_chat(store, GroupSettings(question_minutes=10))
    await chat.say(ASKER, "这个课程怎么报名？")  # m1: never answered
    await chat.say(ASKER, "今天有直播吗")  # m2: answered by a reply
    await chat.say(HELPER, "有的，晚上八点", reply_to="m2")
    await chat.say(user("other"), "随便聊聊")
    await chat.pipeline.tick(chat.clock.now + 5 * 60)
    assert rows(store, schema.alerts) == []
    await chat.pipeline.tick(chat.clock.now + 11 * 60)
    (alert,) = rows(store, schema.alerts)
    assert (alert.kind, alert.member_id, json.loads(alert.message_ids)) == (
        "question",
        "asker",
        ["m1"],
    )
    assert "FAQ" in alert.suggestion_en and alert.suggestion_zh
    await chat.pipeline.tick(chat.clock.now + 60 * 60)
    assert len(rows(store, schema.alerts)) == 1  # once per question
    assert chat.take() == []


async def test_mentioning_the_asker_answers_and_staff_questions_are_not_watched(
    store: Store,
) -> None:
    chat = make_chat(store, GroupSettings(question_minutes=1))
    await chat.say(ASKER, "在哪里交作业？")
    await chat.say(HELPER, "群公告里有", mentions=(ASKER,))
    await chat.say(user("boss", is_operator=True), "大家作业交了吗？")
    await chat.pipeline.tick(chat.clock.now + 3600)
    assert rows(store, schema.alerts) == []


async def test_a_quarrel_between_two_members_alerts_once(store: Store) -> None:
    chat = make_chat(store)
    a, b = user("a"), user("b")
    await chat.say(a, "你说的不对")
    await chat.say(b, "你才不对，傻逼")
    await chat.say(a, "你个傻逼")
    assert rows(store, schema.alerts) == []
    await chat.say(b, "滚")  # the fourth alternating message, third abusive
    (alert,) = rows(store, schema.alerts)
    assert alert.kind == "quarrel"
    assert json.loads(alert.message_ids) == ["m1", "m2", "m3", "m4"]
    assert "冷静" in alert.suggestion_zh or "降温" in alert.suggestion_zh
    await chat.say(a, "傻逼")
    assert len(rows(store, schema.alerts)) == 1
    assert chat.take() == []  # alerts only: abuse below the act threshold is not struck


async def test_a_slow_exchange_is_no_quarrel(store: Store) -> None:
    chat = make_chat(store)
    a, b = user("a"), user("b")
    for who, text in [(a, "傻逼"), (b, "傻逼"), (a, "傻逼"), (b, "傻逼")]:
        await chat.say(who, text)
        chat.clock.advance(600)
    assert rows(store, schema.alerts) == []
