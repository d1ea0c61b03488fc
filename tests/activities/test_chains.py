"""Chain (接龙) transcripts: numbered reposts diffed, duplicates, edits, close."""

from __future__ import annotations

from bot_transcript import Chat, make_chat, rows
from helpers import ADMIN, ALICE, BOB, CAROL, DAVE, ERIN, chat_with, replies, said, tick

from shequn.events import MessagePosted
from shequn.features.activities import ChainSettings
from shequn.features.activities.chains import diff_new_lines, numbered_lines
from shequn.store import Store, schema


def entries(store: Store) -> list[tuple[str, str, str]]:
    e = schema.chain_entries
    return [(r.member_id, r.text, r.status) for r in rows(store, e, e.c.id)]


async def edit(chat: Chat, original: MessagePosted, text: str) -> None:
    ev = MessagePosted("fake", original.group_id, original.message_id,
                       chat.clock.advance(1), original.sender, text, edited=True)  # fmt: skip
    await chat.pipeline.handle(ev, chat.platform)


def test_diff_finds_the_new_line_even_among_repeats() -> None:
    assert numbered_lines("#接龙 爬山\n1. 张三\n2、李四\n3）王五\n备注") == ["张三", "李四", "王五"]
    assert diff_new_lines(["张三", "李四", "王五"], ["张三", "李四"]) == (["王五"], 2)
    assert diff_new_lines(["张三", "张三", "李四"], ["张三", "李四"]) == (["张三"], 2)
    assert diff_new_lines(["买牛奶"], ["张三", "李四"]) == (["买牛奶"], 0)


async def test_a_chain_with_numbered_reposts_a_duplicate_and_an_edit(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "#接龙 周六爬山\n集合：地铁站 8:00\n1. Alice")
    assert said(chat) == ["#接龙 周六爬山\n1. Alice"]
    # the classic way: copy the list, add yourself, post it back
    await chat.say(BOB, "#接龙 周六爬山\n集合：地铁站 8:00\n1. Alice\n2. Bob 带水")
    carol = await chat.say(CAROL, "1. Alice\n2. Bob 带水\n3. Carol")  # no header
    await chat.say(DAVE, "接龙 Dave+1")
    assert said(chat) == [
        "#接龙 周六爬山\n1. Alice\n2. Bob 带水",
        "#接龙 周六爬山\n1. Alice\n2. Bob 带水\n3. Carol",
        "#接龙 周六爬山\n1. Alice\n2. Bob 带水\n3. Carol\n4. Dave+1",
    ]
    dup = await chat.say(BOB, "接龙 Bob 再来一个")
    assert replies(chat) == [(dup.message_id, "@Bob 你已经在接龙里了（第 2 位）。")]
    await chat.say(ERIN, "1. 买牛奶\n2. 买面包")  # a numbered message that is not the list
    assert said(chat) == []
    # Erin fixes Dave's line in passing and adds herself at the end: hers is the entry.
    await chat.say(ERIN, "1. Alice\n2. Bob 带水\n3. Carol\n4. Dave +1\n5. Erin")
    assert said(chat)[-1].endswith("4. Dave+1\n5. Erin")
    await edit(chat, carol, "1. Alice\n2. Bob 带水\n3. Carol（晚到十分钟）")
    assert said(chat) == [
        "#接龙 周六爬山\n1. Alice\n2. Bob 带水\n3. Carol（晚到十分钟）\n4. Dave+1\n5. Erin"
    ]
    await edit(chat, carol, "算了我不去了")  # the edit no longer adds anything: withdrawn
    assert said(chat) == ["#接龙 周六爬山\n1. Alice\n2. Bob 带水\n3. Dave+1\n4. Erin"]
    await chat.say(BOB, "结束接龙")
    await chat.say(ALICE, "结束接龙")
    out = said(chat)
    assert out == [
        "@Bob 只有发起人或管理员可以结束接龙。",
        "🏁 接龙结束：周六爬山（共 4 人）\n1. Alice\n2. Bob 带水\n3. Dave+1\n4. Erin",
    ]
    await chat.say(BOB, "接龙 Bob")  # closed: no chain to append to
    assert said(chat) == []
    assert entries(store) == [
        ("alice", "Alice", "in"),
        ("bob", "Bob 带水", "in"),
        ("carol", "Carol（晚到十分钟）", "withdrawn"),
        ("dave", "Dave+1", "in"),
        ("erin", "Erin", "in"),
    ]


async def test_replace_duplicates_and_close_at_the_deadline(store: Store) -> None:
    chat = chat_with(store, language="en", chains=ChainSettings(duplicates="replace"))
    t0 = chat.clock.now
    await chat.say(ADMIN, "/chain 30min Potluck dishes")
    await chat.say(ALICE, "+1")
    await chat.say(BOB, "/add salad")
    await chat.say(ALICE, "/add cake")  # replaces her "+1" entry, keeps her place
    await chat.say(CAROL, "#chain Potluck dishes\n1. cake\n2. salad\n3. bread")  # reposted
    out = said(chat)
    assert (
        out[0]
        == "#chain Potluck dishes\n(nobody yet: reply “接龙 your entry” or “/add your entry”)"
    )
    assert out[-2:] == [
        "#chain Potluck dishes\n1. cake\n2. salad",
        "#chain Potluck dishes\n1. cake\n2. salad\n3. bread",
    ]
    assert await tick(chat, t0 + 29 * 60) == []
    assert await tick(chat, t0 + 31 * 60) == [
        "🏁 Chain closed: Potluck dishes (3 entries)\n1. cake\n2. salad\n3. bread"
    ]
    assert await tick(chat, t0 + 60 * 60) == []


async def test_a_replayed_repost_appends_once(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "#接龙 读书会")
    ev = await chat.say(BOB, "1. Bob")
    assert await chat.pipeline.handle(ev, chat.platform) is False
    assert entries(store) == [("bob", "Bob", "in")]
    assert said(chat) == [
        "#接龙 读书会\n（还没有人接龙，回复「接龙 内容」加入）",
        "#接龙 读书会\n1. Bob",
    ]
