"""Transcripts of points beyond the check-in: behaviours that earn (votes, chain entries,
attendance, thanked answers) with caps, rewards redeemed and handed out, the weekly
top 10 and the member's own card, on every storage backend."""

from __future__ import annotations

import pytest
from bot_transcript import GROUP, Chat, make_chat, rows, user
from checkin_clock import at, texts

from shequn.botconfig import GroupSettings
from shequn.events import ReactionAdded
from shequn.features.checkin import CheckinSettings, Reward, Tier, points_balance
from shequn.store import Store, schema

ADMIN = user("boss", "Boss", is_operator=True)
ALICE, BOB, CAROL = user("alice", "Alice"), user("bob", "Bob"), user("carol", "Carol")


def chat_with(store: Store, language: str = "zh", **kw: object) -> Chat:
    return make_chat(store, GroupSettings(language=language, checkin=CheckinSettings(**kw)))  # type: ignore[arg-type]


def balance(store: Store, member: str) -> int:
    with store.engine.connect() as conn:
        return points_balance(conn, "fake", GROUP, member)


def ledger(store: Store, member: str) -> list[tuple[int, str, str | None]]:
    p = schema.points_ledger
    return [(r.delta, r.reason, r.ref) for r in rows(store, p, p.c.id) if r.member_id == member]


async def test_votes_chain_entries_and_attendance_earn_once_each_within_a_cap(
    store: Store,
) -> None:
    chat = chat_with(store, vote_points=3, chain_points=4, attend_points=20, behaviour_cap=5)
    at(chat, 21, 9)
    await chat.say(ADMIN, "/poll 周末去哪 | 爬山 | 看展")
    await chat.say(ADMIN, "/poll 下期主题 | 咖啡 | 茶")
    await chat.say(ALICE, "投1")  # latest poll (#2): +3
    await chat.say(ALICE, "投2")  # a changed vote earns nothing more
    await chat.say(ADMIN, "结束投票")
    await chat.say(ALICE, "投1")  # poll #1: +3 would pass the cap of 5: +2
    await chat.say(BOB, "#接龙 周末爬山")
    await chat.say(ALICE, "接龙 Alice 带水")  # +4
    await chat.say(ALICE, "接龙 再来一次")  # a duplicate is refused: nothing
    await chat.say(ADMIN, "发起活动 分享会 | 2026-09-21 20:00 | 线上")
    at(chat, 21, 19, 50)
    await chat.say(ALICE, "报名")
    await chat.say(ALICE, "到场")  # +20
    await chat.say(ALICE, "到场")  # again: nothing
    texts(chat)
    assert ledger(store, "alice") == [
        (3, "vote", "poll:2"),
        (2, "vote", "poll:1"),
        (4, "chain", "chain:1"),
        (5, "attend", "event:1"),  # the cap holds per behaviour
    ]
    assert balance(store, "bob") == 0  # starting a chain is not an entry that pays
    at(chat, 22, 9)
    await chat.say(BOB, "接龙")  # a new day, a new chain entry: +4 for Bob
    assert ledger(store, "bob") == [(4, "chain", "chain:1")]


async def test_a_thanked_answer_earns_its_author_helpful_points_once(store: Store) -> None:
    chat = chat_with(store, helpful_points=5, behaviour_cap=10)
    at(chat, 21, 9)
    answer = await chat.say(BOB, "用 pip install -U 就好了")
    await chat.say(ALICE, "谢谢！解决了", reply_to=answer.message_id)  # +5 to Bob
    await chat.say(CAROL, "thanks a lot", reply_to=answer.message_id)  # same answer: once
    await chat.say(BOB, "谢谢大家", reply_to=answer.message_id)  # his own: nothing
    await chat.say(ALICE, "好的", reply_to=answer.message_id)  # no thanks in it
    other = await chat.say(BOB, "文档在官网")
    await chat.pipeline.handle(
        ReactionAdded("fake", GROUP, other.message_id, "👍", member=CAROL), chat.platform
    )  # +5
    third = await chat.say(BOB, "还有一个办法")
    await chat.say(ALICE, "多谢", reply_to=third.message_id)  # the daily cap of 10 is spent
    assert texts(chat) == []  # earning is silent: no chatter in the group
    assert ledger(store, "bob") == [
        (5, "helpful", f"msg:{answer.message_id}"),
        (5, "helpful", f"msg:{other.message_id}"),
    ]
    assert balance(store, "alice") == balance(store, "carol") == 0


