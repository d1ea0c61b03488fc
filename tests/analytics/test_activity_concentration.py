"""Heatmap, daily counts, message totals, 80/20 measures and UGC share, by hand."""

from __future__ import annotations

from handmade import Chat, at, group_ids

from shequn.analytics import AnalyticsSettings, analyse
from shequn.analytics.concentration import concentration_of
from shequn.store import Store


def _activity(c: Chat) -> None:
    c.group("g", "G")
    c.say("g", "u1", at(0, 9, 30))  # Mon 09:30 local
    c.say("g", "u2", at(0, 9, 45))  # Mon 09:45
    c.say("g", "u3", at(1, 21))  # Tue 21:00
    c.say("g", "u1", at(6, 23, 59))  # Sun 23:59
    c.say("g", "bot1", at(2, 10))  # bots are not activity
    c.system("g", "op1", at(3, 10))  # nor are service messages


def test_heatmap_and_daily(store: Store, chat: Chat) -> None:
    _activity(chat)
    chat.write(store)
    r = analyse(store)
    grid = r["heatmap"]["weekday_hour"]
    assert r["heatmap"]["tz"] == "Asia/Shanghai"
    assert (len(grid), {len(row) for row in grid}) == (7, {24})
    assert (grid[0][9], grid[1][21], grid[6][23], sum(map(sum, grid))) == (2, 1, 1, 4)
    assert r["heatmap"]["peak"] == {"weekday": 0, "hour": 9, "weekday_name": "Mon"}
    assert r["messages"]["daily"] == [
        ["2024-01-01", 2],
        ["2024-01-02", 1],
        ["2024-01-03", 0],
        ["2024-01-04", 0],
        ["2024-01-05", 0],
        ["2024-01-06", 0],
        ["2024-01-07", 1],
    ]
    gid = group_ids(store)["g"]
    m = r["messages"]
    assert (m["total"], m["member"], m["operator"], m["system"]) == (6, 4, 1, 1)
    assert m["by_kind"] == {"system": 1, "text": 5}
    assert m["by_group"] == {str(gid): 5}


def test_heatmap_in_another_zone(store: Store, chat: Chat) -> None:
    _activity(chat)
    chat.write(store)
    r = analyse(store, AnalyticsSettings(tz="UTC"))
    grid = r["heatmap"]["weekday_hour"]
    # UTC is 8 hours behind: Mon 01:30, Tue 13:00, Sun 15:59
    assert (grid[0][1], grid[1][13], grid[6][15]) == (2, 1, 1)
    assert r["messages"]["daily"][0] == ["2024-01-01", 2]
    assert r["meta"]["settings"]["tz"] == "UTC"


def test_concentration_of_by_hand() -> None:
    c = concentration_of([5, 50, 10, 20, 5, 10])
    # sorted 50 20 10 10 5 5 (100): top 20% = ceil(1.2) = 2 speakers -> 70%;
    # 80% needs 50+20+10 -> 3; half needs 50 -> 1;
    # Gini: ascending 5 5 10 10 20 50, sum (2i-7)x = -25-15-10+10+60+250 = 270 -> 270/600
    assert c == {
        "speakers": 6,
        "top20_share": 0.7,
        "speakers_for_80pct": 3,
        "gini": 0.45,
        "absence_factor": 1,
    }
    assert concentration_of([7])["gini"] == 0.0
    assert concentration_of([])["speakers"] == 0


def test_concentration_and_ugc_through_the_archive(store: Store, chat: Chat) -> None:
    chat.group("c", "C")
    chat.group("d", "D")
    for i, (who, n) in enumerate([("a", 50), ("b", 20), ("e", 10), ("f", 10), ("g", 5), ("h", 5)]):
        for k in range(n):
            chat.say("c", who, at(i, 10, k % 60) + k)
    for k in range(6):
        chat.say("c", "op1", at(8, 9, k), "announcement")
    for k in range(4):
        chat.say("d", "z", at(9, 9, k))
    chat.write(store)
    r = analyse(store)
    gid = group_ids(store)
    con = r["concentration"]
    # all member messages: 50 20 10 10 5 5 4 = 104 by 7 speakers (operators left out)
    # top 20% = ceil(1.4) = 2 -> 70/104; 80% = 83.2 -> 50+20+10+10 -> 4; half = 52 -> 2;
    # Gini ascending 4 5 5 10 10 20 50: (-6*4 -4*5 -2*5 +0 +2*10 +4*20 +6*50) / (7*104) = 346/728
    assert (con["speakers"], con["top20_share"], con["speakers_for_80pct"]) == (7, 0.6731, 4)
    assert (con["gini"], con["absence_factor"]) == (0.4753, 2)
    assert con["by_group"][str(gid["c"])]["top20_share"] == 0.7
    assert con["by_group"][str(gid["c"])]["gini"] == 0.45
    assert con["by_group"][str(gid["d"])] == {
        "top20_share": 1.0,
        "gini": 0.0,
        "absence_factor": 1,
        "speakers": 1,
        "speakers_for_80pct": 1,
    }
    # UGC: 104 member messages, 6 by the operator
    assert r["ugc"] == {
        "member_messages": 104,
        "operator_messages": 6,
        "ugc_share": 0.9455,
        "by_group": {str(gid["c"]): 0.9434, str(gid["d"]): 1.0},
    }
    groups = {g["id"]: g for g in r["groups"]}
    assert groups[gid["c"]]["ugc_share"] == 0.9434
    assert [g["id"] for g in r["groups"]] == [gid["c"], gid["d"]]  # most messages first
