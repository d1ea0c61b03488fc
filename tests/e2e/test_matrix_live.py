"""The Matrix adapter against a real Synapse: events in, moderation out, as members see it.

Run with ``-s`` to see the measured figures (the bot's per-event processing time
against a send's round trip to the server).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from nio import AsyncClient, RoomPreset, RoomSendError, RoomVisibility
from synapse_server import MatrixUser, Synapse

from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
)
from shequn.platforms.matrix import MatrixAdapter, MatrixError
from shequn.platforms.port import Platform, PlatformError, Unsupported

WAIT = 10.0


class Member:
    """A plain Matrix client standing for a person in the room."""

    def __init__(self, server: Synapse, user: MatrixUser) -> None:
        self.id = user.user_id
        self.client = AsyncClient(server.url, user.user_id, device_id=user.device_id)
        self.client.access_token = user.access_token
        self.client.user_id = user.user_id

    async def say(self, room: str, text: str) -> str:
        resp = await self.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": text}
        )
        if isinstance(resp, RoomSendError):
            raise PlatformError(f"{resp.status_code} {resp.message}")
        return str(resp.event_id)

    async def event(self, room: str, event_id: str) -> dict[str, Any]:
        resp = await self.client.room_get_event(room, event_id)
        return dict(resp.event.source)

    async def joined(self) -> list[str]:
        return list((await self.client.joined_rooms()).rooms)


class Collector:
    """The handler: records every event and lets the test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event, platform: Platform) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, match: Callable[[Event], bool]) -> Any:
        async def found() -> Event:
            async with self._changed:
                while True:
                    for event in self.events:
                        if match(event):
                            return event
                    await self._changed.wait()

        return await asyncio.wait_for(found(), WAIT)


def ok(resp: Any) -> Any:
    assert not type(resp).__name__.endswith("Error"), resp
    return resp


