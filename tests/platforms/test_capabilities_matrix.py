"""Matrix: the bot's rights per room, from ``m.room.power_levels`` in the sync, into the outbox.

The power levels are the content Synapse writes for a new room (``private_chat``
preset: creator 100, ``state_default`` 50, ``m.room.power_levels`` 100); a loopback
homeserver serves them in ``/sync`` and records the client-server calls.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from capability_outbox import action, plan_one, tasks, until

from shequn.actions.moderation import carry_out
from shequn.events import Event
from shequn.platforms.matrix import MatrixAdapter, MatrixError, rights_from_levels
from shequn.platforms.port import Capability, Platform, capabilities_of
from shequn.store import Store

BOT, OWNER = "@shequn:localhost", "@owner:localhost"
ADMIN_ROOM, PLAIN_ROOM = "!admin:localhost", "!plain:localhost"
T0 = 1_791_000_000.0
#: what Synapse 1.x writes as m.room.power_levels for a private_chat room
SYNAPSE_LEVELS: dict[str, Any] = {
    "users": {OWNER: 100}, "users_default": 0,
    "events": {"m.room.name": 50, "m.room.power_levels": 100,
               "m.room.history_visibility": 100, "m.room.canonical_alias": 50,
               "m.room.avatar": 50, "m.room.tombstone": 100, "m.room.server_acl": 100,
               "m.room.encryption": 100},
    "events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50,
    "invite": 0, "historical": 100,
}  # fmt: skip


def levels(bot: int) -> dict[str, Any]:
    content = copy.deepcopy(SYNAPSE_LEVELS)
    content["users"][BOT] = bot
    return content


def levels_event(n: int, content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "m.room.power_levels", "state_key": "", "sender": OWNER,
            "event_id": f"$pl{n}", "origin_server_ts": int(T0 * 1000) + n,
            "content": content, "unsigned": {"age": 10}}  # fmt: skip


def test_rights_from_synapse_levels() -> None:
    everything = frozenset(Capability) - {Capability.SET_CARD, Capability.ROLE}
    assert rights_from_levels(levels(100), BOT) == everything
    moderator = rights_from_levels(levels(50), BOT)
    assert moderator == everything - {Capability.MUTE}  # changing levels takes 100
    assert rights_from_levels(levels(0), BOT) == {
        Capability.SEND, Capability.REPLY, Capability.FETCH_MEDIA}  # fmt: skip
    read_only = {**levels(0), "events_default": 10}
    assert rights_from_levels(read_only, BOT) == {Capability.FETCH_MEDIA}
    assert rights_from_levels({}, BOT) == {Capability.SEND, Capability.REPLY,
                                           Capability.FETCH_MEDIA}  # fmt: skip


class Homeserver:
    def __init__(self) -> None:
        self.batches: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.requests: list[tuple[str, str]] = []
        self.errors: dict[str, tuple[int, dict[str, Any]]] = {}
        self.synced = 0

    async def endpoint(self, request: web.Request) -> web.Response:
        path = request.path
        if path.endswith("/sync"):
            rooms = await self.batches.get()
            self.synced += 1
            return web.json_response({"next_batch": f"s{self.synced}", "rooms": {"join": rooms}})
        self.requests.append((request.method, path))
        for fragment, (status, body) in self.errors.items():
            if fragment in path:
                return web.json_response(body, status=status)
        return web.json_response({"event_id": f"$bot{len(self.requests)}"})


def room(state: list[dict[str, Any]], timeline: list[dict[str, Any]]) -> dict[str, Any]:
    return {"state": {"events": state},
            "timeline": {"events": timeline, "limited": False, "prev_batch": "p0"}}  # fmt: skip


@pytest.fixture
async def homeserver() -> AsyncIterator[tuple[Homeserver, str]]:
    fake = Homeserver()
    app = web.Application()
    app.router.add_route("*", "/_matrix/client/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def test_power_levels_decide_api_call_or_human_task(
    sqlite_store: Store, homeserver: tuple[Homeserver, str]
) -> None:
    store = sqlite_store
    fake, base = homeserver
    adapter = MatrixAdapter(base, BOT, access_token="syt_test", since="s0", poll_ms=50)

    async def handle(event: Event, platform: Platform) -> None:
        return None

    task = asyncio.create_task(adapter.start(handle))
    await fake.batches.put({ADMIN_ROOM: room([levels_event(1, levels(100))], []),
                            PLAIN_ROOM: room([levels_event(2, levels(0))], [])})  # fmt: skip
    await until(lambda: fake.synced >= 1 and fake.batches.empty())
    await until(lambda: Capability.DELETE not in capabilities_of(adapter, PLAIN_ROOM))
    assert capabilities_of(adapter, ADMIN_ROOM) == adapter.capabilities
    assert capabilities_of(adapter, "!never:localhost") == adapter.capabilities  # unknown

    here = plan_one(store, adapter, ADMIN_ROOM, "delete", T0, message_id="$spam1")
    there = plan_one(store, adapter, PLAIN_ROOM, "delete", T0, message_id="$spam2")
    assert (action(store, here).status, action(store, there).status) == ("planned", "human_task")
    assert tasks(store) == [(PLAIN_ROOM, "delete")]
    assert await carry_out(store, adapter, now=T0) == 1
    assert [(m, p.split("/redact/")[0]) for m, p in fake.requests] == [
        ("PUT", f"/_matrix/client/v3/rooms/{ADMIN_ROOM}")]  # fmt: skip

    # the homeserver refuses a kick (a person lowered the bot's level meanwhile)
    fake.requests.clear()
    fake.errors["/kick"] = (403, {"errcode": "M_FORBIDDEN",
                                  "error": "You don't have permission to kick"})  # fmt: skip
    kick = plan_one(store, adapter, ADMIN_ROOM, "kick", T0, member_id="@spammer:localhost")
    await carry_out(store, adapter, now=T0)
    assert action(store, kick).status == "planned" and "M_FORBIDDEN" in action(store, kick).error
    assert Capability.KICK not in capabilities_of(adapter, ADMIN_ROOM)
    await carry_out(store, adapter, now=T0 + 10)
    assert action(store, kick).status == "human_task"
    # one kick, whose refusal made the adapter look whether the member was gone already
    # (the member is there: a missing right); the retry made no call
    assert [p.rsplit("/", 2)[-2:] for _, p in fake.requests] == [
        ["!admin:localhost", "kick"], ["m.room.member", "@spammer:localhost"]]  # fmt: skip

    # the owner raises the bot to moderator in the plain room: a timeline state event
    await fake.batches.put({PLAIN_ROOM: room([], [levels_event(3, levels(50))])})
    await until(lambda: Capability.DELETE in capabilities_of(adapter, PLAIN_ROOM))
    assert Capability.MUTE not in capabilities_of(adapter, PLAIN_ROOM)
    later = plan_one(store, adapter, PLAIN_ROOM, "delete", T0 + 20, message_id="$spam3")
    assert action(store, later).status == "planned"
    await adapter.stop()
    await asyncio.wait_for(task, 5)


def test_only_m_forbidden_teaches() -> None:
    adapter = MatrixAdapter("http://127.0.0.1:1", BOT, access_token="x")
    slow = MatrixError("matrix kick: 502 Bad Gateway", errcode=None)
    assert adapter.learn_refusal(ADMIN_ROOM, Capability.KICK, slow) is False
    forbidden = MatrixError("matrix ban: 403", errcode="M_FORBIDDEN")
    assert adapter.learn_refusal(ADMIN_ROOM, Capability.BAN, forbidden) is True
    assert capabilities_of(adapter, ADMIN_ROOM) == adapter.capabilities - {Capability.BAN}
