"""CI smoke of ``bench/live_load.py``: the same code, small numbers, real Synapse and bot.

Members post real chat and real ads (``/work/shared/data/spam/``) across three rooms
at a fixed rate; the real bot (Matrix adapter, pipeline, archive, Moderator) runs on
them. Every message must be archived exactly once, every ad the Moderator flags must
be redacted on the server, and the moderation time must stay bounded.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from synapse_server import Synapse

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
live_load = pytest.importorskip("live_load")

if not live_load.SPAM.exists():  # pragma: no cover - the data set is part of the repo's CI
    pytest.skip("the spam data set is not here", allow_module_level=True)


async def test_live_load_smoke(synapse: Synapse, tmp_path: Path) -> None:
    result = await live_load.run_load(
        synapse,
        rooms=3,
        members=4,
        per_member=2,
        rate=5.0,
        seconds=6.0,
        ad_share=0.25,
        db_url=f"sqlite:///{tmp_path / 'archive.db'}",
        drain_limit=30.0,
        quiet=1.5,
    )
    report = result.report()
    print("\nlive load smoke:", report)
    assert report["refused"] == 0
    assert report["sent"] == 30  # 5/s for 6 s, on schedule
    assert report["delivered_to_observer"] == report["sent"]
    # exactly once: every message in the archive, none twice, no event key claimed twice
    assert report["archive_missing"] == 0
    assert report["archived"] == report["sent"]
    assert report["archive_duplicates"] == 0
    assert report["processed_key_duplicates"] == 0
    assert set(result.processed) >= {f"msg:{s.room}:{s.event_id}" for s in result.ok()}
    # moderation: every delete the bot decided reached the server, and nothing else was
    # removed; the real Moderator flags some of these real ads (recall is not the point)
    assert report["ads_sent"] >= 4
    assert report["deletes_decided"] >= 1
    assert report["deletes_not_seen_redacted"] == 0
    assert report["redacted_not_decided"] == 0
    assert report["chat_redacted"] == 0
    assert report["moderation_ms"]["max"] < 20_000
    assert report["moderation_over_delivery_p50"] > 1  # the redaction follows the message


async def test_events_behind_a_held_handler_are_all_delivered(
    synapse: Synapse, matrix_user: Any
) -> None:
    """What a database outage does to the adapter: its handler waits, then goes on, and
    the events that piled up meanwhile (more than one sync's timeline) are back-filled."""
    from nio import AsyncClient, RoomPreset, RoomVisibility

    from shequn.events import GroupSeen, MessagePosted
    from shequn.platforms.matrix import MatrixAdapter

    owner_u, bot_u = matrix_user("owner"), matrix_user("bot")
    owner = AsyncClient(synapse.url, owner_u.user_id, device_id=owner_u.device_id)
    owner.access_token, owner.user_id = owner_u.access_token, owner_u.user_id
    made = await owner.room_create(
        visibility=RoomVisibility.public, preset=RoomPreset.public_chat, invite=[bot_u.user_id]
    )
    room = made.room_id
    got: list[str] = []
    joined, release = asyncio.Event(), asyncio.Event()

    async def handle(ev: object, _platform: object) -> None:
        if isinstance(ev, GroupSeen):
            joined.set()
        if isinstance(ev, MessagePosted):
            got.append(ev.text)
            if ev.text == "m0":
                await release.wait()  # held, as while the database is unreachable

    adapter = MatrixAdapter(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
    adapter.timeline_limit = 4  # 25 messages: a limited timeline and several pages back
    task = asyncio.create_task(adapter.start(handle))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(joined.wait(), 20)
        await asyncio.sleep(0.5)
        for i in range(25):
            await owner.room_send(room, "m.room.message", {"msgtype": "m.text", "body": f"m{i}"})
        release.set()
        deadline = asyncio.get_running_loop().time() + 4  # delivery takes < 1 s here
        while len(got) < 25 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
    finally:
        release.set()
        await adapter.stop()
        await task
        await owner.close()
    assert got == [f"m{i}" for i in range(25)]
