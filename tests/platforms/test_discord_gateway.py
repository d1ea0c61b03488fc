"""The real gateway path: discord.py's client against a loopback Discord.

Everything else in the Discord tests feeds frames to the adapter's ``receive`` seam;
this one runs :func:`discordpy_gateway` unchanged, with discord.py pointed at a local
server that speaks the documented handshake (HELLO, IDENTIFY, READY) over a
``zlib-stream`` compressed WebSocket, so it proves that the intents are asked for,
that the raw frames reach the adapter through ``on_socket_raw_receive`` and that
:meth:`DiscordAdapter.stop` ends the connection.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yarl
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from shequn.events import Event, GroupSeen, MessagePosted
from shequn.platforms.discord import INTENTS, DiscordAdapter
from shequn.platforms.discord.connection import import_discordpy
from shequn.platforms.port import Platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
FRAMES: dict[str, dict[str, Any]] = {
    f["name"]: f["frame"]
    for f in json.loads((FIXTURES / "gateway.json").read_text(encoding="utf-8"))
}
TOKEN = "MTAxNjcxMjA1NDQyNDQyNDQ0OA.GhB9x1.fake-token-for-tests"
discord = import_discordpy()
BOT = FRAMES["ready"]["d"]["user"]


def _json(body: Any, status: int = 200) -> web.Response:
    # exactly "application/json" as Discord sends it: discord.py compares the header
    # verbatim and takes "application/json; charset=utf-8" for text
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


class LoopbackDiscord:
    """``/api/v10`` for login, ``/gateway`` for one session."""

    def __init__(self) -> None:
        self.identify: dict[str, Any] | None = None
        self.query: dict[str, str] = {}
        self.closed = asyncio.Event()

    async def rest(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bot {TOKEN}"
        if request.path.endswith("/users/@me"):
            return _json(BOT)
        if request.path.endswith("/oauth2/applications/@me"):
            return _json({
                "id": BOT["id"], "name": "shequn", "description": "", "icon": None,
                "bot_public": False, "bot_require_code_grant": False, "verify_key": "00",
                "owner": {"id": "73193882359173120", "username": "boss", "discriminator": "0",
                          "avatar": None},
                "flags": 8953856,
            })  # fmt: skip
        if request.path.endswith("/invites"):
            return _json([])
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.query = dict(request.query)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        z = zlib.compressobj()

        async def send(frame: dict[str, Any]) -> None:
            data = json.dumps(frame, ensure_ascii=False).encode()
            await ws.send_bytes(z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH))

        await send({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": 41250}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 2:  # IDENTIFY: the session starts
                self.identify = frame
                for name in ("ready", "guild_create", "message_text", "message_in_thread"):
                    await send(FRAMES[name])
            elif frame["op"] == 1:  # heartbeat
                await send({"op": 11})
        self.closed.set()
        return ws


@pytest.fixture
async def loopback(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[LoopbackDiscord, str]]:
    fake = LoopbackDiscord()
    app = web.Application()
    app.router.add_get("/gateway", fake.gateway)
    app.router.add_route("*", "/api/v10/{tail:.*}", fake.rest)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = f"http://127.0.0.1:{server.port}"
    monkeypatch.setattr(discord.http.Route, "BASE", f"{base}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        yarl.URL(f"ws://127.0.0.1:{server.port}/gateway"),
    )
    try:
        yield fake, f"{base}/api/v10"
    finally:
        await server.close()


async def test_discordpy_delivers_the_raw_frames(loopback: tuple[LoopbackDiscord, str]) -> None:
    fake, api = loopback
    adapter = DiscordAdapter(TOKEN, api)  # the default gateway: discord.py
    received: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        received.append(event)

    task = asyncio.create_task(adapter.start(handle))
    async with asyncio.timeout(10):
        while sum(isinstance(e, MessagePosted) for e in received) < 2:
            await asyncio.sleep(0.02)
    await adapter.stop()
    await asyncio.wait_for(task, 10)
    await asyncio.wait_for(fake.closed.wait(), 10)

    assert fake.identify is not None
    assert fake.identify["d"]["token"] == TOKEN
    assert fake.identify["d"]["intents"] == INTENTS
    assert fake.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    posted = [e for e in received if isinstance(e, MessagePosted)]
    assert [(e.group_id, e.text) for e in posted] == [
        ("41771983423143937", "Supa Hot"),
        ("41771983423143937", "同意楼上"),  # the thread's message, in its parent's group
    ]
    assert sum(isinstance(e, GroupSeen) for e in received) == 5
