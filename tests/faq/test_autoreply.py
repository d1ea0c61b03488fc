"""FAQ auto-reply transcripts through the real pipeline, on every storage backend.

A small real bank (Chinese entries as an operator writes them, English entries from
StackFAQ), the real matcher, the fake platform and a real database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import xlsxwriter
from autoreply_bank import ZH_ROWS, stackfaq, write_bank
from bot_transcript import GROUP, Chat, audit, make_chat, rows, user

from shequn.botconfig import ConfigError, GroupSettings, parse_config
from shequn.events import MessagePosted
from shequn.features.faq import FaqSettings, entry_stats, load_bank
from shequn.features.faq.cache import clear
from shequn.store import Store, schema

ALICE, BOB, CAROL = user("alice", "Alice"), user("bob", "Bob"), user("carol", "Carol")
STAFF = user("op", "运营小王", is_operator=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear()


@pytest.fixture
def bank(tmp_path: Path, data_dir: Path) -> Path:
    return write_bank(tmp_path / "faq.csv", data_dir)


def faq_chat(store: Store, bank: Path, language: str = "zh", **kw: object) -> Chat:
    faq = FaqSettings(enabled=True, bank=str(bank), **kw)  # type: ignore[arg-type]
    return make_chat(store, GroupSettings(language=language, question_minutes=30, faq=faq))


def replies(chat: Chat) -> list[tuple[str, str | None]]:
    return [(a["text"], a["reply_to"]) for name, a in chat.take() if name == "send"]


def queue(store: Store) -> list[tuple[str, str]]:
    q = schema.open_questions
    return [(r.message_id, r.status) for r in rows(store, q, q.c.ts)]


def outcomes(store: Store) -> list[tuple[str, str, str | None]]:
    f = schema.faq_questions
    return [(r.message_id, r.outcome, r.answered_by) for r in rows(store, f, f.c.id)]


def stats(store: Store) -> dict[str, tuple[int, int, int, int]]:
    with store.engine.connect() as conn:
        return {s.entry_id: (s.hits, s.answered, s.repeats, s.unhelpful) for s in entry_stats(conn)}


async def test_paraphrased_questions_are_answered_in_both_languages(
    store: Store, bank: Path, data_dir: Path
) -> None:
    chat = faq_chat(store, bank)
    await chat.say(ALICE, "买的会员能退吗")  # m1: bank has 会员费可以退款吗 / 能退钱吗
    await chat.say(BOB, "作业交到哪里啊？")  # m2
    _, paraphrases = stackfaq(data_dir)
    question = "What is the best way to remove my facebook account?"
    assert question in paraphrases["q001"]  # a real StackFAQ paraphrase
    await chat.say(CAROL, question)  # m3
    assert replies(chat) == [
        ("购买后七天内可以全额退款，联系客服即可。\n🔗 https://example.org/refund", "m1"),
        ("作业提交到小程序「作业本」，截止每晚 22 点。\n🖼 https://example.org/homework.png", "m2"),
        (load_bank(bank).get("q001").answer, "m3"),
    ]
    assert outcomes(store) == [
        ("m1", "answered", "bot"),
        ("m2", "answered", "bot"),
        ("m3", "answered", "bot"),
    ]
    assert queue(store) == []  # nothing for humans
    await chat.pipeline.tick(chat.clock.now + 3 * 3600)
    assert rows(store, schema.alerts) == []
    reasons = [reason for _kind, _status, reason, _params in audit(store)]
    assert reasons == ["faq.answered"] * 3


async def test_small_talk_and_statements_are_left_alone(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank)
    await chat.say(ALICE, "今天天气不错")
    await chat.say(BOB, "会员费退款这事我上周办好了")  # about an entry, but not a question
    assert replies(chat) == []
    assert outcomes(store) == [] and queue(store) == []


async def test_statements_are_answered_when_questions_only_is_off(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank, questions_only=False)
    await chat.say(ALICE, "我想提交作业")
    assert [text for text, _ in replies(chat)] == [
        "作业提交到小程序「作业本」，截止每晚 22 点。\n🖼 https://example.org/homework.png"
    ]


async def test_low_confidence_question_is_queued_and_escalated_after_n_minutes(
    store: Store, bank: Path
) -> None:
    chat = faq_chat(store, bank, escalate_minutes=10)
    await chat.say(ALICE, "这个课程的老师是谁？")  # m1: nothing in the bank
    await chat.say(BOB, "How do I change my Twitter username?")  # m2: only a weak guess
    assert replies(chat) == []
    assert queue(store) == [("m1", "open"), ("m2", "open")]
    (_, o1, _), (_, o2, _) = outcomes(store)
    assert (o1, o2) == ("missed", "missed")
    await chat.pipeline.tick(chat.clock.now + 9 * 60)
    assert rows(store, schema.alerts) == []
    await chat.pipeline.tick(chat.clock.now + 11 * 60)
    alerts = rows(store, schema.alerts, schema.alerts.c.id)
    assert [(a.kind, a.member_id, json.loads(a.message_ids)) for a in alerts] == [
        ("question", "alice", ["m1"]),
        ("question", "bob", ["m2"]),
    ]
    assert "这个课程的老师是谁" in alerts[0].detail and "FAQ best guess" in alerts[0].detail
    assert queue(store) == [("m1", "alerted"), ("m2", "alerted")]
    await chat.pipeline.tick(chat.clock.now + 3600)
    assert len(rows(store, schema.alerts)) == 2  # once per question
    assert chat.take() == []  # alerts go to humans, not into the group


async def test_a_human_answer_closes_the_question(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank, escalate_minutes=10, staff_answer_seconds=120)
    await chat.say(ALICE, "这个课程的老师是谁？")  # m1
    await chat.say(BOB, "是李老师", reply_to="m1")  # m2: a member's reply answers it
    await chat.say(CAROL, "结课证书什么时候发？")  # m3
    chat.clock.advance(30)
    await chat.say(STAFF, "证书下周统一发放")  # m4: staff shortly after
    chat.clock.advance(600)
    await chat.say(ALICE, "下次课讲什么内容？")  # m5: no one answers in time
    chat.clock.advance(200)
    await chat.say(STAFF, "大家记得交作业")  # m6: too late to count as an answer
    assert replies(chat) == []
    assert queue(store) == [("m1", "answered"), ("m3", "answered"), ("m5", "open")]
    f = schema.faq_questions
    answered = {r.message_id: r.answered_by for r in rows(store, f)}
    assert answered == {"m1": "bob", "m3": "op", "m5": None}
    await chat.pipeline.tick(chat.clock.now + 11 * 60)
    (alert,) = rows(store, schema.alerts)
    assert json.loads(alert.message_ids) == ["m5"]


async def test_staff_questions_are_not_answered_nor_queued(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank)
    await chat.say(STAFF, "作业交到哪里啊？")
    assert replies(chat) == [] and queue(store) == [] and outcomes(store) == []


async def test_cooldown_points_at_the_earlier_answer(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank, cooldown=600)
    await chat.say(ALICE, "作业交到哪里啊？")  # m1
    chat.clock.advance(120)
    await chat.say(BOB, "请问怎么提交作业？")  # m2: same entry within the cooldown
    chat.clock.advance(900)
    await chat.say(CAROL, "作业在哪里交？")  # m3: the cooldown is over
    answer = "作业提交到小程序「作业本」，截止每晚 22 点。\n🖼 https://example.org/homework.png"
    assert replies(chat) == [
        (answer, "m1"),
        ("@Bob 这个问题（作业在哪里交？）2 分钟前刚回答过，请看上面给 Alice 的回复。", "m2"),
        (answer, "m3"),
    ]
    assert [o for _, o, _ in outcomes(store)] == ["answered", "repeat", "answered"]
    assert stats(store) == {"homework": (3, 2, 1, 0)}


async def test_hit_statistics_per_entry_and_unhelpful_feedback(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank, cooldown=0)
    await chat.say(ALICE, "买的会员能退吗")  # m1
    await chat.say(BOB, "会员费可以退款吗？")  # m2
    await chat.say(CAROL, "直播")  # m3: the keyword rule answers a statement too
    await chat.say(CAROL, "作业交到哪里啊？")  # m4
    await chat.say(BOB, "没用！")  # m5: Bob's answer did not help him
    await chat.say(ALICE, "好的谢谢")  # m6: thanks is not feedback
    texts = [t for t, _ in replies(chat)]
    assert texts[-1] == "@Bob 抱歉没帮上忙，已转给管理员，请稍等。"
    assert len(texts) == 5
    assert stats(store) == {
        "refund": (2, 2, 0, 1),
        "homework": (1, 1, 0, 0),
        "live": (1, 1, 0, 0),
    }
    assert [m for m, *_ in outcomes(store)] == ["m1", "m2", "m3", "m4"]
    assert queue(store) == [("m2", "open")]  # back to humans
    assert outcomes(store)[1] == ("m2", "unhelpful", None)
    with store.engine.connect() as conn:
        (refund,) = [s for s in entry_stats(conn) if s.entry_id == "refund"]
    assert refund.last_hit == pytest.approx(chat.sent[1].ts) and refund.groups == 1


async def test_keyword_rule_answers_a_bare_command_but_not_a_mention_of_it(
    store: Store, bank: Path
) -> None:
    chat = faq_chat(store, bank)
    await chat.say(ALICE, "直播")  # the rule is re:^直播$
    await chat.say(BOB, "昨天的直播真好看")
    assert replies(chat) == [("每周三晚上八点，群公告里有直播链接。", "m1")]


async def test_replaying_an_event_acts_once(store: Store, bank: Path) -> None:
    chat = faq_chat(store, bank)
    ev = await chat.say(ALICE, "买的会员能退吗")
    low = await chat.say(BOB, "这个课程的老师是谁？")
    assert await chat.pipeline.handle(ev, chat.platform) is False
    assert await chat.pipeline.handle(low, chat.platform) is False
    assert len(replies(chat)) == 1
    assert len(rows(store, schema.faq_questions)) == 2
    assert stats(store) == {"refund": (1, 1, 0, 0)}
    edited = MessagePosted(
        "fake", GROUP, low.message_id, low.ts + 5, BOB, "这个课程的老师是谁呀？", edited=True
    )
    assert await chat.pipeline.handle(edited, chat.platform) is True  # a new event ...
    assert replies(chat) == [] and queue(store) == [("m2", "open")]  # ... not a new question


async def test_bank_is_reloaded_when_the_file_changes(
    store: Store, tmp_path: Path, data_dir: Path
) -> None:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps([ZH_ROWS[0]], ensure_ascii=False), encoding="utf-8")
    chat = faq_chat(store, path)
    await chat.say(ALICE, "作业交到哪里啊？")
    assert replies(chat) == []
    path.write_text(json.dumps(ZH_ROWS, ensure_ascii=False), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # coarse clocks
    await chat.say(BOB, "作业交到哪里啊？")
    assert [t for t, _ in replies(chat)] == [
        "作业提交到小程序「作业本」，截止每晚 22 点。\n🖼 https://example.org/homework.png"
    ]


async def test_a_broken_or_missing_bank_answers_nothing_but_still_queues(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("id,question\n1,怎么签到\n", encoding="utf-8")
    chat = faq_chat(store, path)
    await chat.say(ALICE, "作业交到哪里啊？")
    await chat.say(BOB, "怎么签到？")
    assert replies(chat) == []
    assert queue(store) == [("m1", "open"), ("m2", "open")]
    assert sum("not loaded" in r.getMessage() for r in caplog.records) == 1  # logged once


async def test_excel_bank(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "faq.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("FAQ")
    header = list(ZH_ROWS[0])
    ws.write_row(0, 0, header)
    for i, row in enumerate(ZH_ROWS, start=1):
        ws.write_row(i, 0, [row[h] for h in header])
    ws.write_row(len(ZH_ROWS) + 1, 0, [42, "群规在哪里看？", "群公告里有群规。"])  # numeric id
    wb.close()
    loaded = load_bank(path)
    assert [e.id for e in loaded] == ["checkin", "refund", "homework", "live", "42"]
    assert loaded.get("homework").variants == ("怎么提交作业", "交作业的入口在哪")
    chat = faq_chat(store, path)
    await chat.say(ALICE, "群规在哪里可以看到？")
    assert replies(chat) == [("群公告里有群规。", "m1")]


def test_config_errors_name_the_key() -> None:
    def group(**faq: object) -> dict[str, object]:
        return {"groups": [{"platform": "matrix", "id": "!g", "faq": faq}]}

    ok = parse_config(group(enabled=True, bank="faq.xlsx", threshold=0.4, cooldown=60), env={})
    s = ok.groups[("matrix", "!g")].faq
    assert (s.enabled, s.bank, s.threshold, s.cooldown) == (True, "faq.xlsx", 0.4, 60.0)
    cases = [
        (group(threshold=1.5), "groups[0].faq.threshold"),
        (group(threshold="high"), "groups[0].faq.threshold"),
        (group(cooldown=-1), "groups[0].faq.cooldown"),
        (group(escalate_minutes=-5), "groups[0].faq.escalate_minutes"),
        (group(enabled="yes"), "groups[0].faq.enabled"),
        (group(tresholdd=0.5), "groups[0].faq.tresholdd"),
        ({"defaults": {"faq": {"bank": 3}}}, "defaults.faq.bank"),
    ]
    for data, key in cases:
        with pytest.raises(ConfigError) as err:
            parse_config(data, env={})
        assert err.value.key == key, (data, str(err.value))
