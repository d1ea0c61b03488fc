"""Retention cohorts and lurkers on a hand-made archive (times are local, UTC+8).

Week 2024-W01 (Mon 1 Jan - Sun 7 Jan):
  m1 joins Mon 10:00, writes at 12:00 (2 h later)          -> speaking d1, d7, d30
  m2 joins Tue 10:00, writes Fri 10:00 (3 days later),
     leaves 10 days after joining                            -> speaking d7, d30; gone by d30
  m3 joins Wed 10:00, never writes                           -> present throughout
  m4 has no join event: first message Thu 10:00 is the join,
     writes again 16 days later (Sat 20 Jan)                 -> speaking d30 only
  op1 (operator) creates the group: left out of retention
Week 2024-W02:
  m5 joins Mon 8 Jan 10:00, kicked 12 h later                -> not present at d1

now = Sat 10 Feb 00:00. W01 ends Mon 8 Jan 00:00, + 30 days = 7 Feb <= now: all ripe.
W02 ends 15 Jan, + 30 days = 14 Feb > now: its d30 shares are null.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handmade import Chat, at, member_ids

from shequn.analytics import analyse
from shequn.store import Store


def _build(c: Chat) -> None:
    c.group("g", "G")
    c.join("g", "op1", at(0, 9))
    c.join("g", "m1", at(0, 10))
    c.say("g", "m1", at(0, 12))
    c.join("g", "m2", at(1, 10))
    c.say("g", "m2", at(4, 10))
    c.leave("g", "m2", at(11, 10))
    c.join("g", "m3", at(2, 10))
    c.say("g", "m4", at(3, 10))
    c.say("g", "m4", at(19, 10))
    c.join("g", "m5", at(7, 10))
    c.leave("g", "m5", at(7, 22), by="op1")
    c.say("g", "op1", at(20, 9), "weekly news")


NOW = datetime.fromtimestamp(at(40), tz=UTC)  # Sat 10 Feb 2024 00:00 local


def test_retention_by_hand(store: Store, chat: Chat) -> None:
    _build(chat)
    chat.write(store)
    r = analyse(store, now=NOW)
    ret = r["retention"]
    w1, w2 = ret["cohorts"]
    assert (w1["week"], w1["start"], w1["joined"]) == ("2024-W01", "2024-01-01", 4)
    assert w1["present"] == {"d1": 1.0, "d7": 1.0, "d30": 0.75}  # m2 gone by d30
    assert w1["speaking"] == {"d1": 0.25, "d7": 0.5, "d30": 0.75}  # m1; m1 m2; m1 m2 m4
    assert (w2["week"], w2["joined"]) == ("2024-W02", 1)
    assert w2["present"] == {"d1": 0.0, "d7": 0.0, "d30": None}
    assert w2["speaking"] == {"d1": 0.0, "d7": 0.0, "d30": None}
    # overall: all five entries are 30 days old at now
    assert ret["overall"]["present"] == {"d1": 0.8, "d7": 0.8, "d30": 0.6}
    assert ret["overall"]["speaking"] == {"d1": 0.2, "d7": 0.4, "d30": 0.6}
    assert ret["basis"] == {"event": 4, "message": 1}
    assert "4" in ret["basis_note"] and "1" in ret["basis_note"]


def test_young_cohort_is_null_overall_counts_ripe_entries(store: Store, chat: Chat) -> None:
    _build(chat)
    chat.write(store)
    # now = Mon 15 Jan 00:00: W01 (ended 8 Jan) is ripe for d1 and d7; W02 ends right
    # now, so not even d1 is known for the whole week.
    r = analyse(store, now=at(14))
    w1, w2 = r["retention"]["cohorts"]
    assert w1["present"] == {"d1": 1.0, "d7": 1.0, "d30": None}
    assert w2["present"] == {"d1": None, "d7": None, "d30": None}
    # overall counts each entry old enough: d1 all five; d7 joins up to 8 Jan 00:00 ->
    # m1 m2 m3 m4 (m5 joined 8 Jan 10:00); d30 none
    assert r["retention"]["overall"]["eligible"] == {"d1": 5, "d7": 4, "d30": 0}
    assert r["retention"]["overall"]["present"]["d30"] is None


def test_lurkers_and_presence(store: Store, chat: Chat) -> None:
    _build(chat)
    chat.write(store)
    r = analyse(store, now=NOW)
    ids = member_ids(store)
    # present, not staff, silent for 30 days (since 11 Jan): m3 never spoke, m1 last on 1 Jan;
    # m4 spoke 20 Jan; m2 left; m5 was kicked; op1 is staff.
    assert [(x["member_id"], x["last_ts"]) for x in r["lurkers"]] == [
        (ids["m3"], None),
        (ids["m1"], "2024-01-01T04:00:00Z"),
    ]
    group = r["groups"][0]
    # known: op1 m1..m5; spoke or joined within 30 days of now (11 Jan .. 10 Feb): none joined
    assert group["members"] == 6
    assert group["messages"] == 5
    assert group["newcomers_30d"] == 0
    assert group["active_members_30d"] == 2  # m4 (20 Jan) and op1 (21 Jan)


def test_events_after_now_are_ignored(store: Store, chat: Chat) -> None:
    _build(chat)
    chat.write(store)
    r = analyse(store, now=at(3))  # Thu 4 Jan 00:00: only m1's message so far
    assert r["messages"]["total"] == 1
    assert r["meta"]["as_of"] == "2024-01-03T16:00:00Z"
    assert [c["joined"] for c in r["retention"]["cohorts"]] == [3]  # m1 m2 m3
    default = analyse(store)
    assert default["meta"]["as_of"] == "2024-01-21T01:00:00Z"  # op1's news, the newest event
