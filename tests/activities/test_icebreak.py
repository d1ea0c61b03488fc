"""Ice-breaker transcripts: the prompt on joining, introductions done and not done."""

from __future__ import annotations

import json

from bot_transcript import Chat, make_chat, rows, user
from helpers import ADMIN, ALICE, BOB, CAROL, chat_with
from helpers import said as said_all
from helpers import tick as tick_all

from shequn.botconfig import GroupSettings
from shequn.events import MemberLeft
from shequn.features.activities import ActivitySettings, IcebreakSettings
from shequn.features.gate import GateSettings
from shequn.store import Store, schema

INTRO = "大家好，我是 Alice，坐标上海，做社群运营五年了，来学习交流！"


def ours(texts: list[str]) -> list[str]:
    """Texts other than the entry gate's own (its welcome and its questions)."""
    return [t for t in texts if not t.startswith(("欢迎 ", "Welcome, ", "入群验证"))]


def said(chat: Chat) -> list[str]:
    return ours(said_all(chat))


async def tick(chat: Chat, at: float) -> list[str]:
    return ours(await tick_all(chat, at))


def status(store: Store) -> dict[str, str]:
    return {r.member_id: r.status for r in rows(store, schema.icebreakers)}


async def test_newcomers_are_prompted_and_tracked_done_or_not(store: Store) -> None:
    chat = make_chat(store)
    t0 = chat.clock.now
    await chat.join(ALICE)
    await chat.join(BOB)
    await chat.join(user("bot", "Bot", is_bot=True))  # bots are not newcomers
    await chat.join(ADMIN)  # nor is the staff
    assert said(chat) == []  # the gate's welcome first; the prompt comes with the tick
    assert await tick(chat, chat.clock.now + 10) == [
        "👋 欢迎 Alice！请用几句话介绍一下自己：城市、昵称、行业，以及为什么来到这里。",
        "👋 欢迎 Bob！请用几句话介绍一下自己：城市、昵称、行业，以及为什么来到这里。",
    ]
    assert await tick(chat, chat.clock.now + 10) == []  # prompted once
    await chat.say(ALICE, "hi")  # too short to be an introduction
    await chat.say(ALICE, INTRO)
    await chat.say(ALICE, INTRO + "（补充）")  # done already: thanked once
    await chat.say(CAROL, INTRO)  # was never a newcomer here
    assert said(chat) == ["🙌 谢谢 Alice 的自我介绍，欢迎常来聊！"]
    assert status(store) == {"alice": "done", "bob": "pending"}
    done = rows(store, schema.icebreakers, schema.icebreakers.c.id)[0]
    assert (done.intro, done.message_id) == (INTRO, "m6")
    await chat.join(ALICE)  # a rejoin keeps the first row and is not prompted again
    assert await tick(chat, chat.clock.now + 10) == []
    chat.clock.now = t0 + 73 * 3600  # Bob's 72 hours are over, before any tick says so
    await chat.say(BOB, "不好意思来晚了，我是 Bob，在北京做产品经理，很高兴认识大家")
    assert said(chat) == []  # too late: not an introduction any more
    await tick(chat, chat.clock.now + 10)
    assert status(store) == {"alice": "done", "bob": "missed"}
    await chat.say(ALICE, "自我介绍名单")  # staff only
    assert said(chat) == []
    await chat.say(ADMIN, "自我介绍名单")
    assert said(chat) == ["👋 新人自我介绍：\n已完成（1）：Alice\n未完成（1）：Bob"]


async def test_custom_prompt_and_an_intro_is_still_an_ordinary_message(store: Store) -> None:
    chat = chat_with(
        store, language="en", icebreak=IcebreakSettings(prompt="Hi {name}, say hello!",
                                                        min_chars=5, thank=False)
    )  # fmt: skip
    await chat.join(ALICE)
    assert await tick(chat, chat.clock.now + 10) == ["Hi Alice, say hello!"]
    await chat.say(ALICE, "How do I check in every day?")  # an intro, and a question
    assert said(chat) == []  # not thanked: thank = false
    assert status(store) == {"alice": "done"}
    # the message went on to the question watch: the intro does not swallow it
    assert [r.member_id for r in rows(store, schema.open_questions)] == ["alice"]


async def test_a_gated_newcomer_is_prompted_once_the_gate_lets_them_in(store: Store) -> None:
    gate = GateSettings(mode="captcha")
    chat = make_chat(store, GroupSettings(gate=gate, activities=ActivitySettings()))
    await chat.join(ALICE)
    await chat.join(BOB)
    assert await tick(chat, chat.clock.now + 10) == []  # still answering the captcha
    q = json.loads(rows(store, schema.gate_entries, schema.gate_entries.c.id)[0].challenge)[
        "questions"
    ][0]
    await chat.say(ALICE, str(q["a"][0]))  # the right answer: in
    await chat.say(BOB, "no idea")  # wrong: removed by the gate
    said(chat)
    assert await tick(chat, chat.clock.now + 10) == [
        "👋 欢迎 Alice！请用几句话介绍一下自己：城市、昵称、行业，以及为什么来到这里。"
    ]
    assert status(store) == {"alice": "pending", "bob": "left"}


async def test_leaving_before_the_introduction_and_coming_back(store: Store) -> None:
    chat = make_chat(store)
    await chat.join(ALICE)
    await tick(chat, chat.clock.now + 10)
    ev = MemberLeft("fake", chat.group, "l1", chat.clock.advance(60), ALICE)
    await chat.pipeline.handle(ev, chat.platform)
    assert status(store) == {"alice": "left"}
    await chat.join(ALICE)
    assert status(store) == {"alice": "pending"}
    assert len(await tick(chat, chat.clock.now + 10)) == 1  # prompted again
