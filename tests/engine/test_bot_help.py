"""``帮助`` / ``/help``: the member commands switched on in the group, in its words."""

from __future__ import annotations

import dataclasses

from bot_transcript import GROUP, make_chat, user

from shequn.botconfig import GroupSettings
from shequn.features.activities import ActivitySettings
from shequn.features.checkin.settings import CheckinSettings
from shequn.features.layers import LayerSettings
from shequn.store import Store

ALICE = user("alice", "Alice")


async def test_help_lists_what_is_on_with_the_groups_keywords(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "帮助")
    assert chat.take() == [("send", {"group_id": GROUP, "reply_to": None, "text": "\n".join([
        "📖 本群机器人可以帮你：",
        "• 签到 每日签到；补签 补签；我的积分 查看积分；排行榜 积分榜",
        "• 我的等级 查看你的成员等级和升级条件",
        "• 报名 / 取消报名 参加群里的活动；回复接龙消息即可接龙",
        "• 申诉 理由 对你的违规记录提出申诉，管理员处理后会回复你",
    ])})]  # fmt: skip
    await chat.say(ALICE, "帮助一下我吧")  # a sentence, not the command
    assert chat.take() == []


async def test_in_english_with_renamed_keywords_and_features_off(store: Store) -> None:
    settings = GroupSettings(
        language="en",
        checkin=CheckinSettings(keywords=("打卡", "/clockin")),
        layers=LayerSettings(enabled=False),
        activities=ActivitySettings(enabled=False),
    )
    chat = make_chat(store, settings)
    await chat.say(ALICE, "/help@shequn_bot")
    (call,) = chat.take()
    assert call[1]["text"].split("\n") == [
        "📖 What the bot can do for you here:",
        "• /clockin daily check-in; /makeup make up a missed day; /me your points; "
        "/top the leaderboard",
        "• /appeal <reason> contest a strike; an admin decides and answers you",
    ]
    nothing = dataclasses.replace(settings, checkin=CheckinSettings(enabled=False), appeals=False)
    quiet = make_chat(store, nothing)
    quiet.group = "g2"
    await quiet.say(ALICE, "菜单")
    assert quiet.take()[0][1]["text"] == "No member commands are switched on in this group."
