"""Transcripts of appeals (申诉): a member contests a strike in the group, an operator
accepts (the mute is lifted, the strike taken back) or rejects (with a note)."""

from __future__ import annotations

import pytest
from bot_transcript import GROUP, Chat, audit, make_chat, params, rows, user

from shequn.actions.appeals import decide
from shequn.botconfig import GroupSettings
from shequn.events import DirectMessage, MemberRef, direct_chat
from shequn.features.strikes.appeals import parse
from shequn.store import Store, schema

AD = "优惠多多 加微信 abc123"
ALICE = user("alice", "Alice")
BOB = user("bob", "Bob")


def sends(calls: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [str(args["text"]) for name, args in calls if name == "send"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("申诉 那是我们官方的活动", "那是我们官方的活动"),
        ("申诉：误判了", "误判了"),  # full-width colon
        ("  申诉  ", ""),
        ("/申诉 误判", "误判"),
        ("/appeal it was our own link", "it was our own link"),
        ("/appeal@shequn_bot  wrong\n call ", "wrong call"),
        ("／ＡＰＰＥＡＬ wrong", "wrong"),  # full-width slash and letters
        ("申诉了也没用", None),  # a sentence that starts with the word is not the command
        ("我要申诉", None),
        ("appeal to authority", None),
    ],
)
def test_the_command(text: str, reason: str | None) -> None:
    assert parse(text) == reason


