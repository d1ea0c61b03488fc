"""Periodic work never stalls the live events: tick jobs run off the event loop.

Real SQLite and PostgreSQL (the ``store`` fixture); the slow jobs really block their
thread (``time.sleep``), as a CPU-bound job (jieba indexing) or a slow query would.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from bot_transcript import T0, make_chat, rows, stand_in_moderate, user
from sqlalchemy import Connection, insert

from shequn.botconfig import parse_config
from shequn.commands.bot import run_bot
from shequn.events import MessagePosted
from shequn.platforms.port import EventHandler, FakePlatform
from shequn.store import Store, schema

AD = "加微信 abc123"
ALICE = user("alice", "Alice")


async def _heartbeat(gaps: list[float], stop: asyncio.Event) -> None:
    """Records the longest the event loop left it waiting (it asks every 10 ms)."""
    last = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        t = time.monotonic()
        gaps.append(t - last)
        last = t


async def test_an_event_is_handled_while_a_slow_tick_job_runs(store: Store) -> None:
    chat = make_chat(store)
    started = threading.Event()
    ended: dict[str, float] = {}

    def slow(_conn: Connection, *_: Any) -> None:  # e.g. indexing a big batch
        started.set()
        time.sleep(1.5)
        ended["slow"] = time.monotonic()

    def after(_conn: Connection, *_: Any) -> None:
        time.sleep(0.5)
        ended["after"] = time.monotonic()

    chat.pipeline.register_tick("test.slow", slow, exclusive=False)
    chat.pipeline.register_tick("test.after", after)
    gaps: list[float] = []
    beat = asyncio.Event()
    heart = asyncio.create_task(_heartbeat(gaps, beat))
    ticking = asyncio.create_task(chat.pipeline.tick())
    while not started.is_set():
        await asyncio.sleep(0.01)
    t0 = time.monotonic()
    await chat.say(ALICE, AD)  # delivered while the slow job runs
    handled = time.monotonic()
    await ticking
    tick_ended = time.monotonic()
    beat.set()
    await heart

    assert [c[0] for c in chat.take()] == ["delete", "send"]
    assert handled < tick_ended - 0.3  # the event did not wait for the tick
    # nor did anything else on the loop: a job run on it would have held it 1.5 s (the
    # bound leaves room for a loaded 2-core machine; 0.5 s has been missed there)
    assert max(gaps) < 1.0
    # A job that only derives data runs beside the events: no wait at all.
    assert handled < ended["slow"] and handled - t0 < 0.75
    assert chat.pipeline.tick_durations["test.slow"] >= 1.5
    assert not chat.pipeline.ticking


async def test_an_exclusive_job_holds_events_for_its_own_run_only(store: Store) -> None:
    chat = make_chat(store)
    started = threading.Event()
    ended: dict[str, float] = {}

    def job(name: str, seconds: float) -> Any:
        def run(_conn: Connection, *_: Any) -> None:
            started.set()
            time.sleep(seconds)
            ended[name] = time.monotonic()

        return run

    chat.pipeline.register_tick("test.first", job("first", 0.8))  # e.g. reminders
    chat.pipeline.register_tick("test.second", job("second", 0.5))
    ticking = asyncio.create_task(chat.pipeline.tick())
    while not started.is_set():
        await asyncio.sleep(0.01)
    await chat.say(ALICE, AD)
    handled = time.monotonic()
    await ticking
    assert [c[0] for c in chat.take()] == ["delete", "send"]
    # The event saw the first job's decisions whole, and went before the second job.
    assert ended["first"] <= handled < ended["second"]


async def test_ticks_never_overlap(store: Store) -> None:
    chat = make_chat(store)
    running: list[int] = []
    most = 0
    runs = 0

    def job(_conn: Connection, *_: Any) -> None:
        nonlocal most, runs
        running.append(1)
        most = max(most, len(running))
        time.sleep(0.15)
        runs += 1
        running.pop()

    chat.pipeline.register_tick("test.job", job, exclusive=False)
    await asyncio.gather(*(chat.pipeline.tick() for _ in range(3)))
    assert (runs, most) == (3, 1)  # each caller got its tick, one after the other


@dataclass
class SlowTickAdapter(FakePlatform):
    """An adapter whose own upkeep job takes longer than the tick interval."""

    seconds: float = 0.3
    running: int = 0
    most: int = 0
    runs: int = 0
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.tick_jobs = (("test.upkeep", self.upkeep),)

    def upkeep(self, _conn: Connection, *_: Any) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        self.runs += 1
        self.running -= 1

    async def start(self, handle: EventHandler) -> None:
        await handle(MessagePosted("fake", "g", "m1", T0, ALICE, AD), self)
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()


async def test_run_bot_skips_a_tick_while_the_last_still_runs(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = parse_config({"bot": {"tick_seconds": 0.05}}, {})
    adapter = SlowTickAdapter()
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="shequn.commands.bot"):
        task = asyncio.create_task(run_bot(cfg, store, [adapter], stand_in_moderate, stop=stop))
        await asyncio.sleep(1.0)
        for _ in range(500):  # a busy box: the first tick (jieba's dictionary) may be slow
            if adapter.runs:
                break
            await asyncio.sleep(0.02)
        stop.set()
        pipeline = await asyncio.wait_for(task, 10)
    assert adapter.most == 1 and adapter.runs >= 1  # never two at once
    assert pipeline.ticks_skipped >= 3
    assert "tick skipped: the previous one is still in " in caplog.text
    assert [c.name for c in adapter.calls] == ["delete", "send"]  # events still handled


async def test_a_failing_tick_job_does_not_stop_the_others(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    chat = make_chat(store)
    pe = schema.processed_events
    fail = True

    def mark(conn: Connection, key: str) -> None:
        conn.execute(
            insert(pe).values(platform="x", event_key=key, group_id="g", ts=T0, processed_at=T0)
        )

    def boom(conn: Connection, *_: Any) -> None:
        mark(conn, "boom")
        if fail:
            raise RuntimeError("the job broke")

    slow_runs = 0

    def slow(conn: Connection, *_: Any) -> None:
        nonlocal slow_runs
        time.sleep(0.3)
        slow_runs += 1
        mark(conn, f"slow{slow_runs}")

    chat.pipeline.register_tick("test.boom", boom)
    chat.pipeline.register_tick("test.slow", slow)
    chat.pipeline.tick_budget = 0.2
    with caplog.at_level(logging.WARNING, logger="shequn.pipeline"):
        await chat.pipeline.tick()
    assert [r.event_key for r in rows(store, pe)] == ["slow1"]  # boom's write rolled back
    p = chat.pipeline
    assert p.tick_failures == {"test.boom": "RuntimeError: the job broke"}
    assert {"gate.expire", "moderation.unmute", "test.boom", "test.slow", "questions"} <= set(
        p.tick_durations
    )
    assert "tick job test.boom failed" in caplog.text
    assert "tick job test.slow took" in caplog.text  # over its budget, named
    fail = False
    await p.tick()
    assert sorted(r.event_key for r in rows(store, pe)) == ["boom", "slow1", "slow2"]
    assert p.tick_failures == {}
