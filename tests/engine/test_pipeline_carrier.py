"""A decision's platform calls go out off the event path, in order per group, once.

Real SQLite and PostgreSQL (the ``store`` fixture); the platform takes 0.5 s per call
(as a saturated homeserver did in ``bench/live_load.py``) and its effect happens at the
end of the call, so a call cut short by a crash has no effect.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bot_transcript import T0, Clock, make_pipeline, rows, user

from shequn.events import MessagePosted
from shequn.pipeline import Pipeline
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

AD = "加微信 abc123"
CALL_SECONDS = 0.5


@dataclass
class SlowPlatform(FakePlatform):
    """Each call takes :data:`CALL_SECONDS`; tracks how many are under way at once."""

    in_flight: dict[str, int] = field(default_factory=dict)
    most: int = 0
    most_in_a_group: int = 0
    #: When given, calls wait until it is set (a platform that does not answer).
    gate: asyncio.Event | None = None

    async def _slow(self, group_id: str) -> None:
        self.in_flight[group_id] = self.in_flight.get(group_id, 0) + 1
        self.most = max(self.most, sum(self.in_flight.values()))
        self.most_in_a_group = max(self.most_in_a_group, self.in_flight[group_id])
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(CALL_SECONDS)
        finally:
            self.in_flight[group_id] -= 1

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        await self._slow(group_id)
        return await super().send(group_id, text, reply_to=reply_to)

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        await self._slow(group_id)
        await super().delete(group_id, message_id, reason=reason)

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        await self._slow(group_id)
        await super().mute(group_id, member_id, seconds)


def _ad(group: str, n: int, who: str = "alice") -> MessagePosted:
    return MessagePosted("fake", group, f"m{n}", T0 + n, user(who), AD)


def _off_path(store: Store, concurrency: int = 8) -> Pipeline:
    return make_pipeline(store, clock=Clock(), inline_calls=False, carrier_concurrency=concurrency)


def _status(store: Store) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows(store, schema.bot_actions):
        out[r.status] = out.get(r.status, 0) + 1
    return out


def _made(platform: FakePlatform) -> list[tuple[str, str, str]]:
    """(group, call, message or member) of every call that took effect."""
    return [
        (c.args["group_id"], c.name, str(c.args.get("message_id") or c.args.get("text", "")[:12]))
        for c in platform.calls
    ]


async def test_a_burst_in_ten_groups_is_decided_without_waiting_for_the_calls(
    store: Store,
) -> None:
    # the platform answers no call until released: handling that waited for a call
    # would never end (bounded here by a timeout, not by a race with the clock)
    platform = SlowPlatform(gate=asyncio.Event())
    pipeline = _off_path(store)
    for n in range(10):
        assert await asyncio.wait_for(pipeline.handle(_ad(f"g{n}", n), platform), 30)

    # Ten events archived and decided (a delete and a warning each) while no call has
    # been answered.
    assert len(rows(store, schema.messages)) == 10
    assert _status(store) == {"planned": 20}
    assert platform.calls == []
    assert pipeline.calls_pending == 10

    started = time.monotonic()
    assert platform.gate is not None
    platform.gate.set()
    assert await pipeline.drain()
    drained = time.monotonic() - started
    assert _status(store) == {"done": 20}
    assert len(platform.calls) == 20
    # Eight groups at a time, two calls each in turn: ~2 rounds of 2 calls, not 20 calls.
    assert platform.most == 8
    assert platform.most_in_a_group == 1
    assert drained < 6 * CALL_SECONDS
    assert pipeline.calls_pending == 0


async def test_calls_within_one_group_keep_their_planned_order(store: Store) -> None:
    platform = SlowPlatform()
    pipeline = _off_path(store)
    # Alice's first ad: delete + warning; her second: delete + mute + notice. Bob's in g2 beside.
    await pipeline.handle(_ad("g1", 1), platform)
    await pipeline.handle(_ad("g2", 2, "bob"), platform)
    await pipeline.handle(_ad("g1", 3), platform)
    assert platform.calls == []
    assert await pipeline.drain()

    t = schema.bot_actions
    planned = [(r.group_id, r.kind) for r in rows(store, t, t.c.id) if r.group_id == "g1"]
    made = [(c.args["group_id"], c.name) for c in platform.calls if c.args["group_id"] == "g1"]
    assert planned == [("g1", "delete"), ("g1", "send"), ("g1", "delete"), ("g1", "mute"),
                       ("g1", "send")]  # fmt: skip
    assert made == planned
    assert [c.args.get("message_id") for c in platform.calls if c.name == "delete"
            and c.args["group_id"] == "g1"] == ["m1", "m3"]  # fmt: skip
    assert platform.most_in_a_group == 1
    assert platform.most == 2  # g2's calls went out beside g1's


async def test_a_crash_with_calls_pending_leaves_them_planned_for_resume_once(
    store: Store,
) -> None:
    platform = SlowPlatform()
    pipeline = _off_path(store, concurrency=3)
    for n in range(6):
        await pipeline.handle(_ad(f"g{n}", n), platform)
    await asyncio.sleep(CALL_SECONDS * 1.5)  # the first three deletes went out
    await pipeline.cancel_calls()  # the process dies: calls under way are cut short

    before = _made(platform)
    assert len(before) == 3
    assert _status(store) == {"done": 3, "planned": 9}  # done <=> it took effect

    restarted = make_pipeline(store, clock=Clock(), carrier_concurrency=8)
    restarted.attach(platform)
    assert await restarted.resume() == 9
    assert _status(store) == {"done": 12}
    made = _made(platform)
    assert len(made) == 12 and len(set(made)) == 12  # each call exactly once
    for n in range(6):  # and in order in its group
        assert [c for g, c, _x in made if g == f"g{n}"] == ["delete", "send"]
    assert await restarted.resume() == 0


async def test_a_tick_while_calls_are_pending_calls_nothing_twice(store: Store) -> None:
    platform = SlowPlatform(gate=asyncio.Event())  # no answer for now
    pipeline = _off_path(store, concurrency=2)
    for n in range(4):
        await pipeline.handle(_ad(f"g{n}", n), platform)
    # The tick finds the eight rows planned and hands them over without waiting (a slow
    # platform must not hold the next tick); a second one finds them queued already.
    await pipeline.tick()
    await pipeline.tick()
    assert platform.calls == [] and pipeline.calls_pending == 4
    assert platform.most == 2
    # resume() waits for its own batches, queued behind the ones under way.
    assert platform.gate is not None
    platform.gate.set()
    assert await pipeline.resume() == 0
    assert len(platform.calls) == 8
    assert await pipeline.drain()
    made = _made(platform)
    assert len(made) == 8 and len(set(made)) == 8
    assert _status(store) == {"done": 8}
    assert platform.most == 2 and platform.most_in_a_group == 1


async def test_inline_calls_are_made_when_handle_returns(store: Store) -> None:
    platform = SlowPlatform()
    pipeline = make_pipeline(store, clock=Clock())  # the default: inline_calls=True
    started = time.monotonic()
    await pipeline.handle(_ad("g1", 1), platform)
    assert time.monotonic() - started >= 2 * CALL_SECONDS
    assert [c.name for c in platform.calls] == ["delete", "send"]
    assert _status(store) == {"done": 2}
    assert pipeline.calls_pending == 0