async def test_rewards_are_listed_redeemed_once_refused_handed_out_and_refunded(
    store: Store,
) -> None:
    rewards = (Reward("咖啡券", 25, stock=1), Reward("贴纸", 10))
    chat = chat_with(store, rewards=rewards, helpful_points=0)
    for day in (21, 22, 23):
        at(chat, day, 9)
        await chat.say(ALICE, "签到")  # 30 points
    texts(chat)
    await chat.say(ALICE, "兑换")
    await chat.say(ALICE, "兑换 奶茶")
    buy = await chat.say(ALICE, "兑换 咖啡券")
    await chat.pipeline.handle(buy, chat.platform)  # a replayed message buys nothing twice
    await chat.say(BOB, "兑换 1")
    await chat.say(ALICE, "兑换 贴纸")
    assert texts(chat) == [
        "🎁 积分兑换（你有 30 积分）：\n1. 咖啡券 — 25 积分（剩 1 份）\n2. 贴纸 — 10 积分\n"
        "回复「兑换 名称」兑换。",
        "@Alice 没有「奶茶」这个奖励，回复「兑换」查看可兑换的奖励。",
        "✅ @Alice 兑换成功：咖啡券（-25 积分，剩 5）。兑换编号 #1，管理员发放后会通知你。",
        "@Bob 「咖啡券」已经兑完了。",
        "@Alice 积分不足：「贴纸」需要 10 积分，你有 5。",
    ]
    assert ledger(store, "alice")[-1] == (-25, "redeem", f"redeem:{buy.message_id}")
    await chat.say(ALICE, "发放 1")  # not staff: not a command for her
    await chat.say(ADMIN, "待发放")
    await chat.say(ADMIN, "发放 1")
    await chat.say(ADMIN, "发放 1")  # handed out already
    assert texts(chat) == [
        "🎁 待发放的兑换：\n#1 Alice — 咖啡券（25 积分）",
        "🎁 @Alice 的兑换 #1（咖啡券）已发放。",
        "没有待处理的兑换 #1。",
    ]
    at(chat, 24, 9)
    await chat.say(ALICE, "签到")  # 15
    await chat.say(ALICE, "/redeem 贴纸")  # 5
    await chat.say(ADMIN, "/refund 2")
    await chat.say(ADMIN, "/refund 2")
    out = texts(chat)
    assert out[2:] == ["↩️ @Alice 的兑换 #2（贴纸）已取消，10 积分已退回。", "没有待处理的兑换 #2。"]
    assert balance(store, "alice") == 15
    r = schema.point_redemptions
    got = [(x.id, x.reward, x.status, x.handled_by) for x in rows(store, r, r.c.id)]
    assert got == [(1, "咖啡券", "fulfilled", "boss"), (2, "贴纸", "cancelled", "boss")]


async def test_redeeming_in_english_and_a_group_without_rewards(store: Store) -> None:
    chat = chat_with(store, language="en", rewards=(Reward("Sticker", 10),))
    at(chat, 21, 9)
    await chat.say(ALICE, "check in")
    await chat.say(ALICE, "/redeem sticker")
    assert texts(chat)[1] == (
        "✅ @Alice redeemed Sticker (-10 points, 0 left). Redemption #1: "
        "you will be told when it is handed out."
    )
    bare = chat_with(store)
    bare.group = "g2"
    await bare.say(ALICE, "兑换")
    assert texts(bare) == ["本群还没有可兑换的奖励。"]


async def test_the_week_top_is_announced_recorded_once_and_shown_on_the_card(
    store: Store,
) -> None:
    chat = chat_with(store, weekly_top=2, weekly_bonus=(50,), tiers=(Tier(2, 5, "两日"),))
    for who, days in ((ALICE, (21, 22, 23)), (BOB, (21, 22)), (CAROL, (23,))):
        for day in days:
            at(chat, day, 9)
            await chat.say(who, "签到")
    at(chat, 24, 9)
    await chat.say(ALICE, "兑换")  # no rewards; spending would not lower a place anyway
    texts(chat)
    await chat.pipeline.tick(at(chat, 27, 23))  # Sunday: the week is not over
    await chat.pipeline.tick(at(chat, 28, 8))  # Monday before the hour
    assert texts(chat) == []
    await chat.pipeline.tick(at(chat, 28, 9, 30))
    await chat.pipeline.tick(at(chat, 28, 10))
    assert texts(chat) == [
        "🏆 上周（09-21–09-27）积分榜 Top 2：\n1. Alice 35 分（奖励 +50）\n2. Bob 25 分"
    ]
    aw = schema.point_awards
    got = [(r.period, r.rank, r.member_id, r.points, r.bonus) for r in rows(store, aw, aw.c.id)]
    assert got == [("2026-W39", 1, "alice", 35, 50), ("2026-W39", 2, "bob", 25, 0)]
    await chat.say(ALICE, "我的积分")
    assert texts(chat) == [
        "@Alice 积分 85（本周 +50）｜连续签到 0 天，累计 3 天\n称号：两日\n荣誉：2026-W39 周榜第 1 名"
    ]
    at(chat, 29, 9)
    await chat.say(BOB, "/me")  # the streak is broken: 0 days
    assert texts(chat) == [
        "@Bob 积分 25（本周 +0）｜连续签到 0 天，累计 2 天\n称号：两日\n荣誉：2026-W39 周榜第 2 名"
    ]


@pytest.mark.parametrize(
    "kw",
    [
        {"rewards": (Reward("x", 0),)},
        {"rewards": (Reward("x", 1), Reward("X", 2))},
        {"rewards": (Reward(" ", 1),)},
        {"rewards": (Reward("x", 1, stock=-2),)},
        {"weekly_hour": 24},
        {"weekly_bonus": (-1,)},
        {"vote_points": -1},
    ],
)
def test_bad_points_settings_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CheckinSettings(**kw)  # type: ignore[arg-type]
