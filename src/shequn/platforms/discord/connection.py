"""The gateway connection, kept by discord.py; the adapter only wants its raw frames.

discord.py does the identify, heartbeats, resume and zlib-stream decompression; with
``enable_debug_events`` it hands every frame over through ``on_socket_raw_receive``,
and the adapter translates the frames itself, so the code that is tested offline
with replayed frames is the code that runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["INTENTS", "Gateway", "discordpy_gateway", "import_discordpy"]

#: GUILDS, GUILD_MEMBERS*, GUILD_MODERATION, GUILD_INVITES, GUILD_MESSAGES,
#: GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGES (private appeals), MESSAGE_CONTENT*
#: (* privileged: switch on in the portal)
INTENTS = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 6) | (1 << 9) | (1 << 10) | (1 << 12) | (1 << 15)

#: ``gateway(token, receive, stopping)`` runs the connection until ``stopping`` is
#: set, calling ``receive`` with every frame (a JSON string or a parsed dict).
Gateway = Callable[[str, Callable[[Any], None], asyncio.Event], Coroutine[Any, Any, None]]


async def discordpy_gateway(
    token: str, receive: Callable[[Any], None], stopping: asyncio.Event
) -> None:
    """The real gateway, through a discord.py ``Client`` that caches as little as it can."""
    discord = import_discordpy()
    base: Any = discord.Client

    class _Client(base):
        async def on_socket_raw_receive(self, msg: str) -> None:
            receive(msg)

    intents = discord.Intents.none()
    intents.value = INTENTS
    client = _Client(
        intents=intents,
        enable_debug_events=True,  # makes discord.py hand over the raw frames
        max_messages=None,
        member_cache_flags=discord.MemberCacheFlags.none(),
        chunk_guilds_at_startup=False,
    )
    async with client:
        running = asyncio.create_task(client.start(token, reconnect=True))
        waiting = asyncio.create_task(stopping.wait())
        try:
            await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            await client.close()
            if not running.done():
                running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running  # LoginFailure, PrivilegedIntentsRequired surface here


def import_discordpy() -> Any:
    """``import discord``, without the warning its voice support gives on Python 3.11-3.12.

    discord.py imports ``audioop`` (deprecated, gone in 3.13) for voice, which shequn
    never uses; under ``-W error`` (the test suite) that import would fail.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        import discord
    return discord
