"""Member layers, reply/reach counts and KOLs on a hand-made archive.

Group "alpha" (11 speakers once the bot is left out):

==========  =====================================================  ==================
member      behaviour                                              layer
==========  =====================================================  ==================
lea         3 messages on days 0, 1, 2; replied to by r1..r5;       opinion leader
            mentions ghost; 1 reaction (from r1)                   (reach 5, rank 1)
cora        2 messages on days 0, 1; replied to by r1, r2, r3       co-opinion leader
                                                                   (reach 3, rank 2:
                                                                   2 ≤ 20% × 11)
sam         1 message; invited x1 and x2, who stayed                spreader
ada         12 messages on days 0, 1, 2                             active (msgs #1)
pat         3 messages on day 0                                     participant
bea         2 messages                                              bystander (few)
r1, r2, r3  2 replies each (to lea and cora)                        bystander
r4, r5      1 reply each (to lea)                                   bystander in alpha
x1, x2      joined (invited by sam), silent                         bystander (silent)
bot1        20 messages                                             bystander (bot)
==========  =====================================================  ==================

Group "beta": r4 writes 3 messages (participant there, so r4's best layer is
participant, from beta); quinn writes 1. "ghost" is only mentioned: no group.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import numpy as np
import polars as pl
from handmade import Chat, at, group_ids, member_ids

from shequn.analytics import analyse, kol
from shequn.store import Store


def _build(chat: Chat) -> None:
    c = chat
    c.group("alpha", "Alpha")
    c.group("beta", "Beta")
    lea = [
        c.say("alpha", "lea", at(d, 10), "thoughts", mentions=["ghost"] if d == 0 else ())
        for d in range(3)
    ]
    cora = [c.say("alpha", "cora", at(d, 11)) for d in range(2)]
    for i, r in enumerate(["r1", "r2", "r3", "r4", "r5"]):
        c.say("alpha", r, at(0, 12, i), "agree", reply=lea[0])
    for i, r in enumerate(["r1", "r2", "r3"]):
        c.say("alpha", r, at(1, 12, i), "+1", reply=cora[1])
    c.react("alpha", lea[1], "r1")
    c.say("alpha", "sam", at(0, 9))
    c.join("alpha", "x1", at(0, 8), inviter="sam")
    c.join("alpha", "x2", at(1, 8), inviter="sam")
    for i in range(12):
        c.say("alpha", "ada", at(i % 3, 14, i))
    for i in range(3):
        c.say("alpha", "pat", at(0, 15, i))
    for i in range(2):
        c.say("alpha", "bea", at(1, 16, i))
    for i in range(20):
        c.say("alpha", "bot1", at(2, 17, i), "automated notice")
    for i in range(3):
        c.say("beta", "r4", at(1, 9, i))
    c.say("beta", "quinn", at(1, 10))


def _report(store: Store, chat: Chat, lang: str = "en") -> dict[str, Any]:
    _build(chat)
    chat.write(store)
    return analyse(store, lang=lang)


def test_layers_by_hand(store: Store, chat: Chat) -> None:
    r = _report(store, chat)
    mids, gids = member_ids(store), group_ids(store)
    by = {m["platform_id"]: m for m in r["members"]}
    expected = {
        "lea": "opinion_leader",
        "cora": "co_opinion_leader",
        "sam": "spreader",
        "ada": "active",
        "pat": "participant",
        "r4": "participant",  # from beta
        "bea": "bystander",
        "r1": "bystander",
        "r5": "bystander",
        "x1": "bystander",
        "bot1": "bystander",
        "quinn": "bystander",
        "ghost": "bystander",
    }
    assert {k: by[k]["layer"] for k in expected} == expected
    # 16 members: 5 layered in alpha + r4 + 10 bystanders (bea, r1-r3, r5, x1, x2, bot1, quinn, ghost)
    assert r["layers"]["counts"] == {
        "opinion_leader": 1,
        "co_opinion_leader": 1,
        "spreader": 1,
        "active": 1,
        "participant": 2,
        "bystander": 10,
    }
    assert sum(r["layers"]["counts"].values()) == len(r["members"]) == 16
    # alpha knows 14 accounts: lea cora sam ada pat bea r1-r5 x1 x2 bot1
    assert r["layers"]["by_group"][str(gids["alpha"])] == {
        "opinion_leader": 1,
        "co_opinion_leader": 1,
        "spreader": 1,
        "active": 1,
        "participant": 1,
        "bystander": 9,
    }
    assert r["layers"]["by_group"][str(gids["beta"])]["participant"] == 1
    for g in r["groups"]:
        assert sum(r["layers"]["by_group"][str(g["id"])].values()) == g["members"]
    ranked = ["opinion_leader", "co_opinion_leader", "spreader", "active", "participant"]
    assert [d["key"] for d in r["layers"]["definitions"]] == [*ranked, "bystander"]

    lea = by["lea"]
    assert (lea["replies_received"], lea["distinct_repliers"], lea["reach"]) == (5, 5, 5)
    assert (lea["reactions_received"], lea["messages"], lea["active_days"]) == (1, 3, 3)
    assert lea["layer_reasons"] == [
        "replied to or mentioned by 5 members in the last 100 active days (#1 of 11, top 10%)",
        "spoke on 3 day(s)",
        "received 5 replies",
        "received 1 reactions",
    ]
    cora = by["cora"]
    assert (cora["replies_received"], cora["distinct_repliers"]) == (3, 3)
    # rank 2 of 11: ceil(200 / 11) = 19%
    assert cora["layer_reasons"][0].endswith("(#2 of 11, top 19%)")
    assert (by["sam"]["invites"], by["sam"]["invites_stayed"]) == (2, 2)
    assert by["sam"]["layer_reasons"][0] == "invited 2 members who stayed (2 invited)"
    # ada: 12 messages, rank 1 of 11 by messages
    assert (
        by["ada"]["layer_reasons"][0]
        == "12 messages in the last 100 active days (#1 of 11, top 10%)"
    )
    assert by["r4"]["layer_reasons"][0] == "based on group “Beta”"
    assert by["r4"]["groups"] == sorted([gids["alpha"], gids["beta"]])
    assert by["bea"]["layer_reasons"] == [
        "only 2 messages in the last 100 active days (fewer than 3)"
    ]
    assert by["x1"]["layer_reasons"] == ["no messages in the last 100 active days"]
    assert by["bot1"]["layer_reasons"] == ["bot account, not ranked"]
    assert by["ghost"]["groups"] == [] and by["ghost"]["mentions_received"] == 1
    assert all(m["layer_reasons"] for m in r["members"])
    assert by["x1"]["joined_ts"] == "2024-01-01T00:00:00Z"  # 08:00 local = 00:00 UTC
    assert mids["lea"] == lea["id"]
    # most messages first: bot1 (20), ada (12), ...
    assert [m["platform_id"] for m in r["members"][:2]] == ["bot1", "ada"]


def test_layer_reasons_in_chinese(store: Store, chat: Chat) -> None:
    by = {m["platform_id"]: m for m in _report(store, chat, "zh")["members"]}
    assert (
        by["lea"]["layer_reasons"][0] == "近 100 个活跃日被 5 位成员回复或@（11 人中第 1，前 10%）"
    )
    assert by["r4"]["layer_reasons"][0] == "依据群「Beta」"


def test_kol_ranking_by_hand(store: Store, chat: Chat) -> None:
    r = _report(store, chat)
    # candidates need reach >= 2: lea (5) and cora (3); ghost (reach 1) and staff are out.
    # lea tops every percentile among the two (1.0), cora gets 0.5 in each: 100 and 50.
    assert [(k["name"], k["score"], k["reach"]) for k in r["kols"]] == [
        ("lea", 100.0, 5),
        ("cora", 50.0, 3),
    ]
    assert r["kols"][0]["reasons"][0] == "PageRank #1 of 2"
    assert r["kols"][0]["pagerank"] > r["kols"][1]["pagerank"] > 0
    assert json.loads(json.dumps(r)) == r


def test_pagerank_matches_networkx() -> None:
    rng = np.random.default_rng(3)
    src = rng.integers(0, 60, 400)
    dst = rng.integers(0, 60, 400)
    edges = (
        pl.DataFrame(
            {"source": src, "target": dst, "weight": rng.integers(1, 5, 400).astype(float)}
        )
        .with_columns(pl.col("source", "target").cast(pl.Int32))
        .filter(pl.col("source") != pl.col("target"))
        .group_by("source", "target")
        .agg(pl.col("weight").sum())
    )
    g = nx.DiGraph()
    g.add_weighted_edges_from(edges.iter_rows())
    expected = nx.pagerank(g, alpha=0.85, weight="weight")
    got = dict(kol.pagerank(edges).iter_rows())
    assert got.keys() == expected.keys()
    assert max(abs(got[k] - expected[k]) for k in got) < 1e-9
    assert kol.pagerank(edges.clear()).height == 0


def test_layers_look_at_the_last_100_active_days(store: Store, chat: Chat) -> None:
    """vet wrote 20 messages on days 0-9; then only kim writes, once a day on days
    10-110 (101 active days). The window is the last 100 active days, days 11-110:
    vet has nothing in it, kim spoke on all 100 (a habit: active)."""
    chat.group("old", "Old")
    for i in range(20):
        chat.say("old", "vet", at(i // 2, 10, i))
    for d in range(10, 111):
        chat.say("old", "kim", at(d, 9))
    chat.write(store)
    by = {m["platform_id"]: m for m in analyse(store)["members"]}
    assert by["vet"]["messages"] == 20 and by["vet"]["layer"] == "bystander"
    assert by["vet"]["layer_reasons"] == ["no messages in the last 100 active days"]
    assert by["kim"]["layer"] == "active"
    assert "spoke on 100 of the last 100 active days" in by["kim"]["layer_reasons"]
