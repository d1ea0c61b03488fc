"""Transcripts of the daily check-in: streaks across Shanghai midnight, make-ups, tiers,
the daily cap and the leaderboard, on every storage backend."""

from __future__ import annotations

from datetime import datetime

from bot_transcript import GROUP, Chat, make_chat, rows, user
from checkin_clock import SH, at, plan_reminders_at, texts

from shequn.botconfig import GroupSettings
from shequn.features.checkin import CheckinSettings, Tier, award, points_balance
from shequn.store import Store, schema

ALICE, BOB, CAROL = user("alice", "Alice"), user("bob", "Bob"), user("carol", "Carol")


def chat_with(store: Store, language: str = "zh", **kw: object) -> Chat:
    return make_chat(store, GroupSettings(language=language, checkin=CheckinSettings(**kw)))  # type: ignore[arg-type]


def balance(store: Store, member: str) -> int:
    with store.engine.connect() as conn:
        return points_balance(conn, "fake", GROUP, member)


async def test_check_in_once_a_day_and_a_repeat_is_not_counted(store: Store) -> None:
    chat = make_chat(store)
    at(chat, 21, 9)
    await chat.say(ALICE, "签到")
    assert texts(chat) == ["@Alice 签到成功！连续 1 天，累计 1 天，积分 10（+10）"]
    await chat.say(ALICE, " 打卡 ")
    assert texts(chat) == ["@Alice 今天已经签到过了：连续 1 天，累计 1 天，积分 10"]
    await chat.say(ALICE, "今天天气不错")  # not a command: nothing said
    assert texts(chat) == []
    assert len(rows(store, schema.checkins)) == 1
    assert balance(store, "alice") == 10


async def test_streak_runs_across_midnight_in_shanghai(store: Store) -> None:
    chat = chat_with(store, language="en")
    at(chat, 21, 23, 59, 50)  # 15:59:50 UTC: still the 21st in Shanghai
    await chat.say(ALICE, "check in")
    at(chat, 22, 0, 0, 10)  # twenty seconds later, a new day there
    await chat.say(ALICE, "/CHECKIN")
    at(chat, 23, 7)
    await chat.say(ALICE, "签到")
    assert texts(chat) == [
        "@Alice checked in! Streak 1 days, 1 days in all, 10 points (+10)",
        "@Alice checked in! Streak 2 days, 2 days in all, 20 points (+10)",
        "@Alice checked in! Streak 3 days, 3 days in all, 30 points (+10)",
    ]
    days = [r.day for r in rows(store, schema.checkins, schema.checkins.c.id)]
    assert days == ["2026-09-21", "2026-09-22", "2026-09-23"]


async def test_utc_midnight_is_not_a_new_day(store: Store) -> None:
    chat = make_chat(store)
    at(chat, 22, 7, 59, 50)  # 23:59:50 UTC on the 21st
    await chat.say(ALICE, "签到")
    at(chat, 22, 8, 0, 10)  # 00:00:10 UTC on the 22nd: same Shanghai day
    await chat.say(ALICE, "签到")
    assert texts(chat)[1].startswith("@Alice 今天已经签到过了")


async def test_a_missed_day_breaks_the_streak(store: Store) -> None:
    chat = make_chat(store)
    for day in (21, 22, 24):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")
    assert texts(chat)[-1] == "@Alice 签到成功！连续 1 天，累计 3 天，积分 30（+10）"


async def test_make_up_restores_the_streak_for_points(store: Store) -> None:
    chat = chat_with(store, makeup_cost=25, makeup_per_month=1)
    for day in (21, 22):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")
    at(chat, 23, 9)
    await chat.say(ALICE, "补签")  # yesterday (22nd) is checked in: nothing to fill
    at(chat, 24, 9)
    await chat.say(ALICE, "补签")  # 20 points, the make-up costs 25
    await chat.say(ALICE, "签到")  # streak 1, 30 points
    await chat.say(ALICE, "/makeup")
    await chat.say(ALICE, "签到")
    assert texts(chat)[2:] == [
        "@Alice 无需补签：昨天已签到，或补签也接不上连续天数。",
        "@Alice 积分不足：补签需要 25 积分，你有 20。",
        "@Alice 签到成功！连续 1 天，累计 3 天，积分 30（+10）",
        "@Alice 补签成功（2026-09-23），花费 25 积分：连续 4 天，积分 5",
        "@Alice 今天已经签到过了：连续 4 天，累计 4 天，积分 5",
    ]
    made_up = [(r.day, r.makeup) for r in rows(store, schema.checkins, schema.checkins.c.day)]
    assert made_up[2] == ("2026-09-23", True)
    ledger = [
        (r.delta, r.reason) for r in rows(store, schema.points_ledger, schema.points_ledger.c.id)
    ]
    assert ledger == [(10, "checkin"), (10, "checkin"), (10, "checkin"), (-25, "makeup")]


