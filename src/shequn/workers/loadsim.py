"""A worker process for load tests and benchmarks: the real loop, a recording platform.

    python -m shequn.workers.loadsim --db postgresql://... --calls calls.jsonl --id w1

Runs :class:`~shequn.workers.Worker` against the archive with a stand-in moderator
(``加微信`` or a link is an ad) and a :class:`RecordingPlatform` that appends every
call, with the time it was made, to a file. The append is one ``write`` on an
``O_APPEND`` descriptor, so it survives a ``kill -9`` of the process the instant the
call returned: tests count calls across processes and kills from these files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from shequn.botconfig import GroupSettings
from shequn.features.moderation.verdict import Reason, Verdict
from shequn.platforms.port import Capability, FakePlatform
from shequn.store import open_store
from shequn.workers.leases import APP_NAME, Leases
from shequn.workers.worker import Worker, WorkerPipeline

__all__ = ["RecordingPlatform", "read_calls", "stand_in_moderate"]


@dataclass
class RecordingPlatform(FakePlatform):
    """A :class:`FakePlatform` that also appends each call as a JSON line to ``path``."""

    path: str = ""
    _fd: int = field(default=-1, repr=False)

    def _record(self, cap: Capability, name: str, **args: Any) -> None:
        super()._record(cap, name, **args)
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        line = {"t": time.time(), "pid": os.getpid(), "call": name, **args}
        os.write(self._fd, (json.dumps(line, ensure_ascii=False) + "\n").encode())


def read_calls(paths: list[str]) -> list[dict[str, Any]]:
    """Every call recorded in these files (a torn last line of a killed writer skipped)."""
    calls = []
    for p in paths:
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    calls.append(json.loads(line))
    return calls


def stand_in_moderate(text: str, kind: str, mentions: int, **_: Any) -> Verdict:
    """Ads mention WeChat ids or links; everything else is fine (fast and predictable)."""
    if "加微信" in text or "http" in text:
        return Verdict(text, "ad", 0.95, (Reason("lexicon", "加微信", 0.9),))
    return Verdict(text, "ok", 0.9)


#: Load-test groups: no flood or duplicate rules, so actions follow from ads alone.
SETTINGS = GroupSettings(flood_messages=0, duplicate_groups=0)


async def run_worker(
    url: str, worker_id: str, calls: str, stop: asyncio.Event, *, app_name: str = APP_NAME
) -> Worker:
    store = open_store(url, upgrade=False)
    platform = RecordingPlatform(name="fake", path=calls)
    pipeline = WorkerPipeline(store, stand_in_moderate, lambda _p, _g: SETTINGS, db_patience=10)
    worker = Worker(store, pipeline, {"fake": platform}, Leases(url, worker_id, app_name=app_name))
    try:
        await worker.run(stop)
    finally:
        store.close()
    return worker


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--calls", required=True)
    ap.add_argument("--app-name", default=APP_NAME)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format=f"{args.id} %(levelname)s %(message)s")

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(args.db, args.id, args.calls, stop, app_name=args.app_name)

    asyncio.run(go())


if __name__ == "__main__":
    main()
