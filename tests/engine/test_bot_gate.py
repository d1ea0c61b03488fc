"""Transcripts of the entry gate: quiz, captcha, layer, manual, invite codes, time-outs."""

from __future__ import annotations

import json

import pytest
from bot_transcript import GROUP, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.events import JoinRequested, MemberLeft, MemberRenamed
from shequn.features.gate import GateSettings, QuizQuestion
from shequn.store import Store, schema

BANK = (
    QuizQuestion("本群的主题是？", ("咖啡",)),
    QuizQuestion("发广告会怎样？", ("踢出", "被踢")),
    QuizQuestion("每天几点打卡？", ("9", "九点")),
)
QUIZ = GroupSettings(
    gate=GateSettings(
        mode="quiz",
        quiz=BANK,
        count=3,
        pass_mark=2,
        time_limit=300,
        welcome="欢迎 {name}！本群为咖啡爱好者而建，请先阅读群规。",
    )
)
NEW = user("newbie", "小王")


def asked(chat_calls: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [str(a["text"]) for name, a in chat_calls if name == "send"]


def challenge(store: Store) -> dict[str, list[dict[str, object]]]:
    return json.loads(rows(store, schema.gate_entries)[-1].challenge)


async def test_failing_the_quiz_kicks_and_deletes_their_messages(store: Store) -> None:
    chat = make_chat(store, QUIZ)
    await chat.join(NEW)
    first = chat.take()
    assert [name for name, _ in first] == ["send"]  # not muted: the answers are posted in the group
    assert asked(first) == [f"入群验证 1/3：{challenge(store)['questions'][0]['q']}"]

    await chat.say(NEW, "不知道")  # m2: wrong
    assert asked(chat.take())[0].startswith("入群验证 2/3：")
    await chat.say(NEW, "也不知道")  # m3: wrong: 2 needed, 1 left -> fails now
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m2"}),
        ("delete", {"group_id": GROUP, "message_id": "m3"}),
        ("kick", {"group_id": GROUP, "member_id": "newbie", "ban": False}),
    ]
    (entry,) = rows(store, schema.gate_entries)
    assert (entry.state, entry.progress, entry.correct) == ("failed", 2, 0)
    kick = rows(store, schema.bot_actions)[-1]
    assert (kick.reason, json.loads(kick.evidence)) == (
        "gate.failed",
        {"mode": "quiz", "correct": 0, "progress": 2},
    )


async def test_passing_the_quiz_welcomes(store: Store) -> None:
    chat = make_chat(store, QUIZ)
    await chat.join(NEW)
    chat.take()
    questions = challenge(store)["questions"]
    await chat.say(NEW, str(questions[0]["a"][0]))  # type: ignore[index]
    chat.take()
    await chat.say(NEW, f" {str(questions[1]['a'][-1]).upper()} ")  # type: ignore[index]
    assert chat.take() == [
        (
            "send",
            {
                "group_id": GROUP,
                "text": "欢迎 小王！本群为咖啡爱好者而建，请先阅读群规。",
                "reply_to": None,
            },
        ),
    ]
    assert rows(store, schema.gate_entries)[0].state == "passed"
    await chat.say(NEW, "大家好")  # a member now: no longer an answer
    assert chat.take() == []


async def test_time_out_kicks_via_tick(store: Store) -> None:
    chat = make_chat(store, QUIZ)
    await chat.join(NEW)
    await chat.say(NEW, "hello?")
    chat.take()
    await chat.pipeline.tick(chat.clock.now + 100)
    assert chat.take() == []
    await chat.pipeline.tick(chat.clock.now + 400)
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m2"}),
        ("kick", {"group_id": GROUP, "member_id": "newbie", "ban": False}),
    ]
    assert rows(store, schema.gate_entries)[0].state == "expired"
    await chat.pipeline.tick(chat.clock.now + 900)
    assert chat.take() == []


async def test_captcha_and_the_rename_reminder(store: Store) -> None:
    gate = GateSettings(mode="captcha", name_format=r"[^-]+-[^-]+-[^-]+")
    chat = make_chat(store, GroupSettings(gate=gate, language="en"))
    await chat.join(NEW)
    q = challenge(store)["questions"][0]
    assert asked(chat.take()) == [f"Entry check 1/1: {q['q']}"]
    await chat.say(NEW, str(q["a"][0]))  # type: ignore[index]
    assert asked(chat.take()) == [
        "Welcome, 小王!",
        "小王, please set your group nickname to the format [^-]+-[^-]+-[^-]+",
    ]
    await chat.join(user("ok", "上海-小李-设计"))
    await chat.say(user("ok", "上海-小李-设计"), "7")  # wrong answer (or right): one question
    assert all("nickname" not in t for t in asked(chat.take()))


async def test_layer_gate_asks_analytics(store: Store) -> None:
    layers = {"core": 4, "lurker": 1}
    gate = GateSettings(mode="layer", layer_group="main", min_layer=3)
    chat = make_chat(store, GroupSettings(gate=gate), layer_of=lambda _p, _g, m: layers.get(m))
    await chat.join(user("core"))
    await chat.join(user("lurker"))
    await chat.join(user("stranger"))
    assert [(n, a.get("member_id")) for n, a in chat.take()] == [
        ("send", None),
        ("kick", "lurker"),
        ("kick", "stranger"),
    ]


