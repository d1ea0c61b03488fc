"""Appeals and the early-warning channel on a real Synapse: a warned member appeals in
the room, the appeal reaches the operators' room with a console link, an operator
accepts it and the member is told; all through the real adapter, pipeline and
Moderator (the rest of the bot's room setup: ``test_bot_live``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matrix_live import client_of, say, until
from nio import RoomPreset
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse
from test_bot_live import AD, _bot_room, _bot_texts, _redacted

from shequn.actions.appeals import decide
from shequn.events import direct_chat
from shequn.platforms.matrix import MatrixAdapter
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


async def test_a_muted_member_appeals_in_a_private_chat_and_hears_back_there(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = client_of(synapse, owner_u), client_of(synapse, alice_u)
    bot_id = bot_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with _bot_room(
            synapse, owner, bot_u, store, "私聊申诉测试群", joiners=[alice],
            group={"exempt": [owner_u.user_id], "ladder": ["warn", "mute:600"]},
        ) as (room, adapter):  # fmt: skip
            for n in (1, 2):
                ad = await say(alice, room, f"{AD} {n}")
                assert ad is not None
                await until(lambda ad=ad: _redacted(alice, room, ad), f"ad {n} redacted")
            said = await _bot_texts(alice, room, bot_id)
            warning = [t for t in said if "请勿发布" in t]
            assert warning and warning[0].endswith("（被禁言后也可以私聊我发送）。")

            # the mute is announced once it is made, pointing the muted member to a private chat
            async def announced() -> list[str]:
                return [t for t in await _bot_texts(alice, room, bot_id) if "被禁言 10 分钟" in t]

            notice = await until(announced, "the mute announced")
            assert notice[0].endswith("可私聊我发送「申诉 理由」。")

            async def muted() -> bool:
                return await say(alice, room, "为什么删我消息") is None

            await until(muted, "alice muted")
            dm = (
                await alice.room_create(
                    is_direct=True, invite=[bot_id], preset=RoomPreset.trusted_private_chat
                )
            ).room_id

            async def bot_in_dm() -> bool:
                members = await alice.joined_members(dm)
                return bot_id in {m.user_id for m in getattr(members, "members", [])}

            await until(bot_in_dm, "the bot in the private chat")
            assert await say(alice, dm, "申诉 我发的是社区自己的活动") is not None

            async def received() -> list[str]:
                return [t for t in await _bot_texts(alice, dm, bot_id) if "已收到你的申诉" in t]

            (ack,) = await until(received, "the appeal acknowledged in private")
            assert not ack.startswith("@@")  # the member's display name, not their user id
            with store.engine.connect() as conn:
                aid, via = conn.execute(select(schema.appeals.c.id, schema.appeals.c.via)).one()
                groups = set(conn.execute(select(schema.groups.c.platform_id)).scalars())
            assert via == "dm" and dm not in groups  # a private chat is not a group
            await decide(store, adapter, aid, accept=True, operator="owner", now=time.time())

            async def accepted() -> list[str]:
                return [t for t in await _bot_texts(alice, dm, bot_id) if "已通过" in t]

            await until(accepted, "the decision told in private")

            async def can_speak() -> bool:
                return await say(alice, room, "谢谢管理员") is not None

            await until(can_speak, "the mute lifted")
        # a restart knows the private chat again, from the bot's m.direct account data
        again = MatrixAdapter(synapse.url, bot_id, access_token=bot_u.access_token)
        seen: list[Any] = []

        async def handle(event: Any, _platform: Any) -> None:
            seen.append(event)

        runner = asyncio.create_task(again.start(handle))
        try:
            await until(lambda: again.since is not None, "the restarted bot's first sync")
            assert await again.send(direct_chat(alice_u.user_id), "还在") is not None
            assert "还在" in await _bot_texts(alice, dm, bot_id)
            assert not any(getattr(e, "group_id", None) == dm for e in seen)  # not a group
        finally:
            await again.stop()
            await asyncio.wait_for(runner, 15)
    finally:
        for c in (owner, alice):
            await c.close()
        store.close()
