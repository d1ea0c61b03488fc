"""Helpers of the live Matrix tests: a member's client, posting, waiting for an effect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nio import AsyncClient, RoomSendError
from synapse_server import MatrixUser, Synapse

WAIT = 15.0


async def until(check: Callable[[], Any], what: str, wait: float = WAIT) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def client_of(server: Synapse, user: MatrixUser) -> AsyncClient:
    """A logged-in nio client of ``user``."""
    c = AsyncClient(server.url, user.user_id, device_id=user.device_id)
    c.access_token = user.access_token
    c.user_id = user.user_id
    return c


async def say(c: AsyncClient, room: str, text: str) -> str | None:
    """The new event id, or None when the server refuses (muted)."""
    resp = await c.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
    return None if isinstance(resp, RoomSendError) else str(resp.event_id)
