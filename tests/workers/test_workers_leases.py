"""Group leases on a real PostgreSQL: exclusive, fair, taken over, and order kept."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from workers_harness import fresh_database, message, needs_pg

from shequn.botconfig import GroupSettings
from shequn.pipeline import Context
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema
from shequn.workers import Leases, Receiver, Worker, WorkerPipeline
from shequn.workers.loadsim import SETTINGS, stand_in_moderate

pytestmark = needs_pg


@pytest.fixture
def pg() -> Iterator[tuple[str, Store]]:
    yield from fresh_database()


async def _groups(store: Store, n: int) -> None:
    receive = Receiver(store)
    for g in range(n):
        await receive(message(f"g{g}", 0), FakePlatform())


def _disjoint(leases: list[Leases]) -> None:
    held = [set(le.held) for le in leases]
    assert sum(map(len, held)) == len(set().union(*held)), "a group is held twice"


def _fair(leases: list[Leases], n_groups: int) -> None:
    """After a full round every worker is within its share (mid-round it may not be)."""
    quota = math.ceil(n_groups / len(leases))
    assert all(len(le.held) <= quota for le in leases), [len(le.held) for le in leases]


async def test_workers_share_the_groups_and_never_hold_one_twice(
    pg: tuple[str, Store],
) -> None:
    url, store = pg
    await _groups(store, 10)
    leases = [Leases(url, f"w{i}") for i in range(3)]
    try:
        for le in leases:
            le.workers()  # all three sessions exist before the first share is worked out
        for _ in range(3):
            for le in leases:
                le.rebalance(1.0)
                _disjoint(leases)
            _fair(leases, 10)
        assert sorted(len(le.held) for le in leases) == [2, 4, 4]
        assert sum(le.leader for le in leases) == 1  # one worker runs the scheduled jobs

        dead = leases.pop(0)  # a worker dies: its session ends, its locks go with it
        orphans = set(dead.held)
        dead.close()
        for le in leases:
            le.rebalance(2.0)
            _disjoint(leases)
        _fair(leases, 10)
        assert orphans <= set(leases[0].held) | set(leases[1].held)
        assert sorted(len(le.held) for le in leases) == [5, 5]

        newcomer = Leases(url, "w9")  # a new worker: the others give back their excess
        newcomer.workers()
        leases.append(newcomer)
        for _ in range(2):
            for le in leases:
                le.rebalance(3.0)
                _disjoint(leases)
            _fair(leases, 10)
        assert sorted(len(le.held) for le in leases) == [2, 4, 4]
        with store.engine.connect() as conn:
            owners = dict(
                conn.execute(
                    select(schema.group_leases.c.lease_key, schema.group_leases.c.worker)
                ).all()
            )
        for le in leases:
            assert all(owners[k] == le.worker_id for k in le.held)
    finally:
        for le in leases:
            le.close()


async def test_events_of_a_group_are_handled_in_order_across_a_handover(
    pg: tuple[str, Store],
) -> None:
    url, store = pg
    receive = Receiver(store)
    platform = FakePlatform()
    seen: dict[str, list[int]] = defaultdict(list)

    async def note(ctx: Context) -> bool:
        seen[ctx.group_id].append(int(ctx.event.message_id.rsplit("m", 1)[1]))  # type: ignore[union-attr]
        return False

    def worker(name: str) -> Worker:
        pipe = WorkerPipeline(
            store, stand_in_moderate, lambda _p, _g: SETTINGS, rng=random.Random(1)
        )
        pipe.register("note", note, priority=0)
        return Worker(
            store,
            pipe,
            {"fake": platform},
            Leases(url, name),
            batch=7,
            idle=0.005,
            rebalance_every=0.05,
        )

    stops = [asyncio.Event(), asyncio.Event()]
    ws = [worker("a")]
    tasks = [asyncio.create_task(ws[0].run(stops[0]))]
    order = list(range(40))
    for n in order:
        for g in range(6):
            await receive(message(f"g{g}", n, ad=(n % 9 == 4)), platform)
        if n == 10:  # a second worker joins mid-stream: groups move between workers
            ws.append(worker("b"))
            tasks.append(asyncio.create_task(ws[1].run(stops[1])))
        if n % 5 == 0:
            await asyncio.sleep(0.02)
    t = schema.inbox
    for _ in range(400):
        with store.engine.connect() as conn:
            if not conn.execute(select(t.c.id).where(t.c.status == "pending")).first():
                break
        await asyncio.sleep(0.02)
    for s in stops:
        s.set()
    await asyncio.gather(*tasks)
    assert ws[0].processed and ws[1].processed  # groups did move between the workers
    assert dict(seen) == {f"g{g}": order for g in range(6)}  # each once, in order
    deletes = [c.args["message_id"] for c in platform.calls if c.name == "delete"]
    assert sorted(deletes) == sorted({f"g{g}-m{n}" for g in range(6) for n in order if n % 9 == 4})


async def test_a_failing_group_waits_while_the_others_go_on(pg: tuple[str, Store]) -> None:
    url, store = pg
    receive, platform = Receiver(store), FakePlatform()

    def settings(_p: str, group: str) -> GroupSettings:
        if group == "broken":
            raise RuntimeError("settings of this group cannot be read")
        return SETTINGS

    pipe = WorkerPipeline(store, stand_in_moderate, settings)
    w = Worker(store, pipe, {"fake": platform}, Leases(url, "w"), rebalance_every=0.05)
    for n in range(3):
        for g in ("broken", "fine1", "fine2"):
            await receive(message(g, n), platform)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), 1.5)
    stop.set()
    await task
    t = schema.inbox
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.group_id, t.c.status, t.c.attempts).order_by(t.c.id)).all()
    status = {(r.group_id, r.status, r.attempts) for r in rows}
    assert ("fine1", "done", 0) in status and ("fine2", "done", 0) in status
    broken = [(r.status, r.attempts) for r in rows if r.group_id == "broken"]
    assert broken[0][0] == "pending" and broken[0][1] >= 1  # retried with back-off
    assert broken[1:] == [("pending", 0), ("pending", 0)]  # not overtaken: order kept
    assert {r.status for r in rows if r.group_id != "broken"} == {"done"}