async def test_a_warned_member_appeals_and_an_operator_accepts(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)  # the 2nd strike: muted for an hour
    chat.take()
    await chat.say(ALICE, "申诉 那是我们官方的活动")
    (appeal,) = rows(store, schema.appeals)
    assert sends(chat.take()) == [f"@Alice 已收到你的申诉（#{appeal.id}），管理员会尽快处理。"]
    strikes = rows(store, schema.strikes, schema.strikes.c.id)
    assert (appeal.strike_id, appeal.status, appeal.member_name) == (strikes[1].id, "open", "Alice")
    assert appeal.text == "那是我们官方的活动"
    (task,) = rows(store, schema.human_tasks)
    assert (task.id, task.kind, task.member_id, task.status) == (
        appeal.task_id,
        "appeal",
        "alice",
        "open",
    )
    assert "那是我们官方的活动" in task.text and AD in task.text  # the reason and the evidence

    # Asking again while it is open: told to wait, no second appeal.
    await chat.say(ALICE, "申诉 快点处理")
    assert sends(chat.take()) == [f"@Alice 你的申诉（#{appeal.id}）正在处理中，请耐心等待。"]
    assert len(rows(store, schema.appeals)) == 1

    new = await decide(
        store, chat.platform, appeal.id, accept=True, operator="console:admin", now=chat.clock()
    )
    assert chat.take() == [
        ("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 0}),
        ("send", {"group_id": GROUP, "text": f"@Alice 你的申诉（#{appeal.id}）已通过，这次违规记录已撤销。",
                  "reply_to": None}),
    ]  # fmt: skip
    (appeal,) = rows(store, schema.appeals)
    assert (appeal.status, appeal.decided_by) == ("accepted", "console:admin")
    assert [s.status for s in rows(store, schema.strikes, schema.strikes.c.id)] == [
        "active", "revoked"
    ]  # fmt: skip
    assert rows(store, schema.human_tasks)[0].status == "done"
    assert audit(store)[-3:] == [
        ("mute", "done", "undo", params(seconds=0)),  # still muted: lifted now
        ("strike_removed", "done", "undo", params()),
        ("send", "done", "appeal.accepted",
         params(text=f"@Alice 你的申诉（#{appeal.id}）已通过，这次违规记录已撤销。")),
    ]  # fmt: skip
    assert len(new) == 3
    with pytest.raises(ValueError, match="already accepted"):
        await decide(store, chat.platform, appeal.id, accept=False, operator="x", now=chat.clock())

    # One strike counts now: the next ad is the 2nd strike again, a mute, not a kick.
    await chat.say(ALICE, AD)
    assert [c[0] for c in chat.take()] == ["delete", "mute", "send"]


async def test_a_rejected_appeal_keeps_the_strike_and_says_why(store: Store) -> None:
    chat = make_chat(store, GroupSettings(language="en"))
    await chat.say(ALICE, AD)
    warning = sends(chat.take())[0]
    assert warning.endswith("If this is a mistake, send “/appeal <reason>”.")
    await chat.say(ALICE, "/appeal")
    assert sends(chat.take()) == [
        "@Alice please give a reason after /appeal, e.g. /appeal that link is our group's own event"
    ]
    assert rows(store, schema.appeals) == []
    await chat.say(ALICE, "/appeal it was a joke")
    (appeal,) = rows(store, schema.appeals)
    chat.take()
    await decide(
        store, chat.platform, appeal.id, accept=False, operator="console:mod",
        note="links to other groups are ads here", lang="en", now=chat.clock(),
    )  # fmt: skip
    assert sends(chat.take()) == [
        f"@Alice your appeal (#{appeal.id}) is not accepted. Note: links to other groups are ads here"
    ]
    (appeal,) = rows(store, schema.appeals)
    assert (appeal.status, appeal.note) == ("rejected", "links to other groups are ads here")
    assert [s.status for s in rows(store, schema.strikes)] == ["active"]
    await chat.say(ALICE, "/appeal please")
    assert sends(chat.take()) == [
        f"@Alice the appeal (#{appeal.id}) against this strike has been decided already."
    ]


async def test_no_strike_nothing_to_appeal_and_appeals_can_be_off(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(BOB, "申诉 为什么")
    assert sends(chat.take()) == ["@Bob 你目前没有可以申诉的违规记录。"]
    assert rows(store, schema.appeals) == []

    off = make_chat(store, GroupSettings(appeals=False))
    off.group = "g2"
    await off.say(ALICE, AD)
    assert sends(off.take()) == ["@Alice 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。"]
    await off.say(ALICE, "申诉 误判")
    assert off.take() == [] and rows(store, schema.appeals) == []


async def test_an_appeal_that_is_itself_an_ad_is_moderated(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, AD)
    chat.take()
    await chat.say(ALICE, "申诉 加微信 abc123 领福利")
    calls = chat.take()  # the 2nd strike, no appeal: the only word said is the mute's notice
    assert [c[0] for c in calls] == ["delete", "mute", "send"]
    assert "因发布广告（第 2 次违规）被禁言" in calls[2][1]["text"]
    assert rows(store, schema.appeals) == []


async def test_a_strike_undone_meanwhile_is_still_answered(store: Store) -> None:
    from shequn.actions.moderation import undo

    chat = make_chat(store)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, "申诉 误判")
    (appeal,) = rows(store, schema.appeals)
    warn = next(r for r in rows(store, schema.bot_actions) if r.kind == "send")
    await undo(store, chat.platform, warn.id, "console:other", now=chat.clock())
    chat.take()
    await decide(store, chat.platform, appeal.id, accept=True, operator="console:admin",
                 now=chat.clock())  # fmt: skip
    assert sends(chat.take()) == [f"@Alice 你的申诉（#{appeal.id}）已通过，这次违规记录已撤销。"]
    (strike,) = rows(store, schema.strikes)
    assert (strike.status, strike.revoked_by) == ("revoked", "console:other")


async def test_a_mute_that_ran_its_course_is_not_lifted_again(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, AD)
    await chat.say(ALICE, AD)  # muted for an hour
    chat.clock.advance(3600)
    await chat.say(ALICE, "申诉 误判")
    (appeal,) = rows(store, schema.appeals)
    chat.take()
    await decide(store, chat.platform, appeal.id, accept=True, operator="console:admin",
                 now=chat.clock())  # fmt: skip
    assert [c[0] for c in chat.take()] == ["send"]  # no unmute call
    strikes = rows(store, schema.strikes, schema.strikes.c.id)
    assert [(s.status, s.revoked_by) for s in strikes] == [
        ("active", None), ("revoked", "console:admin")
    ]  # fmt: skip


async def dm(chat: Chat, who: MemberRef, text: str, n: int) -> None:
    ev = DirectMessage(
        "fake", direct_chat(who.platform_id), f"d{n}", chat.clock.advance(1), who, text
    )
    await chat.pipeline.handle(ev, chat.platform)


async def test_a_muted_member_appeals_in_private_and_hears_back_there(store: Store) -> None:
    chat = make_chat(store)
    for _ in range(2):
        await chat.say(ALICE, AD)  # warned, then muted: no word in the group any more
    chat.take()
    await dm(chat, ALICE, "你好", 1)
    (help_text,) = sends(chat.take())
    assert help_text.startswith("Alice 你好，我是群管理机器人") and "申诉 理由" in help_text
    await dm(chat, ALICE, "申诉 我只是转发了活动通知", 2)
    (appeal,) = rows(store, schema.appeals)
    assert (appeal.via, appeal.text) == ("dm", "我只是转发了活动通知")
    assert appeal.strike_id == rows(store, schema.strikes, schema.strikes.c.id)[1].id
    assert chat.take() == [
        ("send", {"group_id": "dm:alice", "text": f"@Alice 已收到你的申诉（#{appeal.id}），管理员会尽快处理。",
                  "reply_to": None}),
    ]  # fmt: skip
    await dm(chat, ALICE, "申诉 我只是转发了活动通知", 2)  # the same message redelivered
    assert chat.take() == [] and len(rows(store, schema.appeals)) == 1
    await decide(store, chat.platform, appeal.id, accept=True, operator="console:admin",
                 now=chat.clock())  # fmt: skip
    assert chat.take() == [
        ("mute", {"group_id": GROUP, "member_id": "alice", "seconds": 0}),
        ("send", {"group_id": "dm:alice", "text": f"@Alice 你的申诉（#{appeal.id}）已通过，这次违规记录已撤销。",
                  "reply_to": None}),
    ]  # fmt: skip
    # nothing private reached the archive
    assert [m.text for m in rows(store, schema.messages)] == [AD, AD]
    await dm(chat, BOB, "申诉 我也要", 3)
    assert sends(chat.take()) == ["@Bob 你目前没有可以申诉的违规记录。"]


async def test_in_private_the_strikes_group_decides_if_appeals_are_open(store: Store) -> None:
    chat = make_chat(store, GroupSettings(appeals=False, language="en"))
    await chat.say(ALICE, AD)
    chat.take()
    await dm(chat, ALICE, "/appeal it was a mistake", 1)
    (text,) = sends(chat.take())
    assert text.startswith("Hello Alice, I am the group's moderation bot.")
    assert rows(store, schema.appeals) == []
    await dm(chat, BOB, "/appeal ?", 2)  # no strike anywhere: the default settings answer
    assert sends(chat.take())[0].startswith("Hello Bob,")  # closed there too


async def test_where_members_can_write_privately_the_warning_says_so(store: Store) -> None:
    from shequn.platforms.port import FakePlatform

    chat = make_chat(store, platform=FakePlatform(direct_messages=True))
    await chat.say(ALICE, AD)
    assert sends(chat.take()) == [
        "@Alice 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。"
        "如有误判，可发送「申诉 理由」（被禁言后也可以私聊我发送）。"
    ]
