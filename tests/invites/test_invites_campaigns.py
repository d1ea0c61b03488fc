"""Fission campaigns: invites count after the gate and N days; fraud rules; rewards once; tree."""

from __future__ import annotations

import asyncio

from invites_helpers import DAY, T0, Clock, fake, join, leave, pipeline, rows, settings

from shequn.events import MemberRef, MessagePosted
from shequn.features import invites
from shequn.features.checkin.points import points_balance
from shequn.features.gate import GateSettings
from shequn.features.invites import campaigns, fraud, tree
from shequn.store import Store, schema

G, G2 = "-1001", "-1002"
REF = "5000"


def _campaign(store: Store, tiers: str = "2=20 points; 3=红包5元", stay: float | None = 7) -> int:
    with store.engine.begin() as conn:
        cid = campaigns.create_campaign(
            conn, name="拉新", now=T0, tiers=campaigns.parse_tiers(tiers), stay_days=stay
        )
        campaigns.enrol(conn, cid, "telegram", REF, name="Alice", group_id=G, now=T0,
                        link="https://t.me/+alice")  # fmt: skip
    return cid


def _settle(store: Store, now: float) -> None:
    with store.engine.begin() as conn:
        invites.tick(conn, {}, lambda _p, _g: settings(), now)


def _status(store: Store) -> dict[str, tuple[str, str]]:
    return {r.member_id: (r.status, r.reason) for r in rows(store, schema.invite_joins)}


def test_invites_count_after_the_gate_and_n_days_and_rewards_come_once(store: Store) -> None:
    cid = _campaign(store)
    gate = GateSettings(mode="invite_code", invite_codes=("芝麻开门",), time_limit=300)
    clock = Clock()
    p, tg = pipeline(store, clock, settings(gate=gate)), fake()
    link = "https://t.me/+alice"
    for i, who in enumerate(("7101", "8202", "9303", "6404")):
        asyncio.run(
            p.handle(join(G, who, T0 + i * 7200, name=f"名字{chr(65 + i)}x", invite=link), tg)
        )
    for i, who in enumerate(("7101", "8202", "9303")):  # 6404 never answers the gate
        answer = MessagePosted("telegram", G, f"a{who}", T0 + i * 7200 + 5, MemberRef(who),
                               text="芝麻开门")  # fmt: skip
        asyncio.run(p.handle(answer, tg))
    clock.now = T0 + 3600 * 9
    asyncio.run(p.tick())  # 6404's gate times out
    clock.now = T0 + 6 * DAY
    _settle(store, clock.now)  # the invites tick job alone (the full tick runs below)
    assert {s for s, _r in _status(store).values()} == {"pending"}  # not 7 days yet
    asyncio.run(p.handle(leave(G, "9303", T0 + 6.5 * DAY), tg))  # left before 7 days
    clock.now = T0 + 8 * DAY
    asyncio.run(p.tick())
    assert _status(store) == {
        "7101": ("qualified", ""), "8202": ("qualified", ""), "9303": ("left", "left_early"),
        "6404": ("gate_failed", "gate"),
    }  # fmt: skip
    rewards = rows(store, schema.invite_rewards)
    assert [(r.threshold, r.points, r.status) for r in rewards] == [(2, 20, "credited")]
    with store.engine.connect() as conn:
        assert points_balance(conn, "telegram", G, REF) == 20
        board = campaigns.leaderboard(conn, cid)
    assert (board[0]["member_id"], board[0]["qualified"], board[0]["left"]) == (REF, 2, 2)
    # a restart (a new pipeline over the same store) and more ticks grant nothing again
    p2 = pipeline(store, clock, settings(gate=gate))
    clock.now = T0 + 9 * DAY
    asyncio.run(p2.tick())
    _settle(store, T0 + 10 * DAY)
    assert len(rows(store, schema.invite_rewards)) == 1
    with store.engine.connect() as conn:
        assert points_balance(conn, "telegram", G, REF) == 20
    # the third counted invite reaches the next tier: a reward for the team to hand out
    asyncio.run(p2.handle(join(G, "5505", T0 + 9 * DAY, name="Zed", invite=link), tg))
    asyncio.run(p2.handle(MessagePosted("telegram", G, "a5505", T0 + 9 * DAY + 5,
                                        MemberRef("5505"), text="芝麻开门"), tg))  # fmt: skip
    clock.now = T0 + 17 * DAY
    asyncio.run(p2.tick())
    assert [(r.threshold, r.status) for r in rows(store, schema.invite_rewards)] == [
        (2, "credited"), (3, "to_hand_out"),
    ]  # fmt: skip