async def test_matrix_adapter_end_to_end(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser]
) -> None:
    owner_u, bot_u = matrix_user("owner", admin=True), matrix_user("shequn")
    owner, alice, bob, carol = (
        Member(synapse, u)
        for u in (owner_u, matrix_user("alice"), matrix_user("bob"), matrix_user("carol"))
    )
    bot_id = bot_u.user_id
    adapter = MatrixAdapter(synapse.url, bot_id, access_token=bot_u.access_token)
    seen = Collector()
    loop: asyncio.Task[None] | None = None
    try:
        room = ok(
            await owner.client.room_create(
                visibility=RoomVisibility.public,
                name="shequn 测试群",
                preset=RoomPreset.public_chat,
                invite=[bot_id],
                power_level_override={"users": {bot_id: 100}},
            )
        ).room_id
        ok(await alice.client.join(room))
        loop = asyncio.create_task(adapter.start(seen))
        # The bot accepts the invitation on its own and announces the room.
        group = await seen.wait(lambda e: isinstance(e, GroupSeen) and e.group_id == room)
        assert group.name == "shequn 测试群"
        await seen.wait(lambda e: isinstance(e, MemberJoined) and e.member.platform_id == bot_id)
        assert not any(
            isinstance(e, MemberJoined) and e.member.platform_id == alice.id for e in seen.events
        ), "history from before the bot joined must not be delivered"

        # Messages, Chinese and English, with sender, text and ids.
        zh = await alice.say(room, "大家好，今天签到了吗？")
        en = await alice.say(room, "Hello everyone")
        for event_id, text in ((zh, "大家好，今天签到了吗？"), (en, "Hello everyone")):
            got = await seen.wait(
                lambda e, i=event_id: isinstance(e, MessagePosted) and e.message_id == i
            )
            assert (got.platform, got.group_id, got.text) == ("matrix", room, text)
            assert got.sender.platform_id == alice.id and not got.sender.is_bot

        # A member joins by invitation.
        ok(await owner.client.room_invite(room, carol.id))
        ok(await carol.client.join(room))
        joined = await seen.wait(
            lambda e: isinstance(e, MemberJoined) and e.member.platform_id == carol.id
        )
        assert joined.method is JoinMethod.INVITED and joined.inviter.platform_id == owner.id
        ok(await bob.client.join(room))
        await seen.wait(lambda e: isinstance(e, MemberJoined) and e.member.platform_id == bob.id)

        # The bot replies; the member's client sees a reply to their message.
        reply = await adapter.send(room, "收到，已签到 ✅", reply_to=zh)
        as_seen = await alice.event(room, reply)
        assert as_seen["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == zh
        assert as_seen["sender"] == bot_id
        mine = await seen.wait(lambda e: isinstance(e, MessagePosted) and e.message_id == reply)
        assert mine.sender.is_bot and mine.reply_to == zh

        # The bot redacts a message; the member's client sees it redacted.
        spam = await alice.say(room, "加微信领红包 vx123456")
        await seen.wait(lambda e: isinstance(e, MessagePosted) and e.message_id == spam)
        await adapter.delete(room, spam, reason="spam")
        gone = await alice.event(room, spam)
        assert gone["content"] == {}
        assert gone["unsigned"]["redacted_because"]["sender"] == bot_id

        # Mute: the server refuses the member's next message; unmute lets them speak.
        await adapter.mute(room, alice.id, 600)
        levels = ok(await owner.client.room_get_state_event(room, "m.room.power_levels")).content
        assert levels["users"][alice.id] < levels.get("events_default", 0)
        refused = await alice.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "我被禁言了吗"}
        )
        assert isinstance(refused, RoomSendError) and refused.status_code == "M_FORBIDDEN"
        await adapter.mute(room, alice.id, 0)
        levels = ok(await owner.client.room_get_state_event(room, "m.room.power_levels")).content
        assert alice.id not in levels["users"]
        back = await alice.say(room, "我又能说话了")
        await seen.wait(lambda e: isinstance(e, MessagePosted) and e.message_id == back)

        # Kick: the member is out of the room and the handler hears who did it.
        await adapter.kick(room, carol.id, reason="刷屏")
        left = await seen.wait(
            lambda e: isinstance(e, MemberLeft) and e.member.platform_id == carol.id
        )
        assert left.kicked and left.removed_by.platform_id == bot_id
        assert room not in await carol.joined()

        # Ban keeps them out until unbanned.
        await adapter.kick(room, bob.id, ban=True, reason="广告")
        banned = await seen.wait(
            lambda e: isinstance(e, MemberLeft) and e.member.platform_id == bob.id
        )
        assert banned.removed_by.platform_id == bot_id
        assert type(await bob.client.join(room)).__name__ == "JoinError"
        await adapter.unban(room, bob.id)
        ok(await bob.client.join(room))

        # The server's refusals come back as PlatformError; cards do not exist here.
        with pytest.raises(PlatformError, match="M_FORBIDDEN"):
            await adapter.kick(room, owner.id)
        with pytest.raises(Unsupported):
            await adapter.set_card(room, alice.id, "小爱")

        await _knock_room(synapse, matrix_user, owner, bot_id, adapter, seen)
        _report(await _round_trips(adapter, room, alice, seen), adapter.timings, synapse)
    finally:
        await adapter.stop()
        if loop is not None:
            await asyncio.wait_for(loop, WAIT)
        for m in (owner, alice, bob, carol):
            await m.client.close()


async def _knock_room(
    synapse: Synapse,
    matrix_user: Callable[..., MatrixUser],
    owner: Member,
    bot_id: str,
    adapter: MatrixAdapter,
    seen: Collector,
) -> None:
    """Approve one knock (an invitation follows) and deny another (a kick follows)."""
    dave, erin = Member(synapse, matrix_user("dave")), Member(synapse, matrix_user("erin"))
    room = ok(
        await owner.client.room_create(
            name="knock room",
            invite=[bot_id],
            initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
            power_level_override={"users": {bot_id: 100}},
        )
    ).room_id
    await seen.wait(
        lambda e: (
            isinstance(e, MemberJoined) and e.group_id == room and e.member.platform_id == bot_id
        )
    )
    try:
        ok(await dave.client.room_knock(room, "朋友推荐"))
        asked = await seen.wait(
            lambda e: isinstance(e, JoinRequested) and e.member.platform_id == dave.id
        )
        assert (asked.group_id, asked.request_id, asked.answer) == (room, dave.id, "朋友推荐")
        await adapter.approve_join(room, asked.request_id, True)
        ok(await dave.client.join(room))
        joined = await seen.wait(
            lambda e: isinstance(e, MemberJoined) and e.member.platform_id == dave.id
        )
        assert joined.inviter.platform_id == bot_id

        ok(await erin.client.room_knock(room))
        asked = await seen.wait(
            lambda e: isinstance(e, JoinRequested) and e.member.platform_id == erin.id
        )
        await adapter.approve_join(room, asked.request_id, False, reason="不认识")
        state = ok(await owner.client.room_get_state_event(room, "m.room.member", erin.id)).content
        assert state["membership"] == "leave"
        assert type(await erin.client.join(room)).__name__ == "JoinError"

        # The bot itself removed: the last events of the room it left still arrive.
        ok(await owner.client.room_kick(room, bot_id, "再见"))
        out = await seen.wait(
            lambda e: isinstance(e, MemberLeft) and e.member.platform_id == bot_id
        )
        assert out.group_id == room and out.removed_by.platform_id == owner.id
    finally:
        await dave.client.close()
        await erin.client.close()


