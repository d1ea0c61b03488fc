"""Check-in across a group set (``checkin.scope = "set"``): one check-in a day, one
streak, one balance, make-ups, tiers, reminders and boards for all the set's groups,
on every storage backend; the default stays per group."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from bot_transcript import Chat, make_chat, rows, user
from checkin_clock import SH, at, plan_reminders_at, texts

from shequn.botconfig import ConfigError, GroupSettings, parse_config
from shequn.features.checkin import CheckinSettings, Tier
from shequn.store import Store, schema

ALICE, BOB = user("alice", "Alice"), user("bob", "Bob")


def sends(chat: Chat) -> list[tuple[str, str]]:
    return [(a["group_id"], a["text"]) for name, a in chat.take() if name == "send"]


def add_set(store: Store, name: str, groups: list[str], platform: str = "fake") -> int:
    with store.engine.begin() as conn:
        sid = conn.execute(
            schema.console_group_sets.insert().values(name=name, created_at=1.0)
        ).inserted_primary_key[0]  # type: ignore[index]
        for g in groups:
            conn.execute(
                schema.console_group_set_members.insert().values(
                    group_set_id=sid, platform=platform, group_id=g
                )
            )
    return int(sid)


def chat_with(store: Store, **kw: Any) -> Chat:
    return make_chat(store, GroupSettings(checkin=CheckinSettings(**kw)))


async def in_group(chat: Chat, group: str, who: Any, text: str) -> None:
    chat.group = group
    await chat.say(who, text)


async def test_one_check_in_a_day_counts_for_the_whole_set(store: Store) -> None:
    add_set(store, "other", ["g9"])
    add_set(store, "华东", ["g1", "g2"])
    add_set(store, "elsewhere", ["g1"], platform="qq")  # another platform's g1: not joined
    chat = chat_with(store, scope="set", group_set="华东", makeup_cost=5,
                     tiers=(Tier(2, 5, "两日"),))  # fmt: skip
    at(chat, 21, 9)
    await in_group(chat, "g1", ALICE, "签到")
    await in_group(chat, "g2", ALICE, "签到")  # the same day in the set's other group
    await in_group(chat, "g3", ALICE, "签到")  # g3 is in no set: it counts alone
    at(chat, 22, 9)
    await in_group(chat, "g2", ALICE, "签到")  # day 2 of the set's streak: the tier
    await in_group(chat, "g2", BOB, "签到")
    at(chat, 24, 9)
    await in_group(chat, "g1", ALICE, "补签")  # the 23rd, across the set
    await in_group(chat, "g2", ALICE, "签到")
    await in_group(chat, "g1", ALICE, "我的积分")
    assert texts(chat) == [
        "@Alice 签到成功！连续 1 天，累计 1 天，积分 10（+10）",
        "@Alice 今天已经签到过了：连续 1 天，累计 1 天，积分 10",
        "@Alice 签到成功！连续 1 天，累计 1 天，积分 10（+10）",
        "@Alice 签到成功！连续 2 天，累计 2 天，积分 25（+10）",
        "🎉 @Alice 连续签到 2 天，获得称号「两日」，奖励 5 积分！",
        "@Bob 签到成功！连续 1 天，累计 1 天，积分 10（+10）",
        "@Alice 补签成功（2026-09-23），花费 5 积分：连续 3 天，积分 20",
        "@Alice 签到成功！连续 4 天，累计 4 天，积分 30（+10）",
        "@Alice 积分 30（本周 +35）｜连续签到 4 天，累计 4 天\n称号：两日",
    ]
    c = schema.checkins
    got = [(r.group_id, r.day, r.makeup) for r in rows(store, c, c.c.id)]
    assert got == [  # each row keeps the group it happened in
        ("g1", "2026-09-21", False),
        ("g3", "2026-09-21", False),
        ("g2", "2026-09-22", False),
        ("g2", "2026-09-22", False),
        ("g1", "2026-09-23", True),
        ("g2", "2026-09-24", False),
    ]
    await in_group(chat, "g1", BOB, "排行榜")  # the board spans the set, not g3
    assert texts(chat) == [
        "🏆 积分排行榜\n本周：\n1. Alice 30\n2. Bob 10\n总榜：\n1. Alice 30\n2. Bob 10"
    ]


async def test_the_default_and_a_group_in_no_set_count_per_group(store: Store) -> None:
    add_set(store, "华东", ["g1", "g2"])
    chat = chat_with(store)  # scope = "group"
    at(chat, 21, 9)
    await in_group(chat, "g1", ALICE, "签到")
    await in_group(chat, "g2", ALICE, "签到")
    lonely = chat_with(store, scope="set", group_set="华南")  # g1 is not in 华南
    lonely.group, lonely._n = "g1", 100  # new message ids: the same ids would be replays
    at(lonely, 21, 10)
    await lonely.say(ALICE, "签到")
    out = texts(chat) + texts(lonely)
    assert out == [
        "@Alice 签到成功！连续 1 天，累计 1 天，积分 10（+10）",
        "@Alice 签到成功！连续 1 天，累计 1 天，积分 10（+10）",
        "@Alice 今天已经签到过了：连续 1 天，累计 1 天，积分 10",
    ]


async def test_daily_cap_and_reminders_span_the_set(store: Store) -> None:
    add_set(store, "华东", ["g1", "g2"])
    chat = chat_with(store, scope="set", remind_hour=20, tiers=())
    for day, group in ((21, "g1"), (22, "g2"), (23, "g1")):
        at(chat, day, 9)
        await in_group(chat, group, ALICE, "签到")  # a streak of 3 across the set
    at(chat, 23, 10)
    await in_group(chat, "g2", BOB, "签到")
    chat.take()

    def tick(day: int, hh: int) -> list[int]:
        return plan_reminders_at(chat, day, hh)

    await chat.pipeline.tick(datetime(2026, 9, 24, 20, tzinfo=SH).timestamp())
    assert tick(24, 21) == []
    await chat.pipeline.resume()
    # once, in the group Alice checked in last; g2 has nobody at risk
    assert sends(chat) == [("g1", "⏰ 今天还没签到哦，别让连续记录断了：@Alice")]


@pytest.mark.parametrize(
    ("checkin", "key"),
    [
        ({"scope": "sets"}, "groups[0].checkin.scope"),
        ({"scope": 1}, "groups[0].checkin.scope"),
        ({"group_set": "华东"}, "groups[0].checkin.group_set"),
        ({"weekly_title": " 【星】"}, "groups[0].checkin.weekly_title"),
        ({"weekly_title_places": -1}, "groups[0].checkin.weekly_title_places"),
    ],
)
def test_scope_and_title_settings_name_the_key(checkin: Any, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"groups": [{"platform": "qq", "id": "1", "checkin": checkin}]}, env={})
    assert err.value.key == key


def test_scope_is_read_from_the_file() -> None:
    cfg = parse_config(
        {"groups": [{"platform": "qq", "id": "1", "checkin": {
            "scope": "set", "group_set": "华东", "weekly_title": "【本周之星】",
            "weekly_title_places": 3,
        }}]},
        env={},
    )  # fmt: skip
    s = cfg.settings_for("qq", "1").checkin
    assert (s.scope, s.group_set, s.weekly_title, s.weekly_title_places) == (
        "set", "华东", "【本周之星】", 3
    )  # fmt: skip


async def test_the_weekly_board_ranks_the_set_and_is_recorded_once(store: Store) -> None:
    add_set(store, "华东", ["g1", "g2"])
    chat = chat_with(store, scope="set", weekly_top=2, weekly_bonus=(50,), tiers=())
    for day in (21, 22):
        at(chat, day, 9)
        await in_group(chat, "g1" if day == 21 else "g2", ALICE, "签到")
    at(chat, 23, 9)
    await in_group(chat, "g2", BOB, "签到")
    chat.take()
    await chat.pipeline.tick(at(chat, 28, 10))
    await chat.pipeline.tick(at(chat, 28, 11))
    board = "🏆 上周（09-21–09-27）积分榜 Top 2：\n1. Alice 20 分（奖励 +50）\n2. Bob 10 分"
    assert sends(chat) == [("g1", board), ("g2", board)]  # posted in each group, once
    aw = schema.point_awards
    got = [(r.group_id, r.rank, r.member_id, r.bonus) for r in rows(store, aw, aw.c.id)]
    assert got == [("g1", 1, "alice", 50), ("g1", 2, "bob", 0)]  # recorded once
    at(chat, 28, 12)
    await in_group(chat, "g2", ALICE, "/me")
    assert texts(chat) == [
        "@Alice 积分 70（本周 +50）｜连续签到 0 天，累计 2 天\n荣誉：2026-W39 周榜第 1 名"
    ]


async def test_a_lottery_counts_the_points_of_the_whole_set(store: Store) -> None:
    add_set(store, "华东", ["g1", "g2"])
    chat = chat_with(store, scope="set", points=10)
    for day in (21, 22):  # Alice earns 20 points in g2 only
        at(chat, day, 9)
        await in_group(chat, "g2", ALICE, "签到")
    at(chat, 23, 9)
    await in_group(chat, "g1", BOB, "今天天气不错")
    await in_group(chat, "g1", ALICE, "大家好")
    chat.take()
    admin = user("boss", "Boss", is_operator=True)
    await in_group(chat, "g1", admin, "发起抽奖 1人 近7天 20积分 周边礼包")
    await in_group(chat, "g1", ALICE, "参与抽奖")
    await in_group(chat, "g1", BOB, "参与抽奖")
    replies = [t for t in texts(chat) if "@" in t]
    assert replies[-2].startswith("🎟 @Alice 参与成功")  # g2's points count in g1
    assert replies[-1] == "@Bob 抱歉，本次抽奖需要 20 积分，你有 0。"


async def test_two_check_ins_at_once_in_a_set_count_once(store: Store) -> None:
    """Another worker's check-in in g1 is in flight (its transaction not committed) when
    the member checks in in g2: the second waits for the first and sees it."""
    import threading

    from shequn.features.checkin.handler import local_day
    from shequn.features.checkin.scope import lock_member

    add_set(store, "华东", ["g1", "g2"])
    chat = chat_with(store, scope="set")
    ts = at(chat, 21, 9)
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with store.engine.begin() as conn:
            lock_member(conn, "fake", ("g1", "g2"), ALICE.platform_id)
            conn.execute(schema.checkins.insert().values(
                platform="fake", group_id="g1", member_id=ALICE.platform_id, name="Alice",
                day=local_day(ts, "Asia/Shanghai").isoformat(), makeup=False, ts=ts))  # fmt: skip
            holding.set()
            release.wait(10)
            time.sleep(0.5)  # still uncommitted while the pipeline reaches its reads

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert holding.wait(10)
    release.set()
    await in_group(chat, "g2", ALICE, "签到")
    worker.join(10)
    assert texts(chat) == ["@Alice 今天已经签到过了：连续 1 天，累计 1 天，积分 0"]
    assert [r.group_id for r in rows(store, schema.checkins, schema.checkins.c.id)] == ["g1"]
