"""Lifecycle stages, risk and weekly trends on hand-made groups.

now = day 70. Week k (k = 0 the newest) covers days (70 - 7(k+1), 70 - 7k]; messages
are put on day 67 - 7k ("mid-week"), so the weekly counts below are exact. The last
4 weeks are k = 0..3, the 4 before k = 4..7; "30 days" is days (40, 70].

=========  =============================================  ===========================
group      messages per week k = 0..7 (5 speakers)        expected
=========  =============================================  ===========================
newbie     4 messages on days 66..69                      new (4 days old)
ghost      30 on days 1..10, then 1 on day 50 and 60      dead (2 member msgs in 30d)
spam       20 chat + 13 "加V ..." by 13 accounts, 30d     flooded (13/33 = 39%)
fading     2 3 2 3 | 10 10 10 10                          declining (10/40 = 25%)
steady     5 5 5 5 | 5 5 5 5                              active, score 100
booming    10 10 10 10 | 5 5 5 5                          growing (40/20 = 200%)
cliff      2 10 10 10 | 10 10 10 10                       active but at risk: 2 is
                                                          20% of the mean 10 before
=========  =============================================  ===========================
"""

from __future__ import annotations

from handmade import Chat, at, group_ids

from shequn.analytics import analyse
from shequn.store import Store

SPEAKERS = ["s1", "s2", "s3", "s4", "s5"]


def _weekly(c: Chat, group: str, per_week: list[int]) -> None:
    for k, n in enumerate(per_week):
        for i in range(n):
            c.say(group, SPEAKERS[i % 5], at(67 - 7 * k, 10, i), f"talk {i}")


def _build(c: Chat) -> None:
    for g in ("newbie", "ghost", "spam", "fading", "steady", "booming", "cliff"):
        c.group(g, g)
    for d in range(66, 70):
        c.say("newbie", "n1", at(d, 10))
    for i in range(30):
        c.say("ghost", SPEAKERS[i % 5], at(1 + i % 10, 10, i))
    c.say("ghost", "s1", at(50, 10))
    c.say("ghost", "s2", at(60, 10))
    for i in range(20):
        c.say("spam", SPEAKERS[i % 5], at(45 + i, 10))
    for i in range(13):
        c.say("spam", f"spammer{i}", at(45 + i, 11), "加V 13812345678 领福利")
    _weekly(c, "fading", [2, 3, 2, 3, 10, 10, 10, 10])
    _weekly(c, "steady", [5] * 8)
    _weekly(c, "booming", [10] * 4 + [5] * 4)
    _weekly(c, "cliff", [2] + [10] * 7)


def test_stages_risk_and_trend(store: Store, chat: Chat) -> None:
    _build(chat)
    chat.write(store)
    r = analyse(store, now=at(70))
    gid = group_ids(store)
    health = {h["name"]: h for h in r["health"]}
    assert {n: h["stage"] for n, h in health.items()} == {
        "newbie": "new",
        "ghost": "dead",
        "spam": "flooded",
        "fading": "declining",
        "steady": "active",
        "booming": "growing",
        "cliff": "active",
    }
    assert {n for n, h in health.items() if h["at_risk"]} == {"ghost", "spam", "fading", "cliff"}
    order = [(not h["at_risk"], h["score"], h["group_id"]) for h in r["health"]]
    assert order == sorted(order)  # at-risk first, then lowest score
    assert health["ghost"]["reasons"] == [
        "only 2 member messages in the last 30 days (fewer than 5)"
    ]
    assert health["spam"]["reasons"][0] == "ads are 39% of the last 30 days' messages (≥ 30%)"
    assert health["fading"]["reasons"] == [
        "messages in the last 4 weeks are 25% of the 4 weeks before"
    ]
    assert health["booming"]["reasons"] == [
        "messages in the last 4 weeks are 200% of the 4 weeks before"
    ]
    assert health["cliff"]["reasons"][1] == (
        "2 messages last week, only 20% of the previous 4 weeks' mean"
    )
    assert health["newbie"]["reasons"] == ["created less than 14 days ago"]
    # 12 weeks, oldest first
    assert health["fading"]["trend"]["messages"] == [0, 0, 0, 0, 10, 10, 10, 10, 3, 2, 3, 2]
    assert health["fading"]["trend"]["active_members"] == [0, 0, 0, 0, 5, 5, 5, 5, 3, 2, 3, 2]
    assert health["steady"]["trend"]["newcomers"][4] == 5  # first messages on day 18
    # steady: 5 of 5 members active, trend 1, no ads, all UGC
    assert health["steady"]["score"] == 100
    groups = {g["id"]: g for g in r["groups"]}
    assert groups[gid["spam"]]["stage"] == "flooded"
    assert groups[gid["spam"]]["ad_share"] == round(13 / 33, 4)
    assert groups[gid["newbie"]]["newcomers_30d"] == 1