async def _round_trips(
    adapter: MatrixAdapter, room: str, alice: Member, seen: Collector, n: int = 20
) -> dict[str, list[float]]:
    """Send round trips (the bot's POST) and delivery latencies (member send → handler)."""
    sends, deliveries = [], []
    for i in range(n):
        t0 = time.perf_counter()
        await adapter.send(room, f"ping {i}")
        sends.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        eid = await alice.say(room, f"消息 {i}")
        await seen.wait(lambda e, i=eid: isinstance(e, MessagePosted) and e.message_id == i)
        deliveries.append(time.perf_counter() - t0)
    return {"send": sends, "delivery": deliveries}


def _report(trips: dict[str, list[float]], timings: list[float], synapse: Synapse) -> None:
    ms = 1000.0
    process = statistics.median(timings) * ms
    send = statistics.median(trips["send"]) * ms
    print(
        f"\nmatrix e2e: Synapse start {synapse.start_seconds:.2f} s; "
        f"per-event processing (translate + handler) median {process:.3f} ms over {len(timings)}; "
        f"send round trip median {send:.1f} ms; "
        f"member send → handler median {statistics.median(trips['delivery']) * ms:.1f} ms; "
        f"ratio send/processing {send / process:.0f}×"
    )
    assert process < send


async def test_resume_from_since_redelivers_what_a_failed_handler_missed(
    synapse: Synapse, matrix_user: Callable[..., MatrixUser]
) -> None:
    """At-least-once: a handler that raises ends ``start`` with ``since`` before the event."""
    owner_u, bot_u = matrix_user("owner"), matrix_user("shequn")
    owner = Member(synapse, owner_u)
    seen, failing = Collector(), Collector()
    try:
        room = ok(await owner.client.room_create(name="resume", invite=[bot_u.user_id])).room_id
        first = MatrixAdapter(synapse.url, bot_u.user_id, access_token=bot_u.access_token)
        loop = asyncio.create_task(first.start(seen))
        await seen.wait(
            lambda e: isinstance(e, MemberJoined) and e.member.platform_id == bot_u.user_id
        )
        await first.stop()
        await asyncio.wait_for(loop, WAIT)

        offline = await owner.say(room, "机器人不在线时发的消息")

        # (Skipping history without a sync token is checked in the end-to-end test; a
        # second check here raced the server's sync under load, so it was dropped.)
        # With the token, the adapter delivers what it missed; a handler that fails
        # leaves the token before it.
        async def broken(event: Event, platform: Platform) -> None:
            await failing(event, platform)
            if isinstance(event, MessagePosted):
                raise RuntimeError("archive is down")

        retry = MatrixAdapter(
            synapse.url, bot_u.user_id, access_token=bot_u.access_token, since=first.since
        )
        with pytest.raises(RuntimeError, match="archive is down"):
            await asyncio.wait_for(retry.start(broken), WAIT)
        assert retry.since == first.since

        again = MatrixAdapter(
            synapse.url, bot_u.user_id, access_token=bot_u.access_token, since=retry.since
        )
        again_seen = Collector()
        loop = asyncio.create_task(again.start(again_seen))
        got = await again_seen.wait(lambda e: isinstance(e, MessagePosted))
        assert got.message_id == offline and got.text == "机器人不在线时发的消息"
        await again.stop()
        await asyncio.wait_for(loop, WAIT)
    finally:
        await owner.client.close()


async def test_a_revoked_token_ends_start_with_the_servers_code(synapse: Synapse) -> None:
    adapter = MatrixAdapter(synapse.url, "@nobody:localhost", access_token="syt_revoked")
    with pytest.raises(MatrixError) as err:
        await asyncio.wait_for(adapter.start(Collector()), WAIT)
    assert err.value.errcode == "M_UNKNOWN_TOKEN"
