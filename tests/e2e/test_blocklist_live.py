"""The shared blocklist on a real Synapse: a member removed for an ad in one room is
banned from the bot's other room by the same bot (what she said there redacted), and
unbanned there when an operator lifts the listing (the room set-up: ``test_bot_live``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from matrix_live import client_of, say, until
from nio import AsyncClient, RoomGetStateEventResponse, RoomPreset
from sqlalchemy import select
from synapse_server import MatrixUser, Synapse
from test_bot_live import AD, _bot_room, _redacted

from shequn.actions import blocklist
from shequn.actions.moderation import carry_out
from shequn.store import open_store, schema


async def _membership(c: AsyncClient, room: str, user_id: str) -> str:
    resp = await c.room_get_state_event(room, "m.room.member", user_id)
    return resp.content.get("membership", "") if isinstance(resp, RoomGetStateEventResponse) else ""


async def test_removed_in_one_room_banned_from_the_other_and_let_back(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("bot"), matrix_user("alice")
    owner, alice = client_of(synapse, owner_u), client_of(synapse, alice_u)
    bot_id, alice_id = bot_u.user_id, alice_u.user_id
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    other = (
        await owner.room_create(
            name="第二个群",
            preset=RoomPreset.public_chat,
            invite=[bot_id],
            power_level_override={"users": {bot_id: 100}},
        )
    ).room_id
    await alice.join(other)
    try:
        async with _bot_room(
            synapse, owner, bot_u, store, "黑名单测试群", joiners=[alice],
            group={"exempt": [owner_u.user_id], "ladder": ["kick"]},
        ) as (room, adapter):  # fmt: skip

            def seen_in_other() -> bool:  # the bot joined the second room and saw her there
                lm = schema.layer_members
                with store.engine.connect() as conn:
                    q = select(lm.c.id).where(lm.c.group_id == other, lm.c.member_id == alice_id)
                    return conn.execute(q).first() is not None

            async def greet() -> bool:
                await say(alice, other, "大家好")
                return seen_in_other()

            await until(greet, "alice seen by the bot in the second room")
            ad = await say(alice, room, AD)
            assert ad is not None
            await until(lambda: _redacted(owner, room, ad), "the ad redacted")

            async def removed_everywhere() -> bool:
                here = await _membership(owner, room, alice_id)
                there = await _membership(owner, other, alice_id)
                return here in ("leave", "ban") and there == "ban"

            await until(removed_everywhere, "alice out of the room and banned from the other")

            # what she said there (as far as the bot saw it) is redacted with her (清理)
            msgs, groups, members = schema.messages, schema.groups, schema.members
            with store.engine.connect() as conn:
                seen = (
                    conn.execute(
                        select(msgs.c.platform_id)
                        .join(groups, groups.c.id == msgs.c.group_id)
                        .join(members, members.c.id == msgs.c.member_id)
                        .where(groups.c.platform_id == other, members.c.platform_id == alice_id)
                    )
                    .scalars()
                    .all()
                )
            assert seen

            async def greetings_redacted() -> bool:
                return all([await _redacted(owner, other, eid) for eid in seen])

            await until(greetings_redacted, "her greetings in the other room redacted")
            b = schema.blocklist
            with store.engine.connect() as conn:
                entry = conn.execute(select(b)).one()
            assert (entry.member_id, entry.group_id, entry.rule) == (alice_id, room, "ad")

            # an operator lifts the listing: she is unbanned there and may come back
            now = time.time()
            with store.engine.begin() as conn:
                new = blocklist.lift(conn, adapter, entry.id, "owner", now=now)
            await carry_out(store, adapter, now=now, ids=new)

            async def back() -> bool:
                await alice.join(other)
                return await _membership(owner, other, alice_id) == "join"

            await until(back, "alice rejoined the second room after the lift")
    finally:
        for c in (owner, alice):
            await c.close()
        store.close()
