"""A call made again after a crash is not done twice on a real Synapse.

The outbox writes a call's result after the platform answered; a process that dies in
between leaves the row ``planned`` and makes the call again on restart. Matrix takes a
transaction id per request and drops a repeat of one it has done: the outbox's
``call_key`` is the same on every attempt of a planned call, so the restarted bot's
warning and redaction are the ones already made, not new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, MessageDirection, RoomPreset, RoomVisibility
from synapse_server import MatrixUser, Synapse

from shequn.actions.moderation import carry_out, plan
from shequn.platforms.matrix import MatrixAdapter
from shequn.platforms.port import Capability
from shequn.store import open_store, schema


class Crash(BaseException):
    """The process dies right after the platform answered, before the row is written."""


class DiesAfterTheCall(MatrixAdapter):
    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        await super().send(group_id, text, reply_to=reply_to)
        raise Crash

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        await super().delete(group_id, message_id, reason=reason)
        raise Crash


def ok(resp: Any) -> Any:
    assert not type(resp).__name__.endswith("Error"), resp
    return resp


def client(synapse: Synapse, user: MatrixUser) -> AsyncClient:
    c = AsyncClient(synapse.url, user.user_id, device_id=user.device_id)
    c.access_token, c.user_id = user.access_token, user.user_id
    return c


async def room_with(synapse: Synapse, owner: AsyncClient, bot_u: MatrixUser,
                    member: AsyncClient) -> str:  # fmt: skip
    """A public room the owner made, the member and the bot (power 100) in it."""
    room = ok(
        await owner.room_create(
            visibility=RoomVisibility.public,
            preset=RoomPreset.public_chat,
            power_level_override={"users": {bot_u.user_id: 100}},
        )
    ).room_id
    ok(await member.join(room))
    bot = client(synapse, bot_u)
    ok(await bot.join(room))
    await bot.close()
    return str(room)


async def _timeline(client: AsyncClient, room: str) -> list[dict[str, Any]]:
    resp = ok(await client.room_messages(room, start="", direction=MessageDirection.back, limit=50))
    return [e.source for e in resp.chunk]


async def test_a_call_repeated_after_a_crash_is_done_once(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    owner_u, bot_u, alice_u = matrix_user("owner"), matrix_user("shequn"), matrix_user("alice")
    owner, alice = client(synapse, owner_u), client(synapse, alice_u)
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    dying = DiesAfterTheCall(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
    restarted = MatrixAdapter(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
    try:
        room = await room_with(synapse, owner, bot_u, alice)
        spam = ok(
            await alice.room_send(
                room, "m.room.message", {"msgtype": "m.text", "body": "加V领红包"}
            )
        ).event_id
        with store.engine.begin() as conn:
            warn = plan(conn, dying, group_id=room, kind="send", now=1.0,
                        params={"text": "请勿发广告（第 1 次警告）"}, reason="strike.ad")  # fmt: skip
            redact = plan(conn, dying, group_id=room, kind="delete", now=1.0,
                          params={"message_id": spam}, reason="strike.ad")  # fmt: skip

        for call in (warn, redact):  # each call reaches Synapse, then the process dies
            with contextlib.suppress(Crash):
                await carry_out(store, dying, now=2.0, ids=[call])
        t = schema.bot_actions
        with store.engine.connect() as conn:
            statuses = conn.execute(t.select().order_by(t.c.id)).all()
        assert [r.status for r in statuses] == ["planned", "planned"]

        assert await carry_out(store, restarted, now=3.0) == 2  # the restart makes both again
        with store.engine.connect() as conn:
            assert [r.status for r in conn.execute(t.select().order_by(t.c.id))] == ["done"] * 2

        events = await _timeline(owner, room)
        warnings = [e for e in events if e.get("content", {}).get("body", "").startswith("请勿")]
        redactions = [e for e in events if e["type"] == "m.room.redaction"]
        assert len(warnings) == 1, warnings
        assert len(redactions) == 1
        assert spam in (redactions[0].get("redacts"), redactions[0]["content"].get("redacts"))
    finally:
        await asyncio.gather(dying.stop(), restarted.stop(), return_exceptions=True)
        await owner.close()
        await alice.close()


class DiesAfterTheKick(MatrixAdapter):
    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        await super().kick(group_id, member_id, ban=ban, reason=reason)
        raise Crash


async def test_a_kick_repeated_after_a_crash_is_done_not_refused(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser], tmp_path: Path
) -> None:
    """Matrix has no transaction id for kicks: the repeat finds the member gone. That is
    the kick done, not a refusal (which would drop the bot's kick right in the room)."""
    owner_u, bot_u, bob_u = matrix_user("owner"), matrix_user("shequn"), matrix_user("bob")
    owner, bob = client(synapse, owner_u), client(synapse, bob_u)
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    dying = DiesAfterTheKick(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
    restarted = MatrixAdapter(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
    try:
        room = await room_with(synapse, owner, bot_u, bob)
        with store.engine.begin() as conn:
            kick = plan(conn, dying, group_id=room, kind="kick", now=1.0,
                        member_id=bob_u.user_id, reason="strike.ad")  # fmt: skip
        with contextlib.suppress(Crash):
            await carry_out(store, dying, now=2.0, ids=[kick])

        done = await carry_out(store, restarted, now=3.0)
        t = schema.bot_actions
        with store.engine.connect() as conn:
            row = conn.execute(t.select().where(t.c.id == kick)).one()
        assert (done, row.status) == (1, "done"), row
        assert Capability.KICK in restarted.capabilities_for(room)
        # a member who is still there is kicked for real by the same adapter
        ok(await bob.join(room))
        await restarted.kick(room, bob_u.user_id)
        state = await owner.room_get_state_event(room, "m.room.member", bob_u.user_id)
        assert state.content["membership"] == "leave"
    finally:
        await asyncio.gather(dying.stop(), restarted.stop(), return_exceptions=True)
        await owner.close()
        await bob.close()
