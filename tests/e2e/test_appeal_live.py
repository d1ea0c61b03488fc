"""Appeals and the early-warning channel on a real Synapse: a warned member appeals in
the room, the appeal reaches the operators' room with a console link, an operator
accepts it and the member is told; all through the real adapter, pipeline and
Moderator (the rest of the bot's room setup: ``test_bot_live``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from matrix_live import client_of, say, until
from nio import RoomPreset
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse
from test_bot_live import AD, _bot_room, _bot_texts, _redacted

from shequn.actions.appeals import decide
from shequn.store import open_store, schema


async def test_a_warned_member_appeals_the_operators_hear_and_accept(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = client_of(synapse, owner_u), client_of(synapse, alice_u)
    bot_id = bot_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    ops = (
        await owner.room_create(name="运营群", preset=RoomPreset.private_chat, invite=[bot_id])
    ).room_id
    try:
        async with _bot_room(
            synapse, owner, bot_u, store, "申诉测试群", joiners=[alice],
            config={"bot": {"tick_seconds": 0.5, "console_url": "http://console.test"}},
            group={"exempt": [owner_u.user_id], "alert_group": f"matrix:{ops}"},
        ) as (room, adapter):  # fmt: skip
            ad = await say(alice, room, AD)
            assert ad is not None
            await until(lambda: _redacted(alice, room, ad), "the ad redacted")

            async def warned() -> list[str]:
                return [t for t in await _bot_texts(alice, room, bot_id) if "申诉 理由" in t]

            await until(warned, "a warning that says how to appeal")
            assert await say(alice, room, "申诉 那是我们社区自己的活动") is not None

            async def received() -> list[str]:
                return [t for t in await _bot_texts(alice, room, bot_id) if "已收到你的申诉" in t]

            (ack,) = await until(received, "the appeal acknowledged")

            async def heard() -> list[str]:
                return [t for t in await _bot_texts(owner, ops, bot_id) if "成员申诉" in t]

            (notice,) = await until(heard, "the appeal posted to the operators' room")
            assert "那是我们社区自己的活动" in notice and "http://console.test/groups/" in notice

            with store.engine.connect() as conn:
                aid = conn.execute(select(schema.appeals.c.id)).scalar_one()
            assert f"#{aid}" in ack
            await decide(store, adapter, aid, accept=True, operator="owner", now=time.time())

            async def accepted() -> list[str]:
                return [t for t in await _bot_texts(alice, room, bot_id) if "已通过" in t]

            await until(accepted, "the member told the appeal is accepted")
            with store.engine.connect() as conn:
                strikes = conn.execute(select(schema.strikes.c.status)).scalars().all()
            assert strikes == ["revoked"]
            # the operators' room is not moderated as a group nor spoken to otherwise
            assert all("成员申诉" in t for t in await _bot_texts(owner, ops, bot_id))
    finally:
        for c in (owner, alice):
            await c.close()
        store.close()
