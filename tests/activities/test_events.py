"""Event transcripts: capacity, waiting list, promotion on cancel, reminders, attendance."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot_transcript import make_chat, rows, user
from helpers import ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, chat_with, replies, said, tick

from shequn.features.activities import EventSettings, city_of
from shequn.features.activities.events import parse_time
from shequn.store import Store, schema

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 25, 19, 30, tzinfo=SH).timestamp()


def signups(store: Store) -> list[tuple[str, str, bool]]:
    su = schema.event_signups
    return [(r.member_id, r.status, r.attended_at is not None) for r in rows(store, su, su.c.id)]


def test_times_are_read_in_the_group_time_zone() -> None:
    now = datetime(2026, 9, 21, 12, tzinfo=SH).timestamp()
    assert parse_time("2026-09-25 19:30", "Asia/Shanghai", now) == START
    assert parse_time("09-25 19：30", "Asia/Shanghai", now) == START
    assert parse_time("9月25日 19:30", "Asia/Shanghai", now) == START
    assert (
        parse_time("09-20 19:30", "Asia/Shanghai", now)
        == datetime(2027, 9, 20, 19, 30, tzinfo=SH).timestamp()
    )  # past this year: next year's
    assert parse_time("next friday", "Asia/Shanghai", now) is None


async def test_capacity_waiting_list_promotion_reminders_and_attendance(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ADMIN, "发起活动 线下读书会 | 2026-09-25 19:30 | 上海 | 2")
    assert said(chat) == [
        "📅 活动 #1：线下读书会\n时间：09-25 19:30\n地点：上海\n名额：2\n回复「报名」参加，「取消报名」退出。"
    ]
    for who in (ALICE, BOB, CAROL, DAVE):
        await chat.say(who, "报名")
    await chat.say(BOB, "报名")
    await chat.say(DAVE, "报名截止了吗？")  # a question, not a sign-up
    assert [text for _to, text in replies(chat)] == [
        "✅ @Alice 报名成功：线下读书会（1/2）",
        "✅ @Bob 报名成功：线下读书会（2/2）",
        "⏳ @Carol 名额已满，你在候补第 1 位：线下读书会",
        "⏳ @Dave 名额已满，你在候补第 2 位：线下读书会",
        "@Bob 你已经报名了（正式）。",
    ]
    await chat.say(ALICE, "取消报名")
    assert said(chat) == [
        "@Alice 已取消报名：线下读书会",
        "🎉 @Carol 有人退出，你已从候补转为正式参加：线下读书会",
    ]
    await chat.say(ERIN, "取消报名")
    await chat.say(ERIN, "活动名单")
    assert said(chat) == [
        "@Erin 你没有报名这个活动。",
        "📅 活动 #1：线下读书会（09-25 19:30，上海）\n正式 2/2：1. Bob、2. Carol\n候补：1. Dave",
    ]
    assert await tick(chat, START - 25 * 3600) == []  # more than a day ahead
    day_before = await tick(chat, START - 23 * 3600)
    assert day_before == [
        "⏰ 活动提醒：线下读书会 将于 09-25 19:30 开始（上海）。已报名：@Bob @Carol"
    ]
    assert await tick(chat, START - 22 * 3600) == []  # once per threshold
    assert len(await tick(chat, START - 50 * 60)) == 1  # the one-hour reminder
    assert await tick(chat, START - 40 * 60) == []
    chat.clock.now = START - 2 * 3600
    await chat.say(BOB, "到场")  # too early
    chat.clock.now = START - 60
    await chat.say(CAROL, "到场")
    await chat.say(DAVE, "活动签到")  # still on the waiting list
    chat.clock.now = START + 60
    await chat.say(ERIN, "报名")  # started: closed
    assert [text for _to, text in replies(chat)] == [
        "@Bob 现在不是签到时间（开始前 30 分钟到开始后 180 分钟）。",
        "✅ @Carol 到场签到成功：线下读书会",
        "@Dave 你没有报名这个活动。",
        "@Erin 活动已开始，报名已截止。",
    ]
    assert signups(store) == [
        ("alice", "cancelled", False),
        ("bob", "going", False),
        ("carol", "going", True),
        ("dave", "waiting", False),
    ]
    assert await tick(chat, START + 120) == []  # started: no more reminders


async def test_online_event_without_limit_and_refusals(store: Store) -> None:
    chat = chat_with(store, language="en")
    await chat.say(ALICE, "/event Sharing | 2026-09-25 19:30 | online")
    await chat.say(ADMIN, "/event Sharing | someday | online")
    await chat.say(ADMIN, "/event Sharing session | 09-25 19:30 | online")
    await chat.say(ALICE, "/signup")
    out = said(chat)
    assert out[:2] == [
        "Only admins may start an event.",
        "Start an event with: /event Title | 2026-10-01 19:30 | city or online | places",
    ]
    assert out[2].startswith("📅 Event #1: Sharing session\nWhen: 09-25 19:30\nWhere: online\n")
    assert out[3] == "✅ @Alice you are in: Sharing session (1/no limit)"


async def test_city_sub_groups_are_suggested_from_name_cards_and_intros(store: Store) -> None:
    assert city_of("上海-小王-设计") == "上海"
    assert city_of("小李-产品-深圳市") == "深圳"
    assert city_of("大家好，坐标杭州，做电商的") == "杭州"
    assert city_of("Tom") is None
    chat = make_chat(store)
    for pid, card in (("u1", "上海-小王-设计"), ("u2", "上海-阿珍-运营"), ("u3", "北京-老周-投资"),
                      ("u4", "魔都-Kiki-产品"), ("u5", "Tom")):  # fmt: skip
        await chat.say(user(pid, card), "大家好")
    await chat.join(user("u6", "小美"))
    await chat.say(user("u6", "小美"), "大家好，我是小美，坐标北京，做新媒体运营三年了")
    chat.take()
    await chat.say(ALICE, "同城分群")  # staff only: nothing for a member
    await chat.say(ADMIN, "同城分群")
    assert said(chat) == [
        "🏙 同城分群建议（≥ 3 人）：\n上海（3 人）：上海-小王-设计、上海-阿珍-运营、魔都-Kiki-产品"
    ]
    relaxed = chat_with(store, events=EventSettings(min_city_members=2))
    relaxed.clock.now, relaxed._n = chat.clock.now, 100  # the same group, later messages
    await relaxed.say(ADMIN, "/cities")
    assert said(relaxed) == [
        "🏙 同城分群建议（≥ 2 人）：\n上海（3 人）：上海-小王-设计、上海-阿珍-运营、魔都-Kiki-产品\n"
        "北京（2 人）：北京-老周-投资、小美"
    ]
