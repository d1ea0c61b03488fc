"""The whole bot on a real Synapse: real users post, the bot warns, redacts, mutes, kicks.

Nothing is faked: the Matrix adapter talks to the homeserver, the pipeline records
into a real archive, the real Moderator judges the text, and the test watches the
room through the members' own clients.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomPreset, RoomSendError, RoomVisibility
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse

from shequn.actions.moderation import undo
from shequn.botconfig import parse_config
from shequn.commands.bot import _real_moderator, run_bot
from shequn.platforms.matrix import MatrixAdapter
from shequn.store import open_store, schema

AD = "加我薇 信 领福利，兼职日结三百 ➕V: abc12345"
WAIT = 15.0


async def _until(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def _client(server: Synapse, user: MatrixUser) -> AsyncClient:
    c = AsyncClient(server.url, user.user_id, device_id=user.device_id)
    c.access_token = user.access_token
    c.user_id = user.user_id
    return c


async def _say(c: AsyncClient, room: str, text: str) -> str | None:
    """The new event id, or None when the server refuses (muted)."""
    resp = await c.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
    return None if isinstance(resp, RoomSendError) else str(resp.event_id)


async def _redacted(c: AsyncClient, room: str, event_id: str) -> bool:
    resp = await c.room_get_event(room, event_id)
    return "redacted_because" in resp.event.source.get("unsigned", {})


async def _bot_texts(c: AsyncClient, room: str, bot_id: str) -> list[str]:
    resp = await c.room_messages(room, start="", limit=100)
    return [
        e.source["content"].get("body", "")
        for e in resp.chunk
        if e.source.get("sender") == bot_id and e.source.get("type") == "m.room.message"
    ]


async def test_ad_three_times_warn_mute_kick_and_undo(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = _client(synapse, owner_u), _client(synapse, alice_u)
    bot_id = bot_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    stop = asyncio.Event()
    runner: asyncio.Task[Any] | None = None
    try:
        room = (
            await owner.room_create(
                visibility=RoomVisibility.public,
                name="广告测试群",
                preset=RoomPreset.public_chat,
                invite=[bot_id],
                power_level_override={"users": {bot_id: 100}},
            )
        ).room_id
        await alice.join(room)
        config = parse_config(
            {
                "bot": {"tick_seconds": 0.5},
                "defaults": {"template": "default", "language": "zh"},
                "groups": [
                    {
                        "platform": "matrix",
                        "id": room,
                        "exempt": [owner_u.user_id],
                        "ladder": ["warn", "mute:3", "kick"],
                    }
                ],
            },
            env={},
        )
        adapter = MatrixAdapter(synapse.url, bot_id, access_token=bot_u.access_token)
        runner = asyncio.create_task(
            run_bot(config, store, [adapter], _real_moderator(), stop=stop, restart_delay=0.5)
        )
        await _until(lambda: room in _joined(store), "the bot in the room")

        # ordinary chat is left alone
        hello = await _say(alice, room, "大家好，今天的分享很有收获！")
        assert hello is not None
        # 1st ad: deleted and a warning posted
        first = await _say(alice, room, AD)
        assert first is not None
        await _until(lambda: _redacted(alice, room, first), "1st ad redacted")
        await _until(lambda: _bot_texts(alice, room, bot_id), "a warning")
        # 2nd ad: deleted and alice muted (the server now refuses her messages)
        second = await _say(alice, room, AD + " 2")
        assert second is not None
        await _until(lambda: _redacted(alice, room, second), "2nd ad redacted")

        async def muted() -> bool:
            return await _say(alice, room, "还能说话吗") is None

        await _until(muted, "alice muted")
        assert not await _redacted(alice, room, hello)

        # the mute is timed (3 s here): the bot lifts it, alice can speak again
        async def can_speak() -> bool:
            return await _say(alice, room, "谢谢管理员") is not None

        await _until(can_speak, "alice unmuted after the mute's time")

        # 3rd ad: deleted and alice kicked (警告3次后踢出)
        third = await _say(alice, room, AD + " 3")
        assert third is not None
        await _until(lambda: _redacted(owner, room, third), "3rd ad redacted")

        async def kicked() -> bool:
            return room not in (await alice.joined_rooms()).rooms

        await _until(kicked, "alice kicked")
        with store.engine.connect() as conn:
            done = [
                (r.kind, r.reason)
                for r in conn.execute(
                    select(schema.bot_actions.c.kind, schema.bot_actions.c.reason)
                    .where(schema.bot_actions.c.status.in_(["done", "lifted"]))
                    .order_by(schema.bot_actions.c.id)
                )
            ]
            kick_id = conn.execute(
                select(schema.bot_actions.c.id).where(schema.bot_actions.c.kind == "kick")
            ).scalar_one()
        assert [k for k, _ in done] == [
            "delete",
            "send",
            "delete",
            "mute",
            "mute",
            "delete",
            "kick",
        ]
        assert done[4] == ("mute", "mute.expired")

        # an operator undoes the kick: alice is unbanned and may join again
        await undo(store, adapter, kick_id, "owner", now=time.time())
        await _until(lambda: _rejoin(alice, room), "alice rejoined after undo")
    finally:
        stop.set()
        if runner is not None:
            await asyncio.wait_for(runner, WAIT)
        for c in (owner, alice):
            await c.close()
        store.close()


def _joined(store: Any) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(select(schema.groups.c.platform_id)).scalars())


async def _rejoin(c: AsyncClient, room: str) -> bool:
    resp = await c.join(room)
    return not type(resp).__name__.endswith("Error")
