"""Group leases: PostgreSQL session advisory locks, one per group, shared fairly.

A worker holds its leases on one dedicated connection (no pool: a pooled connection
handed back would keep its locks). When the worker dies the kernel closes that socket,
PostgreSQL ends the session and every lock it held is free at once; the server-side
TCP keepalives set here bound the same for a worker that vanished with its network.

Live workers are counted from ``pg_stat_activity`` by the connection's
``application_name``: no heartbeat table to go stale. Each :meth:`Leases.rebalance`
takes free groups up to ``ceil(groups / workers)`` and gives back what is over it, so
a new worker gets its share and a dead worker's groups are taken within one period.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable

from sqlalchemy import Connection, create_engine, select, text, update
from sqlalchemy.pool import NullPool

from shequn.store import resolve_url, schema
from shequn.workers.inbox import lease_key

__all__ = ["APP_NAME", "TICK_KEY", "Leases"]

log = logging.getLogger(__name__)

APP_NAME = "shequn-worker"
#: The singleton lease of the worker that runs :meth:`Pipeline.tick` (scheduled jobs).
TICK_KEY = lease_key("shequn", "\x00tick")

_ADVISORY = text(
    "SELECT classid::bigint AS hi, objid::bigint AS lo FROM pg_locks "
    "WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _signed(hi: int, lo: int) -> int:
    u = (hi << 32) | lo
    return u - (1 << 64) if u >= 1 << 63 else u


class Leases:
    """The leases of one worker: ``held`` maps lease key -> (platform, group_id)."""

    def __init__(self, url: str, worker_id: str, *, app_name: str = APP_NAME) -> None:
        self.worker_id = worker_id
        self.app_name = app_name
        self.engine = create_engine(
            resolve_url(url),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": app_name, "connect_timeout": 5},
        )
        self.held: dict[int, tuple[str, str]] = {}
        #: lease key -> the fencing epoch this worker got when it took the lease.
        self.epochs: dict[int, int] = {}
        self.leader = False
        self._conn: Connection | None = None

    # -- the session ----------------------------------------------------------------

    def _session(self) -> Connection:
        if self._conn is None:
            conn = self.engine.connect()
            # The server notices a worker whose machine or network vanished in ~11 s.
            conn.execute(text("SET tcp_keepalives_idle = 5"))
            conn.execute(text("SET tcp_keepalives_interval = 2"))
            conn.execute(text("SET tcp_keepalives_count = 3"))
            # Taking a lease waits for a lost owner's call in flight (the fence); never
            # forever: past this the worker treats the database as unavailable.
            conn.execute(text("SET lock_timeout = '20s'"))
            self._conn = conn
        return self._conn

    def close(self) -> None:
        """End the session: every lease is given back at once."""
        self.held.clear()
        self.epochs.clear()
        self.leader = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # a dead session has nothing left to release
                log.debug("closing a dead lease session", exc_info=True)
            self._conn = None
        self.engine.dispose()

    def lost(self) -> None:
        """The session failed: its locks are gone with it; forget them and reconnect later."""
        self.held.clear()
        self.epochs.clear()
        self.leader = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
            except Exception:
                log.debug("invalidating a dead lease session", exc_info=True)
            self._conn = None

    # -- leases ---------------------------------------------------------------------

    def workers(self) -> int:
        q = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = :app AND datname = current_database()"
        )
        return int(self._session().execute(q, {"app": self.app_name}).scalar_one())

    def _try(self, key: int) -> bool:
        q = text("SELECT pg_try_advisory_lock(:k)")
        return bool(self._session().execute(q, {"k": key}).scalar_one())

    def _try_many(self, keys: list[int]) -> list[int]:
        q = text("SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k WHERE pg_try_advisory_lock(k)")
        return [int(k) for k in self._session().execute(q, {"keys": keys}).scalars()]

    def _unlock(self, keys: list[int]) -> None:
        q = text("SELECT pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")
        self._session().execute(q, {"keys": keys})

    def rebalance(self, now: float) -> tuple[list[int], list[int]]:
        """Take free groups up to the fair share, give back the excess: (taken, given)."""
        conn = self._session()
        gl = schema.group_leases
        groups = {
            r.lease_key: (r.platform, r.group_id)
            for r in conn.execute(select(gl.c.platform, gl.c.group_id, gl.c.lease_key))
        }
        quota = math.ceil(len(groups) / max(self.workers(), 1))
        given: list[int] = []
        if len(self.held) > quota:
            # Give back the most recently taken first (they carry the least state).
            given = list(self.held)[quota:]
            self._unlock(given)
            for key in given:
                del self.held[key]
                self.epochs.pop(key, None)
        taken: list[int] = []
        if len(self.held) < quota:
            busy = {_signed(r.hi, r.lo) for r in conn.execute(_ADVISORY)}
            free = [k for k in groups if k not in busy and k not in self.held]
            # Start at a point of our own so new workers do not all race for one group.
            start = zlib.crc32(self.worker_id.encode())
            free.sort(key=lambda k: (k ^ start) & 0xFFFFFFFF)
            while free and len(self.held) < quota:
                # One round trip for a whole batch; a key another worker took since
                # the snapshot just comes back false.
                batch, free = free[: quota - len(self.held)], free[quota - len(self.held) :]
                for key in self._try_many(batch):
                    self.held[key] = groups[key]
                    taken.append(key)
        if not self.leader:
            self.leader = self._try(TICK_KEY)
        if taken:
            self._note(taken, now)
        return taken, given

    def _note(self, keys: Iterable[int], now: float) -> None:
        """Record the new owner and bump each group's fencing epoch (its token is ours).

        The update waits while a previous owner that lost its lease session is still
        carrying out a call of the group (it holds the row FOR SHARE until the call
        is marked done); after it, that owner's fence refuses every further call.
        """
        gl = schema.group_leases
        rows = self._session().execute(
            update(gl)
            .where(gl.c.lease_key.in_(list(keys)))
            .values(worker=self.worker_id, leased_at=now, epoch=gl.c.epoch + 1)
            .returning(gl.c.lease_key, gl.c.epoch)
        )
        for key, epoch in rows:
            self.epochs[int(key)] = int(epoch)

    def fence(self, conn: Connection, platform: str, group_id: str) -> bool:
        """In ``conn``'s transaction: is the group's epoch still ours? Locks it FOR SHARE.

        While the transaction lasts no other worker can take the group over (its epoch
        bump waits), so what this transaction does is done by the group's owner.
        """
        mine = self.epochs.get(lease_key(platform, group_id))
        gl = schema.group_leases
        current = conn.execute(
            select(gl.c.epoch)
            .where(gl.c.platform == platform, gl.c.group_id == group_id)
            .with_for_update(read=True)
        ).scalar_one_or_none()
        return mine is not None and current == mine

    def check(self) -> None:
        """Raise when the session is gone (its leases are then no longer ours)."""
        self._session().execute(text("SELECT 1"))
