"""The inbox: idempotent by event key, lossless encoding, done in the event's transaction."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select
from workers_harness import message

from shequn.events import MemberJoined, MemberRef
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema
from shequn.workers import inbox
from shequn.workers.loadsim import SETTINGS, stand_in_moderate
from shequn.workers.receiver import Receiver
from shequn.workers.worker import WorkerPipeline


def _inbox(store: Store) -> list[tuple[str, str]]:
    t = schema.inbox
    with store.engine.connect() as conn:
        return [(r.event_key, r.status) for r in conn.execute(select(t).order_by(t.c.id))]


async def test_a_redelivered_event_is_stored_once(store: Store) -> None:
    receive = Receiver(store)
    platform = FakePlatform()
    ev = message("g1", 1)
    for _ in range(3):  # the platform redelivers until it sees an acknowledgement
        await receive(ev, platform)
    await receive(message("g1", 2), platform)
    assert _inbox(store) == [("msg:g1:g1-m1", "pending"), ("msg:g1:g1-m2", "pending")]
    assert receive.received == 2
    with store.engine.connect() as conn:
        groups = conn.execute(select(schema.group_leases)).all()
    assert [(g.platform, g.group_id, g.lease_key) for g in groups] == [
        ("fake", "g1", inbox.lease_key("fake", "g1"))
    ]


def test_rows_decode_to_the_event_they_were_made_from(store: Store) -> None:
    joined = MemberJoined("fake", "g2", "j1", 5.0, MemberRef("bob", "Bob", is_bot=True))
    events = [message("g1", 1, ad=True), joined]
    with store.engine.begin() as conn:
        for ev in events:
            assert inbox.put(conn, "fake", ev, 1.0)
        rows = conn.execute(select(schema.inbox).order_by(schema.inbox.c.id)).all()
    assert [inbox.decode(r.kind, r.payload) for r in rows] == events


def test_lease_keys_are_stable_signed_64_bit() -> None:
    keys = {inbox.lease_key("telegram", f"-100{i}") for i in range(10_000)}
    assert len(keys) == 10_000
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert inbox.lease_key("fake", "g1") == inbox.lease_key("fake", "g1")
    assert inbox.lease_key("a", "bc") != inbox.lease_key("ab", "c")


async def test_the_row_is_done_in_the_event_transaction_or_not_at_all(store: Store) -> None:
    receive, platform = Receiver(store), FakePlatform()
    pipeline = WorkerPipeline(
        store, stand_in_moderate, lambda _p, _g: SETTINGS, rng=random.Random(1)
    )
    crash = True

    async def dies_mid_transaction(_ctx: object) -> bool:
        if crash:  # not an Exception: nothing catches it, like the process dying
            raise KeyboardInterrupt
        return False

    pipeline.register("dies", dies_mid_transaction, priority=1)
    ad = message("g1", 1, ad=True)
    await receive(ad, platform)
    with pytest.raises(KeyboardInterrupt):
        await pipeline.handle(ad, platform)
    assert _inbox(store) == [("msg:g1:g1-m1", "pending")]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.processed_events)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(schema.bot_actions)).scalar() == 0

    crash = False
    assert await pipeline.handle(ad, platform)
    assert _inbox(store) == [("msg:g1:g1-m1", "done")]
    assert [c.name for c in platform.calls] == ["delete", "send"]
    assert not await pipeline.handle(ad, platform)  # handled before: nothing again
    assert [c.name for c in platform.calls] == ["delete", "send"]


async def test_a_sweep_only_carries_out_the_held_groups_actions(store: Store) -> None:
    platform = FakePlatform()
    pipeline = WorkerPipeline(store, stand_in_moderate, lambda _p, _g: SETTINGS)
    pipeline.attach(platform)
    from shequn.actions.moderation import plan

    with store.engine.begin() as conn:
        for g in ("mine", "theirs"):
            plan(
                conn, platform, group_id=g, kind="delete", now=1.0, params={"message_id": f"{g}-m1"}
            )
    # The groups a worker leases (no fence here: this test is about the sweep).
    pipeline.owned_groups = lambda p: {"mine"} if p == "fake" else set()  # type: ignore[method-assign]
    assert await pipeline.resume() == 1
    assert [c.args["group_id"] for c in platform.calls] == ["mine"]