def test_fraud_rules_flag_and_never_count_and_the_tree(store: Store) -> None:
    _campaign(store, tiers="1=1 points", stay=None)  # the group's setting decides: 1 day
    clock = Clock()
    p, tg = pipeline(store, clock, settings(burst_minutes=30, burst_size=3, stay_days=1)), fake()
    # self invite: the referrer joined through their own personal link
    asyncio.run(p.handle(join(G, REF, T0, name="Alice", invite="https://t.me/+alice"), tg))
    # alt account: an id right next to the referrer's
    asyncio.run(p.handle(join(G, "5002", T0 + 1, name="Bob", inviter=REF), tg))
    # a burst of look-alike names within 30 minutes
    for i in range(3):
        asyncio.run(p.handle(join(G, f"{100 + i * 977}", T0 + 600 + i * 60, name=f"小明{i + 1}号",
                                  inviter=REF), tg))  # fmt: skip
    # a burst of consecutive ids with unrelated names, two hours later
    for i, name in enumerate(("Kate", "Omar", "Pia")):
        asyncio.run(p.handle(join(G, f"88000{i}", T0 + 7200 + i * 60, name=name, inviter=REF), tg))
    # an instant leaver, and the same person joining another group again
    asyncio.run(p.handle(join(G, "4321", T0 + 20000, name="Quinn", inviter=REF), tg))
    asyncio.run(p.handle(leave(G, "4321", T0 + 20300), tg))
    asyncio.run(p.handle(join(G, "2468", T0 + 30000, name="Rosa", inviter=REF), tg))
    asyncio.run(p.handle(join(G2, "2468", T0 + 40000, name="Rosa", inviter=REF), tg))
    # one honest invite that brings someone in turn, in another group: the tree spans groups
    asyncio.run(p.handle(join(G2, "1357", T0 + 50000, name="Sam", inviter="2468"), tg))
    clock.now = T0 + 3 * DAY
    asyncio.run(p.tick())
    got = {
        (r.group_id, r.member_id): (r.status, r.reason) for r in rows(store, schema.invite_joins)
    }
    assert got[(G, REF)] == ("flagged", "self_invite")
    assert got[(G, "5002")] == ("flagged", "alt_account")
    assert {got[(G, m)] for m in ("100", "1077", "2054")} == {("flagged", "burst_names")}
    assert {got[(G, f"88000{i}")] for i in range(3)} == {("flagged", "burst_ids")}
    assert got[(G, "4321")] == ("flagged", "instant_leave")
    assert got[(G, "2468")] == ("qualified", "")
    assert got[(G2, "2468")] == ("flagged", "repeat")
    # Sam was brought by Rosa, whom the campaign enrolled as a referrer by herself
    assert got[(G2, "1357")] == ("qualified", "")
    with store.engine.connect() as conn:
        flagged = campaigns.flagged(conn, 1)
        board = campaigns.leaderboard(conn, 1)
        roots = tree.build(conn)
    assert len(flagged) == 10 and all(f.reason for f in flagged)
    assert [(b["member_id"], b["qualified"], b["flagged"]) for b in board] == [
        (REF, 1, 10), ("2468", 1, 0),
    ]  # fmt: skip
    alice = next(n for n in roots if n.key == ("telegram", REF))
    rosa = next(n for n in alice.children if n.key[1] == "2468")
    assert [c.key[1] for c in rosa.children] == ["1357"] and rosa.children[0].group_id == G2
    assert alice.depth == 3  # Alice -> Rosa -> Sam
    # seed users: Alice marked by hand; her downstream tree counts everyone below
    with store.engine.begin() as conn:
        assert tree.mark_seed(conn, "telegram", REF, now=clock.now, by="test")
        assert not tree.mark_seed(conn, "telegram", REF, now=clock.now)
        assert tree.mark_first_seeds(conn, "telegram", G2, 1, now=clock.now) == 1
        seeds = {s["member_id"]: s for s in tree.seeds(conn)}
    assert seeds[REF]["downstream"] == alice.size == 10  # 9 invitees + Sam
    assert seeds[REF]["depth"] == 2
    assert seeds["2468"]["source"] == "first" and seeds["2468"]["downstream"] == 1


def test_fraud_rules_in_isolation() -> None:
    new = fraud.Invitee("42", "Lucky Star 3", 1000.0)
    earlier = [fraud.Invitee("7", "lucky_star_1", 900.0), fraud.Invitee("9", "Lucky-Star 2", 950.0)]
    assert fraud.burst(new, earlier, minutes=5, size=3, similarity=0.85, id_window=5) == (
        "burst_names", ["7", "9"],
    )  # fmt: skip
    # too far apart in time: no burst
    assert fraud.burst(new, earlier, minutes=0.5, size=3, similarity=0.85, id_window=5) is None
    assert fraud.self_invite("123", "Alice", fraud.Invitee("125", "Zed", 0), similarity=0.85,
                             id_window=5) == "alt_account"  # fmt: skip
    assert fraud.self_invite("123", "Alice", fraud.Invitee("999", "Zed", 0), similarity=0.85,
                             id_window=5) is None  # fmt: skip
    assert campaigns.parse_tiers("10=100 积分；3=红包5元") == [
        {"n": 3, "reward": "红包5元", "points": 0}, {"n": 10, "reward": "100 积分", "points": 100},
    ]  # fmt: skip
