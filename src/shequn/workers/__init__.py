"""Several bot worker processes sharing one PostgreSQL archive.

One :mod:`receiver` per bot account persists every event into the :mod:`inbox`
before the platform is told it arrived; N :mod:`worker` processes each lease a share
of the groups (:mod:`leases`, PostgreSQL advisory locks) and run their groups' inbox
rows, in order, through the ordinary :class:`~shequn.pipeline.Pipeline`. See
``docs/scale-out.md`` for the design and the numbers.
"""

from __future__ import annotations

from shequn.workers.inbox import lease_key, put
from shequn.workers.leases import Leases
from shequn.workers.receiver import Receiver
from shequn.workers.worker import Worker, WorkerPipeline

__all__ = ["Leases", "Receiver", "Worker", "WorkerPipeline", "lease_key", "put"]
