"""Likely buyers, the ad-like heuristic and keywords, on hand-made messages."""

from __future__ import annotations

import polars as pl
from handmade import Chat, at, member_ids

from shequn.analytics import AnalyticsSettings, analyse
from shequn.analytics.ads import ad_flags
from shequn.analytics.buyers import lexicon
from shequn.analytics.frame import load
from shequn.analytics.keywords import keywords, tokens
from shequn.events import MessageKind
from shequn.store import Store


def test_buyer_ranking_by_hand(store: Store, chat: Chat) -> None:
    c = chat
    c.group("shop", "Shop")
    # weights: price 3, buy 3, discount 2, delivery 2, trial 2, link 1; questions x2
    c.say("shop", "u1", at(0, 10), "这个多少钱？")  # price, question: 6
    c.say("shop", "u1", at(0, 11), "包邮吗")  # delivery, question (吗): 4  -> u1 = 10
    c.say("shop", "u2", at(0, 12), "I want to buy one")  # buy, statement: 3
    c.say("shop", "u2", at(0, 13), "any discount?")  # discount, question: 4  -> u2 = 7
    c.say("shop", "u3", at(0, 14), "价格还行")  # price, statement: 3 -> u3 = 3 (the floor)
    c.say("shop", "u4", at(0, 15), "求链接")  # link, statement: 1 -> below 3
    c.say("shop", "op1", at(0, 16), "多少钱？")  # staff are never leads
    c.say("shop", "u5", at(0, 17), "priceless moment, order by date")  # no \b match
    c.write(store)
    r = analyse(store)
    ids = member_ids(store)
    assert [(b["member_id"], b["score"]) for b in r["buyers"]] == [
        (ids["u1"], 10.0),
        (ids["u2"], 7.0),
        (ids["u3"], 3.0),
    ]
    u1 = r["buyers"][0]
    assert u1["signals"] == {"price": 1, "delivery": 1}
    assert [e["text"] for e in u1["evidence"]] == ["这个多少钱？", "包邮吗"]  # strongest first
    assert u1["evidence"][0]["signals"] == ["price"] and u1["evidence"][0]["question"]
    assert r["buyers"][1]["signals"] == {"buy": 1, "discount": 1}
    assert analyse(store, top=1)["buyers"][0]["member_id"] == ids["u1"]


def test_lexicon_has_every_weighted_signal() -> None:
    assert set(lexicon()) == set(AnalyticsSettings().signal_weights())


def test_ad_like_heuristic(store: Store, chat: Chat) -> None:
    c = chat
    c.group("a", "A")
    c.group("b", "B")
    c.say("a", "u1", at(0, 1), "see https://example.com", kind=MessageKind.LINK)  # kind
    c.say("a", "u2", at(0, 2), "加V 了解详情")  # contact handle
    c.say("a", "u3", at(0, 3), "call me 13812345678 now")  # mobile number
    for who in ("u4", "u5", "u6"):  # same text by three members
        c.say("a", who, at(0, 4), "Great  deal on shoes today")  # 21 characters
    c.say("a", "u7", at(0, 5), "cross posted offer, today!")  # same text in two groups
    c.say("b", "u7", at(0, 6), "Cross posted offer,  TODAY!")
    for who in ("u8", "u9", "u10"):  # short repeats (14 characters) are innocent
        c.say("a", who, at(0, 7), "good morning all")
    c.say("a", "op1", at(0, 8), "加V 了解详情")  # staff content is never an ad
    c.say("a", "u11", at(0, 9), "a normal message about shoes")
    c.write(store)
    f = load(store)
    flagged = (
        f.messages.with_columns(f.text, ad_flags(f, AnalyticsSettings()))
        .sort("ts")
        .select("text", "ad")
        .rows()
    )
    assert [ad for _, ad in flagged] == [True] * 8 + [False] * 5


def test_tokens() -> None:
    assert tokens("Python polars is FAST, see https://pola.rs @bob 2024") == {
        "python",
        "polars",
        "fast",
    }
    zh = tokens("我们今天学习编程")
    assert {"学习", "编程"} <= zh and not {"我们", "今天"} & zh


def test_keywords_weights() -> None:
    sample = pl.DataFrame(
        {
            "group_id": [1, 1, 1, 1, 2],
            "text": ["coffee beans", "coffee", "tea time", "coffee tea", "x"],
        }
    )
    out = keywords(sample, AnalyticsSettings())
    # coffee in 3 of 4 messages, tea in 2; beans and time only once (below the floor of 2)
    assert out == {"1": [["coffee", 0.75], ["tea", 0.5]], "2": []}
