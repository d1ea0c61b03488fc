"""Fencing: a worker whose lease session dropped while it keeps running sends nothing twice.

Real PostgreSQL, real advisory locks, the lease connection really terminated
(``pg_terminate_backend``). Worker A is carrying out a call of group g0 when its lease
session dies; worker B takes g0 and sweeps its planned calls at once. Without the
fencing token B makes the call A is making (the ``unfenced`` control run proves the
harness reproduces that double); with it B's takeover waits for A's call to be marked
done, and A's later calls and events for g0 are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select, text
from workers_harness import fresh_database, message, needs_pg

from shequn.actions.moderation import plan
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema
from shequn.workers import Leases, Receiver, WorkerPipeline
from shequn.workers.loadsim import SETTINGS, stand_in_moderate
from shequn.workers.worker import LeaseLost

pytestmark = needs_pg


@pytest.fixture(scope="module")
def pg_db() -> Iterator[tuple[str, Store]]:
    yield from fresh_database()  # one database for both runs (creating one takes ~3 s)


@pytest.fixture
def pg(pg_db: tuple[str, Store]) -> tuple[str, Store]:
    _url, store = pg_db
    with store.engine.begin() as conn:
        for t in ("group_leases", "inbox", "bot_actions", "processed_events", "messages"):
            conn.execute(text(f"TRUNCATE {t} CASCADE"))
    return pg_db


@dataclass
class SlowPlatform(FakePlatform):
    """Deletes wait for ``release`` once ``hold`` is set: a call in flight on demand."""

    hold: bool = False
    entered: threading.Event = field(default_factory=threading.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        if self.hold:
            self.entered.set()
            await self.release.wait()
        await super().delete(group_id, message_id, reason=reason)


def _pipeline(store: Store, leases: Leases, platform: FakePlatform) -> WorkerPipeline:
    pipe = WorkerPipeline(store, stand_in_moderate, lambda _p, _g: SETTINGS, leases=leases)
    pipe.attach(platform)
    return pipe


def _plan(store: Store, platform: FakePlatform, group: str, mid: str) -> int:
    with store.engine.begin() as conn:
        return plan(
            conn, platform, group_id=group, kind="delete", now=1.0, params={"message_id": mid}
        )


def _drop_session(store: Store, leases: Leases) -> None:
    """Terminate ``leases``' connection on the server; the worker is not told."""
    pid = leases._session().execute(text("SELECT pg_backend_pid()")).scalar_one()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()


def _deletes(*platforms: FakePlatform) -> list[str]:
    return [c.args["message_id"] for p in platforms for c in p.calls if c.name == "delete"]


@pytest.mark.parametrize("fenced", [True, False], ids=["fenced", "unfenced"])
async def test_a_dropped_lease_session_never_sends_twice(
    pg: tuple[str, Store], fenced: bool
) -> None:
    url, store = pg
    await Receiver(store)(message("g0", 0), FakePlatform())  # the group exists
    a_platform, b_platform = SlowPlatform(), FakePlatform()
    a_leases, b_leases = Leases(url, "A"), Leases(url, "B")
    a, b = _pipeline(store, a_leases, a_platform), _pipeline(store, b_leases, b_platform)
    if not fenced:
        a.fence = b.fence = None
    try:
        a_leases.rebalance(1.0)
        assert list(a_leases.held.values()) == [("fake", "g0")]
        assert list(a_leases.epochs.values()) == [1]

        # A is carrying out a call of g0 when its lease session is dropped.
        _plan(store, a_platform, "g0", "x")
        a_platform.hold = True
        a_sweep = asyncio.ensure_future(a.resume())
        assert await asyncio.to_thread(a_platform.entered.wait, 5.0)
        _drop_session(store, a_leases)

        # B takes g0 (the advisory lock is free) in a thread: with the fence the
        # epoch bump waits until A's call is marked done.
        b_leases.workers()
        b_take = asyncio.ensure_future(asyncio.to_thread(b_leases.rebalance, 2.0))
        await asyncio.sleep(0.5)
        if fenced:
            assert not b_take.done(), "the takeover did not wait for the call in flight"
        else:
            assert b_take.done()
            await b.resume()  # B sweeps while A's call is in flight
        a_platform.release.set()
        await a_sweep
        await b_take
        assert [g for _p, g in b_leases.held.values()] == ["g0"]
        assert list(b_leases.epochs.values()) == [2]
        await b.resume()
        if not fenced:
            assert _deletes(a_platform, b_platform) == ["x", "x"]  # the double, reproduced
            return
        assert _deletes(a_platform, b_platform) == ["x"]

        # A still believes it holds g0: its calls and events for g0 are refused.
        a_platform.hold = False
        y = _plan(store, a_platform, "g0", "y")
        assert await a.resume() == 0
        ad = message("g0", 1, ad=True)
        await Receiver(store)(ad, FakePlatform())
        with pytest.raises(LeaseLost):
            await a.handle(ad, a_platform)
        with store.engine.connect() as conn:
            assert (
                conn.execute(select(func.count()).select_from(schema.processed_events)).scalar()
                == 0
            )
            status = conn.execute(
                select(schema.bot_actions.c.status).where(schema.bot_actions.c.id == y)
            ).scalar_one()
        assert status == "planned"
        # Its new owner carries out y and handles the event, once.
        assert await b.resume() == 1
        assert await b.handle(ad, b_platform)
        assert _deletes(a_platform, b_platform) == ["x", "y", "g0-m1"]
    finally:
        a_platform.release.set()
        for le in (a_leases, b_leases):
            with contextlib.suppress(Exception):
                le.close()
