"""Points for helpful answers from the FAQ's unanswered queue: whoever closes a queued
question (a reply, a mention of the asker, a staff answer) earns ``helpful_points``
once per question, within the daily ``behaviour_cap``, on every storage backend."""

from __future__ import annotations

from bot_transcript import GROUP, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.features.checkin import CheckinSettings
from shequn.features.faq.queue import enqueue
from shequn.store import Store, schema

ALICE, BOB, CAROL = user("alice", "Alice"), user("bob", "Bob"), user("carol", "Carol")
STAFF = user("op", "Op", is_operator=True)


def ledger(store: Store) -> list[tuple[str, int, str, str | None]]:
    p = schema.points_ledger
    return [(r.member_id, r.delta, r.reason, r.ref) for r in rows(store, p, p.c.id)]


async def test_closing_a_queued_question_earns_helpful_points_once(store: Store) -> None:
    settings = GroupSettings(
        question_minutes=30, checkin=CheckinSettings(helpful_points=5, behaviour_cap=8)
    )
    chat = make_chat(store, settings)
    await chat.say(ALICE, "这个课程的老师是谁？")  # m1: queued
    await chat.say(ALICE, "我先查查资料", reply_to="m1")  # m2: the asker's own: nothing
    reply = await chat.say(BOB, "是李老师", reply_to="m1")  # m3: +5 to Bob
    await chat.pipeline.handle(reply, chat.platform)  # a replay pays nothing twice
    await chat.say(CAROL, "对，是李老师", reply_to="m1")  # m4: answered already
    await chat.say(ALICE, "作业什么时候交？")  # m5
    await chat.say(CAROL, "周五之前交", mentions=(ALICE,))  # m6: +5 to Carol
    await chat.say(ALICE, "教室在哪里？")  # m7
    await chat.say(BOB, "三楼", reply_to="m7")  # m8: the cap of 8 leaves Bob +3
    await chat.say(ALICE, "几点下课？")  # m9
    await chat.say(STAFF, "九点下课")  # m10: staff close it too: +5
    await chat.say(BOB, "今天天气不错", reply_to="m9")  # a reply to a closed question
    assert ledger(store) == [
        ("bob", 5, "helpful", "question:m1"),
        ("carol", 5, "helpful", "question:m5"),
        ("bob", 3, "helpful", "question:m7"),
        ("op", 5, "helpful", "question:m9"),
    ]
    q = schema.open_questions
    assert {r.message_id: r.status for r in rows(store, q)} == dict.fromkeys(
        ("m1", "m5", "m7", "m9"), "answered"
    )
    with store.engine.begin() as conn:  # reopened and answered again: still once
        enqueue(conn, "fake", GROUP, "m1", "alice", chat.clock.now, reopen=True)
    await chat.say(CAROL, "补充：李老师周三上课", reply_to="m1")
    assert len(ledger(store)) == 4
    assert [r.status for r in rows(store, q) if r.message_id == "m1"] == ["answered"]
    assert [args["text"] for name, args in chat.take() if name == "send"] == []  # silent


async def test_no_points_when_helpful_points_are_off(store: Store) -> None:
    settings = GroupSettings(question_minutes=30, checkin=CheckinSettings(helpful_points=0))
    chat = make_chat(store, settings)
    await chat.say(ALICE, "这个课程的老师是谁？")
    await chat.say(BOB, "是李老师", reply_to="m1")
    q = schema.open_questions
    assert [r.status for r in rows(store, q)] == ["answered"]  # the queue still works
    assert ledger(store) == []
