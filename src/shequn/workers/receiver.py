"""The receiver: one per bot account, persisting every event before it is acknowledged.

Platforms allow one consumer per token (Telegram ``getUpdates``, one Discord gateway
session, one Matrix ``/sync`` position), so each account has exactly one receiver.
It is the adapter's event handler: it returns once the event is committed to the
inbox, and only then does the adapter acknowledge it. When the database is away the
insert raises, the adapter stops without acknowledging, and :meth:`Receiver.run`
restarts it after a pause: the platform redelivers and the inbox keeps each key once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.events import Event
from shequn.platforms.port import Adapter, Platform
from shequn.store import Store, schema
from shequn.workers import inbox

__all__ = ["Receiver"]

log = logging.getLogger(__name__)


class Receiver:
    """An :data:`~shequn.platforms.port.EventHandler` writing to the inbox."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.received = 0
        self._groups: set[tuple[str, str]] = set()

    async def __call__(self, event: Event, platform: Platform) -> None:
        now = self.clock()
        group = (platform.name, event.group_id)
        with self.store.engine.begin() as conn:
            if inbox.put(conn, platform.name, event, now):
                self.received += 1
            if group not in self._groups:
                insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
                conn.execute(
                    insert(schema.group_leases)
                    .values(
                        platform=platform.name,
                        group_id=event.group_id,
                        lease_key=inbox.lease_key(*group),
                        first_seen=now,
                    )
                    .on_conflict_do_nothing()
                )
        self._groups.add(group)  # after the commit: a rolled-back insert is retried

    async def run(
        self, adapters: Sequence[Adapter], stop: asyncio.Event, *, restart_delay: float = 5.0
    ) -> None:
        """Feed every adapter into the inbox until ``stop``; restart an adapter that fails."""
        tasks = {asyncio.create_task(a.start(self)): a for a in adapters}
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                for task, adapter in list(tasks.items()):
                    if task.done() and not stop.is_set():
                        if not task.cancelled() and task.exception() is not None:
                            log.error("%s stopped", adapter.name, exc_info=task.exception())
                        del tasks[task]
                        await asyncio.sleep(restart_delay)
                        tasks[asyncio.create_task(adapter.start(self))] = adapter
        finally:
            for adapter in adapters:
                with contextlib.suppress(Exception):
                    await adapter.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
