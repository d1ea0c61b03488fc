"""A bot worker: runs the inbox rows of the groups it leases through the pipeline.

One loop, one thing at a time: rebalance the leases, read a batch of pending rows of
the held groups (oldest first), hand each to :meth:`Pipeline.handle`, carry out what
is left planned, run the scheduled jobs when this worker holds the tick lease. A
lease is only given back between two events, so a group is never mid-event in two
workers; a worker that dies mid-event leaves an uncommitted transaction that
PostgreSQL rolls back, and the row is still pending for the next owner.

A row whose handling raises is retried with back-off; its group waits (order is
kept) while the other groups go on. After :data:`MAX_ATTEMPTS` it is marked
``failed`` with an alert, and its group moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, select

from shequn.actions.moderation import raise_alert
from shequn.events import Event
from shequn.pipeline import DB_UNAVAILABLE, Pipeline
from shequn.platforms.port import Platform
from shequn.store import Store, schema
from shequn.workers import inbox
from shequn.workers.leases import Leases

__all__ = ["MAX_ATTEMPTS", "LeaseLost", "Worker", "WorkerPipeline"]

log = logging.getLogger(__name__)

#: Attempts at one inbox row before it is set aside as ``failed``.
MAX_ATTEMPTS = 5
#: Done inbox rows are kept this long (the archive keeps the events themselves).
INBOX_RETENTION = 86400.0


class LeaseLost(RuntimeError):
    """The group's lease moved to another worker while this one was handling its event."""


