"""The live bot's own cost per event: the whole pipeline on a real archive.

    .venv/bin/python bench/pipeline.py [--events 3000]

Feeds real chat lines (the labelled QQ-group chat, ads included) through
``Pipeline.handle`` with the real Moderator and a SQLite archive — record the event
exactly once, gate, moderation, strikes, audit rows — against a platform that only
records calls. Prints the median and p90 per event and the events/s, beside a
baseline measured in the same run: the same events written by the plain archive
writer (what recording alone costs). Compare with ``bench/matrix_roundtrip.py``:
a Matrix send round trip on loopback is ~25-35 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from shequn.botconfig import GroupSettings
from shequn.commands.bot import _real_moderator
from shequn.events import MemberRef, MessagePosted
from shequn.pipeline import Pipeline
from shequn.platforms.port import FakePlatform
from shequn.store import open_store
from shequn.store.writer import ArchiveWriter

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "spam"


def _texts(n: int) -> list[str]:
    lines = (SHARED / "zh_qq_group_ads_mc_qq_group.txt").read_text("utf-8").splitlines()
    texts = [ln.rsplit("==", 1)[0] for ln in lines if "==" in ln]
    return (texts * (n // max(len(texts), 1) + 1))[:n]


def _events(n: int) -> list[MessagePosted]:
    members = [MemberRef(f"u{i}", f"成员{i}") for i in range(200)]
    return [
        MessagePosted("fake", f"g{i % 5}", f"m{i}", 1_700_000_000.0 + i * 7, members[i % 200], t)
        for i, t in enumerate(_texts(n))
    ]


async def _pipeline(events: list[MessagePosted], db: Path) -> list[float]:
    store = open_store(f"sqlite:///{db}")
    settings = GroupSettings()
    pipe = Pipeline(store, _real_moderator(), lambda _p, _g: settings)
    platform = FakePlatform()
    pipe.attach(platform)
    timings = []
    for ev in events:
        t0 = time.perf_counter()
        await pipe.handle(ev, platform)
        timings.append(time.perf_counter() - t0)
    store.close()
    return timings


def _writer(events: list[MessagePosted], db: Path) -> float:
    store = open_store(f"sqlite:///{db}")
    t0 = time.perf_counter()
    for ev in events:  # one transaction per event, like the live path
        with store.engine.begin() as conn:
            ArchiveWriter(conn).add_all([ev])
    elapsed = time.perf_counter() - t0
    store.close()
    return elapsed / len(events)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=3000)
    args = ap.parse_args()
    events = _events(args.events)
    work = Path(tempfile.mkdtemp(prefix="shequn-pipe-"))
    timings = asyncio.run(_pipeline(events, work / "p.db"))
    base = _writer(events, work / "w.db")
    ms = 1000.0
    med, p90 = statistics.median(timings) * ms, statistics.quantiles(timings, n=10)[8] * ms
    print(f"pipeline per event  median {med:.2f} ms   p90 {p90:.2f} ms   "
          f"{len(timings) / sum(timings):,.0f} events/s   (n={len(timings)})")  # fmt: skip
    print(
        f"baseline: record-only per event {base * ms:.2f} ms  → pipeline ÷ record {med / (base * ms):.1f}×"
    )


if __name__ == "__main__":
    main()
