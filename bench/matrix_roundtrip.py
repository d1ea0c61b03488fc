"""Matrix adapter: the bot's own work per event against the homeserver's round trips.

    .venv/bin/python bench/matrix_roundtrip.py               # 200 of each
    .venv/bin/python bench/matrix_roundtrip.py --messages 50

Starts a throwaway Synapse on 127.0.0.1 (SQLite, as ``tests/e2e`` does), registers a
bot and a member, and measures with medians (and p90):
  processing  translate + handler per delivered event, inside the adapter; the handler
              is the bot's real pipeline (SQLite archive, default group settings, the
              shipped moderation engine with its classifier), whose platform calls go
              out off the event path as in ``shequn bot``
  translate   ``translate`` alone on a captured message, in a tight loop
  send        the bot's ``send``: one HTTP round trip, the event persisted by Synapse
  delivery    a member's send until the bot's handler has the event (sync long-poll)
The machine is shared and noisy: compare the ratios rather than the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nio import AsyncClient, RoomPreset, RoomVisibility

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from synapse_server import Synapse  # noqa: E402

from shequn.botconfig import GroupSettings  # noqa: E402
from shequn.commands.bot import moderator_callable  # noqa: E402
from shequn.events import Event, GroupSeen, MessagePosted  # noqa: E402
from shequn.features import layers  # noqa: E402
from shequn.features.moderation import Moderator  # noqa: E402
from shequn.features.moderation.datasets import load_set  # noqa: E402
from shequn.pipeline import Pipeline  # noqa: E402
from shequn.platforms.matrix import MatrixAdapter, translate  # noqa: E402
from shequn.platforms.port import Platform  # noqa: E402
from shequn.store import open_store, schema  # noqa: E402


def _fmt(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"{name:<11} median {statistics.median(ms):9.3f} ms   p90 {p90:9.3f} ms   n={len(ms)}"


async def _run(server: Synapse, n: int, db: Path) -> dict[str, list[float]]:
    store = open_store(f"sqlite:///{db}")
    settings = GroupSettings()
    pipeline = Pipeline(store, moderator_callable(Moderator()), lambda _p, _g: settings,
                        layer_of=layers.layer_lookup(store))  # fmt: skip
    owner_u, bot_u = server.register("owner"), server.register("shequn")
    owner = AsyncClient(server.url, owner_u.user_id, device_id=owner_u.device_id)
    owner.access_token, owner.user_id = owner_u.access_token, owner_u.user_id
    made = await owner.room_create(
        visibility=RoomVisibility.public,
        name="bench",
        preset=RoomPreset.public_chat,
        invite=[bot_u.user_id],
    )
    room = made.room_id  # type: ignore[union-attr]
    # real group chat from 20 members in turn: one member's pace stays under the flood
    # rule (8 messages in 10 s), so the bot answers nothing and only its own work is timed
    chat = [x.text for x in load_set(DATA, "qq_group")[0] if not x.label]
    members = []
    for i in range(20):
        u = server.register(f"member{i}")
        c = AsyncClient(server.url, u.user_id, device_id=u.device_id)
        c.access_token, c.user_id = u.access_token, u.user_id
        await c.join(room)
        members.append(c)
    arrived: dict[str, float] = {}
    ready = asyncio.Event()

    joined = asyncio.Event()

    async def handle(event: Event, platform: Platform) -> None:
        await pipeline.handle(event, platform)
        if isinstance(event, GroupSeen) and event.group_id == room:
            joined.set()
        if isinstance(event, MessagePosted):
            arrived[event.message_id] = time.perf_counter()
            ready.set()

    adapter = MatrixAdapter(server.url, bot_u.user_id, access_token=bot_u.access_token)
    loop = asyncio.create_task(adapter.start(handle))
    await asyncio.wait_for(joined.wait(), 10)  # auto-joined
    sends, deliveries = [], []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            await adapter.send(room, f"ping {i}")
            sends.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            resp = await members[i % len(members)].room_send(
                room, "m.room.message", {"msgtype": "m.text", "body": chat[i % len(chat)]}
            )
            eid = resp.event_id  # type: ignore[union-attr]
            while eid not in arrived:
                ready.clear()
                await asyncio.wait_for(ready.wait(), 10)
            deliveries.append(arrived[eid] - t0)
    finally:
        await adapter.stop()
        await loop
        await owner.close()
        for c in members:
            await c.close()
        await pipeline.drain(10)
        store.close()
    planned = sum(1 for _ in store.engine.connect().execute(schema.bot_actions.select()))
    print(f"the bot planned {planned} calls for {n} member messages")
    return {"processing": adapter.timings, "send": sends, "delivery": deliveries}


def _translate_alone(repeat: int = 20_000) -> list[float]:
    raw = json.loads((ROOT / "tests/fixtures/matrix/message_zh.json").read_text())
    room, names = raw["room_id"], {raw["sender"]: "alice"}
    out = []
    for _ in range(20):
        t0 = time.perf_counter()
        for _ in range(repeat):
            translate(room, raw, own_id="@bot:localhost", names=names)
        out.append((time.perf_counter() - t0) / repeat)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Synapse(Path(tmp))
        server.start()
        try:
            figures = asyncio.run(_run(server, args.messages, Path(tmp) / "bot.db"))
        finally:
            server.stop()
    figures["translate"] = _translate_alone()
    print(f"Synapse {server.url}: answered {server.start_seconds:.2f} s after launch")
    for name in ("processing", "translate", "send", "delivery"):
        print(_fmt(name, figures[name]))
    process = statistics.median(figures["processing"])
    print(
        f"send / processing      {statistics.median(figures['send']) / process:8.0f}×\n"
        f"delivery / processing  {statistics.median(figures['delivery']) / process:8.0f}×"
    )


if __name__ == "__main__":
    main()
