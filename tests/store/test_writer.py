"""The writer's natural keys and identity rules, on every backend."""

from __future__ import annotations

from sqlalchemy import func, select

from shequn.events import (
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.store import Store, schema
from shequn.store.writer import ArchiveWriter

ALICE = MemberRef("u1", "Alice")
BOB = MemberRef("u2", "鲍勃")


def _events() -> list[object]:
    return [
        GroupSeen("qq", "g1", "测试群"),
        MemberJoined("qq", "g1", "j1", 100.0, BOB, ALICE, JoinMethod.INVITED),
        MessagePosted("qq", "g1", "m1", 101.0, ALICE, "hi @鲍勃", mentions=(BOB,)),
        MessagePosted("qq", "g1", "m2", 102.0, BOB, "你好", reply_to="m1"),
        MessagePosted(
            "qq", "g1", "m3", 103.0, MemberRef("u2", "Bob Renamed"), "[图片]", MessageKind.IMAGE
        ),
        ReactionAdded("qq", "g1", "m1", "👍", 1, BOB),
        MemberRenamed("qq", "g1", "r1", 103.0, BOB, "鲍勃", "Bob Renamed"),
        MemberLeft("qq", "g1", "l1", 200.0, BOB, ALICE),
    ]


def _write(store: Store) -> ArchiveWriter:
    with store.engine.begin() as conn:
        w = ArchiveWriter(conn)
        w.add_all(_events())  # type: ignore[arg-type]
    return w


#: The tables the writer fills (schema.py also holds the bot engine's tables).
_ARCHIVE = ("groups", "members", "member_names", "messages", "mentions",
            "membership_events", "reactions", "renames")  # fmt: skip


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in schema.metadata.sorted_tables
            if t.name in _ARCHIVE
        }


def test_every_event_lands_once(store: Store) -> None:
    w = _write(store)
    assert w.stats.messages == 3 and w.stats.memberships == 2
    assert w.stats.reactions == 1 and w.stats.renames == 1
    assert _counts(store) == {
        "groups": 1, "members": 2, "member_names": 3, "messages": 3, "mentions": 1,
        "membership_events": 2, "reactions": 1, "renames": 1,
    }  # fmt: skip
    again = _write(store)
    assert again.stats.new_rows == 0 and again.stats.duplicates == 7
    assert _counts(store)["messages"] == 3


def test_identity_and_names(store: Store) -> None:
    _write(store)
    with store.engine.connect() as conn:
        members = {r.platform_id: r for r in conn.execute(select(schema.members))}
        names = sorted(conn.execute(select(schema.member_names.c.name)).scalars())
        kick = conn.execute(select(schema.membership_events).where(
            schema.membership_events.c.action == "kick")).one()  # fmt: skip
        group = conn.execute(select(schema.groups)).one()
    assert members["u2"].name == "Bob Renamed"  # the latest name shown wins
    assert names == ["Alice", "Bob Renamed", "鲍勃"]
    assert kick.actor_id == members["u1"].id and kick.member_id == members["u2"].id
    assert group.name == "测试群"


def test_same_ids_on_other_platform_are_other_people(store: Store) -> None:
    with store.engine.begin() as conn:
        w = ArchiveWriter(conn)
        w.add_all([
            MessagePosted("qq", "g1", "m1", 1.0, ALICE, "a"),
            MessagePosted("telegram", "g1", "m1", 1.0, ALICE, "a"),
        ])  # fmt: skip
    counts = _counts(store)
    assert counts["groups"] == 2 and counts["members"] == 2 and counts["messages"] == 2


def test_latest_name_is_by_event_time_not_arrival(store: Store) -> None:
    with store.engine.begin() as conn:
        ArchiveWriter(conn).add_all(
            [
                MessagePosted("qq", "g1", "m2", 200.0, MemberRef("u9", "新名字"), "later"),
                # a join reported at the end of the file, under the old nickname
                MemberJoined("qq", "g1", "j1", 100.0, MemberRef("u9", "旧名字")),
            ]
        )
    with store.engine.begin() as conn:  # a later import of an even older export
        ArchiveWriter(conn).add_all(
            [MessagePosted("qq", "g1", "m0", 50.0, MemberRef("u9", "最早"), "x")]
        )
    with store.engine.connect() as conn:
        name = conn.execute(select(schema.members.c.name)).scalar_one()
    assert name == "新名字"


def test_nul_characters_are_dropped_on_every_backend(store: Store) -> None:
    evil = MemberRef("u\x00x", "na\x00me")
    with store.engine.begin() as conn:
        ArchiveWriter(conn).add_all(
            [
                MessagePosted("qq", "g1", "m1", 1.0, evil, "a\x00b"),
                MessagePosted("qq", "g1", "m2", 2.0, MemberRef("u\x00x", "re\x00named"), "c"),
            ]
        )
    with store.engine.connect() as conn:
        texts = (
            conn.execute(select(schema.messages.c.text).order_by(schema.messages.c.ts))
            .scalars()
            .all()
        )
        names = set(conn.execute(select(schema.member_names.c.name)).scalars())
        name = conn.execute(select(schema.members.c.name)).scalar_one()
    assert texts == ["ab", "c"]
    assert names == {"name", "renamed"} and name == "renamed"
