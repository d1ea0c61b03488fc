"""Story and red-packet chains (接龙): turns, amounts and the running total."""

from __future__ import annotations

from bot_transcript import make_chat, rows
from helpers import ALICE, BOB, CAROL, chat_with, replies, said

from shequn.features.activities.chains import amount_of
from shequn.store import Store, schema


def test_amounts_are_read_from_entries() -> None:
    assert amount_of("Alice 8.88") == 8.88
    assert amount_of("¥5 元") == 5.0
    assert amount_of("20元 恭喜发财") == 20.0
    assert amount_of("Alice") is None
    assert amount_of("1.2.3") is None  # not an amount


async def test_a_story_chain_takes_turns(store: Store) -> None:
    chat = make_chat(store)
    await chat.say(ALICE, "#接龙 故事 森林里的猫")
    await chat.say(ALICE, "接龙 从前有只猫。")
    await chat.say(BOB, "接龙 它住在森林里。")
    again = await chat.say(BOB, "接龙 它很饿。")  # twice in a row: refused
    await chat.say(ALICE, "接龙 有一天它遇到了狗。")  # coming back is fine
    out = replies(chat)
    assert out[0][1] == "#接龙 森林里的猫（故事接龙）\n（还没有人接龙，回复「接龙 内容」加入）"
    assert (again.message_id, "@Bob 故事接龙不能连着写两段，等别人接一段吧。") in out
    assert out[-1][1] == (
        "#接龙 森林里的猫（故事接龙）\n1. 从前有只猫。\n2. 它住在森林里。\n3. 有一天它遇到了狗。"
    )
    c = schema.chains
    assert [r.kind for r in rows(store, c)] == ["story"]


async def test_a_red_packet_chain_needs_amounts_and_shows_the_total(store: Store) -> None:
    chat = chat_with(store, language="en")
    await chat.say(ALICE, "#chain redpacket 30分钟 Lucky draw")
    await chat.say(ALICE, "/add 8.88")
    await chat.say(BOB, "/add")  # no amount: refused
    await chat.say(CAROL, "/add 5 good luck")
    await chat.say(BOB, "/add 1.12")
    out = said(chat)
    assert out[2] == "@Bob a red-packet chain needs the amount, e.g. “/add 8.88”."
    assert out[-1] == (
        "#chain Lucky draw (red packets)\n1. 8.88\n2. 5 good luck\n3. 1.12\nTotal: 15.00 (3 red packets)"
    )
    c = schema.chains
    (row,) = rows(store, c)
    assert (row.kind, row.deadline - row.created_at) == ("redpacket", 1800)