class WorkerPipeline(Pipeline):
    """The pipeline with the worker rules, through :class:`Pipeline`'s public hooks.

    - :meth:`on_claim`: the event's inbox row is marked done in the transaction that
      claims the event, after checking (FOR SHARE) that the group's lease epoch is
      still this worker's; if not, :class:`LeaseLost` rolls the event back;
    - :meth:`owned_groups`: :meth:`resume` and :meth:`tick` carry out planned calls of
      *held* groups only: another worker owns the rest and carries them out itself;
    - :attr:`fence`: every call is made in a transaction that checks the epoch the
      same way and re-reads the row (still ``planned``), and is skipped otherwise.

    Without ``leases`` (the tick pipeline, unit tests) it owns no group and fences
    nothing.
    """

    def __init__(self, *args: Any, leases: Leases | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.leases = leases
        if leases is not None:
            self.fence = self._fence

    def on_claim(self, conn: Connection, platform: str, event: Event, key: str, now: float) -> None:
        if self.leases is not None and not self.leases.fence(conn, platform, event.group_id):
            raise LeaseLost(f"{platform} group {event.group_id} is no longer leased here")
        inbox.mark_done(conn, platform, key, now)

    def owned_groups(self, platform: str) -> Collection[str] | None:
        if self.leases is None:
            return ()
        return {g for p, g in self.leases.held.values() if p == platform}

    def _fence(self, conn: Connection, row: Any) -> bool:
        assert self.leases is not None
        if not self.leases.fence(conn, row.platform, row.group_id):
            return False
        t = schema.bot_actions
        status = conn.execute(
            select(t.c.status).where(t.c.id == row.id).with_for_update()
        ).scalar_one_or_none()
        return status == "planned"  # a previous owner may have carried it out meanwhile


class Worker:
    """One worker process's loop (or one task in tests)."""

    def __init__(
        self,
        store: Store,
        pipeline: WorkerPipeline,
        platforms: Mapping[str, Platform],
        leases: Leases,
        *,
        batch: int = 100,
        idle: float = 0.02,
        rebalance_every: float = 1.0,
        sweep_every: float = 5.0,
        tick_every: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.platforms = dict(platforms)
        self.leases = leases
        self.batch = batch
        self.idle = idle
        self.rebalance_every = rebalance_every
        self.sweep_every = sweep_every
        self.tick_every = tick_every
        self.clock = clock
        self.processed = 0
        self._backoff: dict[int, float] = {}  # lease key -> monotonic time to try again
        self._next_rebalance = 0.0
        self._next_sweep = 0.0
        self._next_tick = 0.0
        self._ticking: asyncio.Future[None] | None = None
        # The periodic jobs take seconds on a busy archive (measured 3-4 s after a few
        # hundred events): they run in a thread, on a pipeline of their own that only
        # plans calls, so this worker's groups do not wait for them. The calls are
        # carried out by each group's owner on its next sweep.
        self._ticker = WorkerPipeline(
            store,
            pipeline.moderate,
            pipeline.settings_for_group,
            pipeline.clock,
            db_patience=pipeline.db_patience,
        )
        self._ticker._tick_jobs = pipeline._tick_jobs  # plugins' jobs too
        if pipeline.leases is None:
            pipeline.leases = leases
            pipeline.fence = pipeline._fence
        for p in self.platforms.values():
            pipeline.attach(p)
            self._ticker.attach(p)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; a database outage drops the leases and reconnects."""
        delay = 0.5
        try:
            while not stop.is_set():
                try:
                    n = await self.step()
                    delay = 0.5
                except DB_UNAVAILABLE as exc:
                    log.error("database unavailable, leases dropped: %s", exc)
                    self.leases.lost()
                    self._next_rebalance = 0.0
                    n = 0
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    delay = min(delay * 2, 8.0)
                if n == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.idle)
        finally:
            if self._ticking is not None:
                await asyncio.wait([self._ticking])
            self.leases.close()

    async def step(self) -> int:
        """One round: rebalance when due, a batch of rows, sweeps and ticks when due."""
        mono = time.monotonic()
        if mono >= self._next_rebalance:
            taken, given = self.leases.rebalance(self.clock())
            self._next_rebalance = mono + self.rebalance_every
            if taken or given:
                log.info(
                    "%s: took %d groups, gave back %d, holds %d",
                    self.leases.worker_id,
                    len(taken),
                    len(given),
                    len(self.leases.held),
                )
            if taken:
                self._next_sweep = 0.0  # a dead owner's planned calls go out first
        if mono >= self._next_sweep:
            self._next_sweep = mono + self.sweep_every
            await self.pipeline.resume()
        idle_ticker = self._ticking is None or self._ticking.done()
        if self.leases.leader and mono >= self._next_tick and idle_ticker:
            self._next_tick = mono + self.tick_every
            self._ticking = asyncio.ensure_future(asyncio.to_thread(self._tick_in_thread))
        keys = [k for k in self.leases.held if self._backoff.get(k, 0.0) <= mono]
        with self.store.engine.connect() as conn:
            rows = inbox.pending(conn, keys, self.batch)
        blocked: set[int] = set()
        for row in rows:
            if row.lease_key in blocked or row.lease_key not in self.leases.held:
                continue
            if not await self._process(row):
                blocked.add(row.lease_key)
        return len(rows)

    def _tick_in_thread(self) -> None:
        started = time.monotonic()
        try:
            asyncio.run(self._ticker.tick())
            t = schema.inbox
            with self.store.engine.begin() as conn:
                old = self.clock() - INBOX_RETENTION
                conn.execute(delete(t).where(t.c.status == "done", t.c.done_at < old))
        except Exception:
            log.exception("tick failed")
        log.info("tick took %.2f s", time.monotonic() - started)

    async def _process(self, row: inbox.Row) -> bool:
        """Handle one row; ``False`` when its group must wait (the row stays pending)."""
        platform = self.platforms.get(row.platform)
        try:
            if platform is None:
                raise LookupError(f"this worker has no platform {row.platform!r}")
            event = inbox.decode(row.kind, row.payload)
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError, LookupError) as exc:
            self._give_up(row, f"{type(exc).__name__}: {exc}")  # no retry can mend it
            return True
        try:
            await self.pipeline.handle(event, platform)
        except DB_UNAVAILABLE:
            raise
        except LeaseLost as exc:
            # Another worker took the group: this lease session died unnoticed, so
            # none of its leases is ours any more. Start over; the row is still
            # pending and its new owner processes it.
            log.warning("inbox row %s: %s; leases dropped", row.id, exc)
            self.leases.lost()
            self._next_rebalance = 0.0
            return False
        except Exception as exc:
            log.exception("inbox row %s (%s) failed", row.id, row.event_key)
            error = f"{type(exc).__name__}: {exc}"
            if row.attempts + 1 >= MAX_ATTEMPTS:
                self._give_up(row, error)
                return True
            with self.store.engine.begin() as conn:
                inbox.retry_later(conn, row.id, error)
            self._backoff[row.lease_key] = time.monotonic() + min(2.0**row.attempts, 60.0)
            return False
        self._backoff.pop(row.lease_key, None)
        self.processed += 1
        return True

    def _give_up(self, row: inbox.Row, error: str) -> None:
        log.error("inbox row %s (%s) set aside: %s", row.id, row.event_key, error)
        with self.store.engine.begin() as conn:
            inbox.fail(conn, row.id, error, self.clock())
            raise_alert(
                conn,
                platform=row.platform,
                group_id=row.group_id,
                kind="failed",
                now=self.clock(),
                detail=f"event {row.event_key} could not be processed: {error}"[:2000],
            )
        self._backoff.pop(row.lease_key, None)
