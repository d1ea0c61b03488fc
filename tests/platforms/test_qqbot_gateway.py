"""The two ways QQ delivers, run for real on loopback: the WebSocket gateway (hello,
identify, heartbeats, a dropped connection resumed with session id and seq) and the
webhook listener that :meth:`QQBotAdapter.start` opens."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

from aiohttp import ClientSession, WSMsgType, web
from aiohttp.test_utils import TestServer
from test_qqbot_rest import APP_ID, PAYLOADS, SECRET, Clock, FakeQQApi, api, make_adapter
from test_qqbot_webhook import qq_sign

from shequn.events import Event, MessagePosted
from shequn.platforms.port import Platform
from shequn.platforms.qqbot import INTENTS

__all__ = ["api"]  # the fixture, imported for its side effect


async def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


class FakeGateway:
    """Speaks QQ's gateway opcodes; drops the first connection after two dispatches."""

    def __init__(self) -> None:
        self.received: list[list[dict[str, Any]]] = []  # per connection, what the bot sent

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sent: list[dict[str, Any]] = []
        self.received.append(sent)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 50}})
        first = len(self.received) == 1

        async def reader() -> None:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    frame = json.loads(msg.data)
                    sent.append(frame)
                    if frame["op"] == 1:
                        await ws.send_json({"op": 11})

        task = asyncio.create_task(reader())
        await _until(lambda: bool(sent))  # identify or resume
        if first:
            await ws.send_json(PAYLOADS["ready"])
            await ws.send_json(dict(PAYLOADS["group_at_message"], s=2))
            await _until(lambda: any(f["op"] == 1 and f["d"] == 2 for f in sent))
            await ws.close()  # the connection drops
        else:
            await ws.send_json(dict(PAYLOADS["at_message"], s=3))
            await ws.send_json({"op": 0, "s": 4, "t": "RESUMED", "d": ""})
            await task
        task.cancel()
        return ws


async def test_the_gateway_identifies_beats_and_resumes(api: tuple[FakeQQApi, str]) -> None:
    fake, base = api
    gateway = FakeGateway()
    app = web.Application()
    app.router.add_get("/websocket", gateway.ws)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.ws_url = f"ws://127.0.0.1:{server.port}/websocket"
    adapter = make_adapter(base, Clock(1_790_000_000.0), mode="websocket", reconnect_delay=0.05)
    handled: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        handled.append(event)

    task = asyncio.create_task(adapter.start(handle))
    try:
        await _until(lambda: len(handled) == 2)
    finally:
        await adapter.stop()
        await asyncio.wait_for(task, 5)
        await server.close()
    assert [e.group_id for e in handled if isinstance(e, MessagePosted)] == [
        "group:C9F778FE6ADF9D1D1DBE395BF744A33A", "channel:100010",
    ]  # fmt: skip
    first, second = gateway.received[0], gateway.received[1]
    assert first[0] == {"op": 2, "d": {"token": "QQBot token-1", "intents": INTENTS,
                                       "shard": [0, 1], "properties": {}}}  # fmt: skip
    assert {"op": 1, "d": 2} in first  # heartbeats carry the last seq
    assert second[0] == {"op": 6, "d": {"token": "QQBot token-1",
                                        "session_id": "082ee18c-0be3-491b-9d8b-fbd95c51673a",
                                        "seq": 2}}  # fmt: skip
    assert ("GET", "/gateway", None) in fake.calls


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_start_listens_for_the_webhook_until_stopped() -> None:
    port = _free_port()
    from shequn.platforms.qqbot import QQBotAdapter

    adapter = QQBotAdapter(SECRET, APP_ID, listen_port=port, path="/cb")
    handled: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        handled.append(event)

    task = asyncio.create_task(adapter.start(handle))
    body = json.dumps(PAYLOADS["group_at_message"]).encode()
    headers = {"X-Signature-Timestamp": "1", "X-Signature-Ed25519": qq_sign(SECRET, "1", body)}
    async with ClientSession() as http:
        for _ in range(200):  # until the listener is up
            try:
                async with http.post(f"http://127.0.0.1:{port}/cb", data=body,
                                     headers=headers) as resp:  # fmt: skip
                    assert resp.status == 200
                    break
            except OSError:
                await asyncio.sleep(0.02)
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    assert len(handled) == 1
