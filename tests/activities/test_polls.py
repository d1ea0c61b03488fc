"""Poll transcripts: start, votes, a changed vote, tally, deadline close, anonymity."""

from __future__ import annotations

import json

from bot_transcript import Chat, make_chat, rows
from helpers import ADMIN, ALICE, BOB, CAROL, DAVE, chat_with, replies, said, tick

from shequn.features.activities import PollSettings
from shequn.store import Store, schema


async def start(chat: Chat, text: str) -> int:
    await chat.say(ADMIN, text)
    return int(rows(chat.pipeline.store, schema.polls, schema.polls.c.id)[-1].id)


async def test_poll_votes_change_tally_and_close_at_deadline(store: Store) -> None:
    chat = make_chat(store)
    t0 = chat.clock.now
    await chat.say(ADMIN, "发起投票 30分钟 下期文章标题 | 社群运营十问 | 从零到一千人 | 热寂之前")
    assert said(chat) == [
        "📊 投票 #1：下期文章标题（单选，截止 09-21 22:43）\n1. 社群运营十问\n2. 从零到一千人\n"
        "3. 热寂之前\n回复「投+序号」投票（如 投1），「投票结果」看实时结果。"
    ]
    v1 = await chat.say(ALICE, "投1")
    await chat.say(BOB, "投 从零到一千人")  # by the option's text
    await chat.say(CAROL, "/vote 2")
    await chat.say(ALICE, "投2")  # a changed vote
    await chat.say(ALICE, "投2")  # the same again
    await chat.say(BOB, "投9")
    assert replies(chat) == [
        (v1.message_id, "✅ @Alice 已投：社群运营十问"),
        ("m3", "✅ @Bob 已投：从零到一千人"),
        ("m4", "✅ @Carol 已投：从零到一千人"),
        ("m5", "🔄 @Alice 已改投：从零到一千人"),
        ("m6", "@Alice 你已经投过这一项了。"),
        ("m7", "@Bob 没有这个选项：请回复 1–3 之间的序号。"),
    ]
    await chat.say(DAVE, "投资理财群在哪？")  # starts with 投, but is not a vote
    assert said(chat) == []
    await chat.say(DAVE, "投票结果")
    assert said(chat) == [
        "📊 投票 #1：下期文章标题（单选，截止 09-21 22:43）\n1. 社群运营十问 — 0 票（0%）\n"
        "2. 从零到一千人 — 3 票（100%）：Bob、Carol、Alice\n3. 热寂之前 — 0 票（0%）\n共 3 人投票"
    ]
    assert await tick(chat, t0 + 29 * 60) == []  # before the deadline
    closed = await tick(chat, t0 + 31 * 60)
    assert closed == [
        "🏁 投票 #1 结束：下期文章标题（单选）\n1. 社群运营十问 — 0 票（0%）\n"
        "2. 从零到一千人 — 3 票（100%）：Bob、Carol、Alice\n3. 热寂之前 — 0 票（0%）\n"
        "共 3 人投票\n最高票：从零到一千人"
    ]
    assert await tick(chat, t0 + 40 * 60) == []  # announced once
    await chat.say(DAVE, "投3")  # closed: not a vote any more
    assert said(chat) == []
    votes = [(r.voter, r.option) for r in rows(store, schema.poll_votes, schema.poll_votes.c.id)]
    assert sorted(votes) == [("alice", 1), ("bob", 1), ("carol", 1)]


async def test_only_staff_start_polls_and_bad_polls_are_explained(store: Store) -> None:
    chat = chat_with(store, language="en")
    await chat.say(ALICE, "/poll Lunch | pizza | sushi")
    await chat.say(ADMIN, "/poll Lunch | pizza")  # one option is no poll
    await chat.say(ADMIN, "/pollish Lunch | a | b")  # not the command
    assert said(chat) == [
        "Only admins may start a poll.",
        "Start a poll with: /poll Title | Option 1 | Option 2 (2–10 options)",
    ]
    assert rows(store, schema.polls) == []
    open_chat = chat_with(store, polls=PollSettings(anyone_may_start=True, default_minutes=0))
    open_chat.group = "g2"
    await open_chat.say(ALICE, "/poll Lunch\npizza\nsushi")  # one option per line works too
    assert said(open_chat) == [
        "📊 投票 #1：Lunch（单选）\n1. pizza\n2. sushi\n回复「投+序号」投票（如 投1），"
        "「投票结果」看实时结果。"
    ]


async def test_multiple_choice_anonymous_poll_never_shows_who_voted_what(store: Store) -> None:
    chat = make_chat(store)
    pid = await start(chat, "/poll --multi --anon --minutes 10 想听哪些分享 | 运营 | 增长 | 变现")
    chat.take()
    await chat.say(ALICE, "投1 3")
    await chat.say(BOB, "投3")
    await chat.say(ALICE, "投2")  # a multiple choice ballot is final
    out = said(chat)
    assert out == [
        "✅ @Alice 你的匿名投票已记录。",
        "✅ @Bob 你的匿名投票已记录。",
        "@Alice 多选投票投出后不能修改。",
    ]
    await chat.say(CAROL, "/tally")
    (tally,) = said(chat)
    assert "1. 运营 — 1 票（50%）\n2. 增长 — 0 票（0%）\n3. 变现 — 2 票（100%）" in tally
    assert "Alice" not in tally and "Bob" not in tally
    stored = rows(store, schema.poll_votes)
    assert {r.voter for r in stored}.isdisjoint({"alice", "bob"})
    assert {r.name for r in stored} == {""}
    assert rows(store, schema.polls)[0].salt is not None
    await chat.say(ADMIN, "结束投票了吗？")  # a question, not the command
    assert said(chat) == []
    await chat.say(CAROL, "结束投票")  # not the starter, not staff
    await chat.say(ADMIN, "结束投票")
    out = said(chat)
    assert out[0] == "@Carol 只有发起人或管理员可以结束投票。"
    assert out[1].startswith(f"🏁 投票 #{pid} 结束：想听哪些分享（多选，匿名）")
    assert out[1].endswith("共 2 人投票\n最高票：变现")
    # After the close the salt is gone: the rows no longer link anyone to a choice.
    assert rows(store, schema.polls)[0].salt is None


async def test_a_replayed_vote_counts_once(store: Store) -> None:
    chat = make_chat(store)
    await start(chat, "发起投票 周末去哪 | 爬山 | 看展")
    chat.take()
    ev = await chat.say(ALICE, "投1")
    assert await chat.pipeline.handle(ev, chat.platform) is False  # redelivered
    assert len(said(chat)) == 1
    assert [(r.voter, r.option) for r in rows(store, schema.poll_votes)] == [("alice", 0)]
    start_ev = chat.sent[0]
    assert await chat.pipeline.handle(start_ev, chat.platform) is False
    assert len(rows(store, schema.polls)) == 1
    assert json.loads(rows(store, schema.polls)[0].options) == ["爬山", "看展"]
