"""OneBot v11: replayed payloads in, exact action frames out, over real WebSockets.

A small aiohttp server on 127.0.0.1 plays NapCat / go-cqhttp: it pushes the fixture
events (tests/fixtures/onebot/events.json, sources in its README) and answers every
action frame with the documented ``{status, retcode, data, echo}`` reply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shequn.events import (
    DirectMessage,
    Event,
    JoinMethod,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
)
from shequn.platforms.onebot import OneBotAdapter, parse_cq, translate
from shequn.platforms.port import Adapter, Capability, Platform, PlatformError, Unsupported

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onebot"
PAYLOADS: dict[str, dict[str, Any]] = {
    f["name"]: f["event"]
    for f in json.loads((FIXTURES / "events.json").read_text(encoding="utf-8"))
}
TOKEN = "s3cret"
G = "100100"


def _msg(mid: str, ts: int, sender: MemberRef, **kw: Any) -> MessagePosted:
    return MessagePosted("qq", G, mid, float(ts), sender, **kw)


XM = MemberRef("10002000", "小明")
EXPECTED: dict[str, list[Event]] = {
    "reply_at_text_array": [
        _msg("1001", 1700000000, MemberRef("10002000", "群名片"), text="纯文本内容",
             reply_to="123456", mentions=(MemberRef("10001000"),))
    ],
    "reply_at_text_cq_string": [
        _msg("1002", 1700000001, MemberRef("10002000", "群名片"), text="纯文本内容",
             reply_to="123456", mentions=(MemberRef("10001000"),))
    ],
    "at_all_cq_escaped": [
        _msg("1003", 1700000002, MemberRef("10003000", "Test", is_operator=True),
             text="Test text [not a code] & more")
    ],
    "image": [_msg("1004", 1700000003, XM, kind=MessageKind.IMAGE, media=("http://baidu.com/1.jpg",))],
    "face": [_msg("1005", 1700000004, XM, text="早")],
    "record": [_msg("1006", 1700000005, XM, kind=MessageKind.VOICE)],
    "video": [_msg("1007", 1700000006, XM, kind=MessageKind.VIDEO)],
    "file": [_msg("1008", 1700000007, XM, kind=MessageKind.FILE)],
    "json_miniapp": [_msg("1009", 1700000008, XM, kind=MessageKind.MINIPROGRAM)],
    "share": [_msg("1010", 1700000009, XM, kind=MessageKind.LINK)],
    "forward": [
        _msg("1011", 1700000010, MemberRef("10002000", "小明", is_operator=True),
             kind=MessageKind.FORWARD, forwarded=True)
    ],
    # a private message to the account: its text segments (the @all is group-only)
    "private_message": [
        DirectMessage("qq", "dm:1", "1", 0.0, MemberRef("1", "Test"), "Test text")
    ],
    "heartbeat": [],
    "increase_approve": [
        MemberJoined("qq", G, "group_increase:1700000012:100100:10004000", 1700000012.0,
                     MemberRef("10004000"), method=JoinMethod.REQUEST)
    ],
    "increase_invite": [
        MemberJoined("qq", G, "group_increase:1700000013:100100:10005000", 1700000013.0,
                     MemberRef("10005000"), inviter=MemberRef("10002000"),
                     method=JoinMethod.INVITED)
    ],
    "decrease_leave": [
        MemberLeft("qq", G, "group_decrease:1700000014:100100:10005000", 1700000014.0,
                   MemberRef("10005000"))
    ],
    "decrease_kick": [
        MemberLeft("qq", G, "group_decrease:1700000015:100100:10004000", 1700000015.0,
                   MemberRef("10004000"), removed_by=MemberRef("10003000"), kicked=True)
    ],
    "decrease_kick_me": [
        MemberLeft("qq", G, "group_decrease:1700000016:100100:10001001", 1700000016.0,
                   MemberRef("10001001"), removed_by=MemberRef("10003000"), kicked=True)
    ],
    "ban": [],
    "recall": [],
    "card": [
        MemberRenamed("qq", G, "group_card:1700000019:100100:10002000", 1700000019.0,
                      MemberRef("10002000", "小明-北京"), "群名片", "小明-北京")
    ],
    "request_add": [
        JoinRequested("qq", G, "1700000020123456", 1700000020.0, MemberRef("10006000"),
                      answer="问题：从哪里知道本群？\n答案：朋友推荐")
    ],
    "request_invite": [],
}  # fmt: skip


def test_every_fixture_has_an_expectation() -> None:
    assert set(PAYLOADS) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_translate(name: str) -> None:
    assert translate(PAYLOADS[name]) == EXPECTED[name]


def test_parse_cq_unescapes_text_and_params() -> None:
    assert parse_cq("a&#91;b&#93;[CQ:share,url=http://x/?a=1&amp;b=2,title=t&#44;u]z") == [
        {"type": "text", "data": {"text": "a[b]"}},
        {"type": "share", "data": {"url": "http://x/?a=1&b=2", "title": "t,u"}},
        {"type": "text", "data": {"text": "z"}},
    ]
    assert parse_cq("[CQ:dice]") == [{"type": "dice", "data": {}}]


def test_adapter_fits_the_port() -> None:
    adapter = OneBotAdapter("ws://127.0.0.1:1/", TOKEN)
    assert isinstance(adapter, Adapter)
    assert isinstance(adapter, Platform)
    assert adapter.capabilities == frozenset(Capability) - {Capability.ROLE}


# -- a OneBot implementation on loopback -------------------------------------------------


class FakeImplementation:
    """The implementation's side of one Universal WebSocket connection."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.actions: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}  # action -> fields to override
        self.headers: dict[str, str] = {}

    async def speak(self, ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
        """Push the events, then answer action frames until the socket closes."""
        for event in self.events:
            await ws.send_json(event)
        async for msg in ws:
            frame = json.loads(msg.data)
            self.actions.append({k: frame[k] for k in ("action", "params")})
            reply: dict[str, Any] = {"status": "ok", "retcode": 0, "data": None}
            if frame["action"] in ("send_group_msg", "send_private_msg"):
                reply["data"] = {"message_id": 4242}
            reply.update(self.replies.get(frame["action"], {}))
            reply["echo"] = frame["echo"]
            await ws.send_json(reply)

    async def forward_endpoint(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        self.headers = dict(request.headers)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await self.speak(ws)
        return ws


async def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


@pytest.fixture
async def impl() -> AsyncIterator[tuple[FakeImplementation, str]]:
    fake = FakeImplementation(list(PAYLOADS.values()))
    app = web.Application()
    app.router.add_get("/", fake.forward_endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"ws://127.0.0.1:{server.port}/"
    finally:
        await server.close()


async def _started(adapter: OneBotAdapter, received: list[Event]) -> asyncio.Task[None]:
    async def handle(event: Event, platform: Platform) -> None:
        received.append(event)

    task = asyncio.create_task(adapter.start(handle))
    await asyncio.wait_for(adapter.ready.wait(), 5)
    return task


async def _stopped(adapter: OneBotAdapter, task: asyncio.Task[None]) -> None:
    await adapter.stop()
    await asyncio.wait_for(task, 5)


async def test_forward_mode_replays_every_fixture_in_order(
    impl: tuple[FakeImplementation, str],
) -> None:
    fake, url = impl
    adapter = OneBotAdapter(url, TOKEN, "forward", self_id="10001001")
    received: list[Event] = []
    task = await _started(adapter, received)
    expected = [e for events in EXPECTED.values() for e in events]
    await _until(lambda: len(received) == len(expected))
    await _stopped(adapter, task)
    assert received == expected
    assert fake.headers["X-Self-ID"] == "10001001"


async def test_forward_mode_sends_the_exact_action_frames(
    impl: tuple[FakeImplementation, str],
) -> None:
    fake, url = impl
    adapter = OneBotAdapter(url, TOKEN, "forward")
    received: list[Event] = []
    task = await _started(adapter, received)
    # the join request must have been seen, so approve_join knows its sub_type
    await _until(lambda: any(isinstance(e, JoinRequested) for e in received))

    assert await adapter.send(G, "欢迎", reply_to="1001") == "4242"
    assert await adapter.send(G, "hello") == "4242"
    assert await adapter.send("dm:10002000", "收到") == "4242"  # a private answer
    await adapter.delete(G, "1001")
    await adapter.mute(G, "10002000", 600)
    await adapter.mute(G, "10002000", 0)
    await adapter.kick(G, "10004000")
    await adapter.kick(G, "10004000", ban=True, reason="spam")
    await adapter.set_card(G, "10002000", "小明-北京")
    await adapter.approve_join(G, "1700000020123456", True)
    await adapter.approve_join(G, "1700000020999999", False, "请先回答问题")
    with pytest.raises(Unsupported):
        await adapter.unban(G, "10004000")
    await _stopped(adapter, task)

    group, user = 100100, 10002000
    assert fake.actions == [
        {"action": "send_group_msg", "params": {"group_id": group, "message": [
            {"type": "reply", "data": {"id": "1001"}},
            {"type": "text", "data": {"text": "欢迎"}},
        ]}},
        {"action": "send_group_msg", "params": {"group_id": group, "message": [
            {"type": "text", "data": {"text": "hello"}},
        ]}},
        {"action": "send_private_msg", "params": {"user_id": user, "message": [
            {"type": "text", "data": {"text": "收到"}},
        ]}},
        {"action": "delete_msg", "params": {"message_id": 1001}},
        {"action": "set_group_ban", "params": {"group_id": group, "user_id": user, "duration": 600}},
        {"action": "set_group_ban", "params": {"group_id": group, "user_id": user, "duration": 0}},
        {"action": "set_group_kick",
         "params": {"group_id": group, "user_id": 10004000, "reject_add_request": False}},
        {"action": "set_group_kick",
         "params": {"group_id": group, "user_id": 10004000, "reject_add_request": True}},
        {"action": "set_group_card",
         "params": {"group_id": group, "user_id": user, "card": "小明-北京"}},
        {"action": "set_group_add_request",
         "params": {"flag": "1700000020123456", "sub_type": "add", "approve": True}},
        {"action": "set_group_add_request",
         "params": {"flag": "1700000020999999", "sub_type": "add", "approve": False,
                    "reason": "请先回答问题"}},
    ]  # fmt: skip


async def test_nonzero_retcode_is_a_platform_error(impl: tuple[FakeImplementation, str]) -> None:
    fake, url = impl
    fake.replies["delete_msg"] = {"status": "failed", "retcode": 100, "wording": "消息不存在"}
    adapter = OneBotAdapter(url, TOKEN)
    task = await _started(adapter, [])
    with pytest.raises(PlatformError, match="retcode 100 消息不存在"):
        await adapter.delete(G, "999")
    await _stopped(adapter, task)


async def test_a_handler_may_act_while_handling(impl: tuple[FakeImplementation, str]) -> None:
    """The reply to an action arrives while the handler still holds its event."""
    _, url = impl
    adapter = OneBotAdapter(url, TOKEN)
    sent: list[str] = []

    async def handle(event: Event, platform: Platform) -> None:
        if isinstance(event, MessagePosted) and event.message_id == "1001":
            sent.append(await platform.send(event.group_id, "收到", reply_to=event.message_id))

    task = asyncio.create_task(adapter.start(handle))
    await _until(lambda: sent == ["4242"])
    await _stopped(adapter, task)


async def test_reverse_mode_needs_the_token_and_serves_one_connection() -> None:
    adapter = OneBotAdapter("ws://127.0.0.1:0/onebot/v11/ws", TOKEN, "reverse", "10001001")
    received: list[Event] = []
    task = await _started(adapter, received)
    url = f"http://127.0.0.1:{adapter.port}/onebot/v11/ws"
    fake = FakeImplementation([PAYLOADS["reply_at_text_array"], PAYLOADS["request_add"]])
    async with aiohttp.ClientSession() as session:
        refused = {
            "no token": {"X-Self-ID": "10001001"},
            "wrong token": {"X-Self-ID": "10001001", "Authorization": "Bearer nope"},
            "wrong account": {"X-Self-ID": "42", "Authorization": f"Bearer {TOKEN}"},
            "split roles": {
                "X-Self-ID": "10001001",
                "X-Client-Role": "Event",
                "Authorization": f"Bearer {TOKEN}",
            },
        }
        for headers in refused.values():
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await session.ws_connect(url, headers=headers)
            assert err.value.status in (400, 401, 403)
        headers = {"X-Self-ID": "10001001", "X-Client-Role": "Universal",
                   "Authorization": f"Bearer {TOKEN}"}  # fmt: skip
        async with session.ws_connect(url, headers=headers) as ws:
            speaking = asyncio.create_task(fake.speak(ws))
            await _until(lambda: len(received) == 2)
            assert await adapter.send(G, "欢迎", reply_to="1001") == "4242"
            await adapter.approve_join(G, "1700000020123456", False, "满员")
            await _stopped(adapter, task)
            await asyncio.wait_for(speaking, 5)
    assert received == EXPECTED["reply_at_text_array"] + EXPECTED["request_add"]
    assert fake.actions == [
        {"action": "send_group_msg", "params": {"group_id": 100100, "message": [
            {"type": "reply", "data": {"id": "1001"}},
            {"type": "text", "data": {"text": "欢迎"}},
        ]}},
        {"action": "set_group_add_request", "params": {
            "flag": "1700000020123456", "sub_type": "add", "approve": False, "reason": "满员"}},
    ]  # fmt: skip


async def test_forward_mode_reconnects_after_the_implementation_drops() -> None:
    first = FakeImplementation([PAYLOADS["image"]])
    second = FakeImplementation([PAYLOADS["record"]])
    connections = [first, second]

    async def endpoint(request: web.Request) -> web.StreamResponse:
        fake = connections.pop(0) if connections else FakeImplementation([])
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if fake is first:  # push one event, then drop the connection (a restart)
            await ws.send_json(PAYLOADS["image"])
            await ws.close()
            return ws
        await fake.speak(ws)
        return ws

    app = web.Application()
    app.router.add_get("/", endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        adapter = OneBotAdapter(f"ws://127.0.0.1:{server.port}/", None, reconnect_delay=0.05)
        received: list[Event] = []
        task = await _started(adapter, received)
        await _until(lambda: len(received) == 2)
        assert await adapter.send(G, "again") == "4242"
        await _stopped(adapter, task)
    finally:
        await server.close()
    assert received == EXPECTED["image"] + EXPECTED["record"]
    assert second.actions == [
        {"action": "send_group_msg",
         "params": {"group_id": 100100, "message": [{"type": "text", "data": {"text": "again"}}]}}
    ]  # fmt: skip


async def test_acting_without_a_connection_is_a_platform_error() -> None:
    adapter = OneBotAdapter("ws://127.0.0.1:1/", TOKEN, action_timeout=0.05)
    with pytest.raises(PlatformError, match="not connected"):
        await adapter.send(G, "hi")