async def test_make_ups_are_limited_per_month_and_need_a_streak_to_restore(store: Store) -> None:
    chat = chat_with(store, makeup_cost=0, makeup_per_month=1)
    at(chat, 21, 9)
    await chat.say(BOB, "补签")  # never checked in: nothing to restore
    for day in (21, 23):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")
    await chat.say(ALICE, "补签")  # fills the 22nd
    at(chat, 25, 9)
    await chat.say(ALICE, "补签")  # the 24th: the month's one make-up is used
    out = texts(chat)
    assert out[0] == "@Bob 无需补签：昨天已签到，或补签也接不上连续天数。"
    assert out[3] == "@Alice 补签成功（2026-09-22），花费 0 积分：连续 3 天，积分 20"
    assert out[4] == "@Alice 本月补签次数已用完（每月 1 次）。"


async def test_a_tier_is_rewarded_and_announced_once(store: Store) -> None:
    chat = chat_with(store, tiers=(Tier(2, 5, "两日"), Tier(3, 50, "三日")))
    for day in (21, 22, 23, 24, 26, 27, 28):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")
    out = texts(chat)
    announced = [t for t in out if t.startswith("🎉")]
    assert announced == [
        "🎉 @Alice 连续签到 2 天，获得称号「两日」，奖励 5 积分！",
        "🎉 @Alice 连续签到 3 天，获得称号「三日」，奖励 50 积分！",
    ]
    assert out[2] == "🎉 @Alice 连续签到 2 天，获得称号「两日」，奖励 5 积分！"
    assert balance(store, "alice") == 7 * 10 + 5 + 50  # the second run to 3 pays nothing


async def test_daily_cap_per_reason(store: Store) -> None:
    with store.engine.begin() as conn:
        got = [
            award(conn, "fake", GROUP, "alice", points=10, reason="chat", day="2026-09-21",
                  ts=1.0, cap=25)
            for _ in range(4)
        ]  # fmt: skip
        other = award(conn, "fake", GROUP, "alice", points=10, reason="chat", day="2026-09-22",
                      ts=2.0, cap=25)  # fmt: skip
        assert points_balance(conn, "fake", GROUP, "alice") == 35
    assert got == [10, 10, 5, 0]
    assert other == 10
    chat = chat_with(store, points=10, daily_cap=4, tiers=(Tier(1, 100, "新人"),))
    at(chat, 21, 9)
    await chat.say(BOB, "签到")
    assert texts(chat) == [
        "@Bob 签到成功！连续 1 天，累计 1 天，积分 8（+4）",  # each reason is capped
        "🎉 @Bob 连续签到 1 天，获得称号「新人」，奖励 4 积分！",
    ]


async def test_leaderboard_of_the_week_and_all_time(store: Store) -> None:
    chat = make_chat(store)
    for who, days in ((ALICE, (14, 15, 21)), (BOB, (20, 21, 22)), (CAROL, (22,))):
        for day in days:
            at(chat, day, 9)
            await chat.say(who, "签到")
    chat.take()
    at(chat, 22, 20)  # Tuesday; the week began on Monday the 21st
    await chat.say(CAROL, "排行榜")
    assert texts(chat) == [
        "🏆 积分排行榜\n本周：\n1. Bob 20\n2. Alice 10\n3. Carol 10\n"
        "总榜：\n1. Alice 30\n2. Bob 30\n3. Carol 10"
    ]


async def test_evening_reminder_lists_streaks_at_risk_once_a_day(store: Store) -> None:
    chat = chat_with(store, remind_hour=20)
    for day in (21, 22, 23):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")  # streak 3
    for day in (22, 23):
        at(chat, day, 9)
        await chat.say(BOB, "签到")  # streak 2: not reminded
    at(chat, 24, 8)
    await chat.say(CAROL, "签到")  # checked in today: not reminded
    chat.take()

    def tick(day: int, hh: int) -> list[int]:
        return plan_reminders_at(chat, day, hh)

    assert tick(24, 19) == []  # before the hour
    # the bot's own periodic tick plans (and sends) the reminder
    await chat.pipeline.tick(datetime(2026, 9, 24, 20, tzinfo=SH).timestamp())
    assert tick(24, 21) == []  # once a day
    await chat.pipeline.resume()
    assert texts(chat) == ["⏰ 今天还没签到哦，别让连续记录断了：@Alice"]