async def test_manual_gate_opens_an_approval_task(store: Store) -> None:
    chat = make_chat(store, GroupSettings(gate=GateSettings(mode="manual")))
    await chat.join(NEW)
    await chat.say(NEW, "我是来学习的")
    assert chat.take() == [
        ("mute", {"group_id": GROUP, "member_id": "newbie", "seconds": 7 * 86400})
    ]
    (task,) = rows(store, schema.human_tasks)
    assert (task.kind, task.member_id) == ("approve", "newbie")
    await chat.pipeline.tick(chat.clock.now + 30 * 86400)  # manual entries never time out
    entry = rows(store, schema.gate_entries)[0]
    assert entry.state == "pending"

    await chat.pipeline.decide_entry(entry.id, True, "admin1")
    assert chat.take() == [
        ("mute", {"group_id": GROUP, "member_id": "newbie", "seconds": 0}),
        ("send", {"group_id": GROUP, "text": "欢迎 小王 加入！", "reply_to": None}),
    ]
    assert rows(store, schema.gate_entries)[0].state == "passed"
    assert [(t.kind, t.status) for t in rows(store, schema.human_tasks)] == [("approve", "done")]
    assert rows(store, schema.bot_actions)[-2].operator == "admin1"
    with pytest.raises(ValueError, match="already passed"):
        await chat.pipeline.decide_entry(entry.id, False, "admin1")


async def test_manual_refusal_kicks_and_leaving_expires_the_task(store: Store) -> None:
    chat = make_chat(store, GroupSettings(gate=GateSettings(mode="manual")))
    await chat.join(NEW)
    await chat.say(NEW, "广告")
    await chat.join(user("gone"))
    chat.take()
    first = rows(store, schema.gate_entries)[0]
    await chat.pipeline.decide_entry(first.id, False, "admin1")
    assert chat.take() == [
        ("delete", {"group_id": GROUP, "message_id": "m2"}),
        ("kick", {"group_id": GROUP, "member_id": "newbie", "ban": False}),
    ]
    await chat.pipeline.handle(
        MemberLeft("fake", GROUP, "l1", chat.clock.advance(1), user("gone")), chat.platform
    )
    assert [(t.member_id, t.status) for t in rows(store, schema.human_tasks)] == [
        ("newbie", "done"),
        ("gone", "expired"),
    ]
    assert [e.state for e in rows(store, schema.gate_entries)] == ["failed", "left"]


async def test_a_rename_off_the_format_gets_a_reminder(store: Store) -> None:
    chat = make_chat(store, GroupSettings(gate=GateSettings(name_format=r"[^-]+-[^-]+-[^-]+")))
    ok = MemberRenamed("fake", GROUP, "r1", chat.clock(), NEW, "小王", "上海-小王-设计")
    bad = MemberRenamed("fake", GROUP, "r2", chat.clock(), NEW, "上海-小王-设计", "小王")
    await chat.pipeline.handle(ok, chat.platform)
    assert chat.take() == []
    await chat.pipeline.handle(bad, chat.platform)
    assert asked(chat.take()) == ["小王，请按格式修改群昵称：[^-]+-[^-]+-[^-]+"]


@pytest.mark.parametrize(("answer", "approve"), [("CODE-42", True), ("guess", False)])
async def test_invite_code_join_requests(store: Store, answer: str, approve: bool) -> None:
    gate = GateSettings(mode="invite_code", invite_codes=("code-42",))
    chat = make_chat(store, GroupSettings(gate=gate))
    req = JoinRequested("fake", GROUP, "r1", chat.clock(), NEW, answer)
    await chat.pipeline.handle(req, chat.platform)
    assert chat.take() == [
        ("approve_join", {"group_id": GROUP, "request_id": "r1", "approve": approve})
    ]


async def test_staff_pass_the_gate(store: Store) -> None:
    chat = make_chat(store, QUIZ)
    await chat.join(user("admin", is_operator=True))
    assert chat.take() == []
    assert rows(store, schema.gate_entries) == []


async def test_invite_code_as_the_first_message(store: Store) -> None:
    gate = GateSettings(mode="invite_code", invite_codes=("COFFEE",))
    chat = make_chat(store, GroupSettings(gate=gate))
    await chat.join(NEW)
    assert asked(chat.take()) == ["入群验证 1/1：invite code / 邀请码"]
    await chat.say(NEW, "ｃｏｆｆｅｅ")  # full-width, lower case: still the code
    assert asked(chat.take()) == ["欢迎 小王 加入！"]
    other = user("other")
    await chat.join(other)
    chat.take()
    await chat.say(other, "没有")
    assert [n for n, _ in chat.take()] == ["delete", "kick"]


def test_answers_are_compared_like_moderation_normalises_text() -> None:
    from shequn.features.gate import check_answer

    challenge = {"questions": [{"q": "本群的主题是什么？", "a": ["咖啡", "Coffee"]}]}
    for typed in ("咖啡", " 咖 啡 ", "咖啡。", "ＣＯＦＦＥＥ", "coffee", "咖啡"):
        assert check_answer(challenge, 0, typed), typed
    assert check_answer({"questions": [{"q": "?", "a": ["后来"]}]}, 0, "後來")  # traditional
    assert not check_answer(challenge, 0, "茶")
