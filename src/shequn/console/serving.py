"""Run the console, alone or with the bot in the same process (``shequn serve --bot``).

With the bot beside it, the console and the bot share one event loop and one store:
the console's undo reaches the live platform connections (an unmute goes out at once
instead of becoming a task for a person), and the plans and mass messages it creates
are carried out by the bot's next tick. When either side stops, both stop: uvicorn
handles Ctrl-C / SIGTERM and then the bot is told to stop; a bot that fails stops the
server, and its error is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn

__all__ = ["BotRunner", "serve"]

#: Runs the bot until the event is set (e.g. a partial of ``commands.bot.run_bot``).
BotRunner = Callable[[asyncio.Event], Coroutine[Any, Any, Any]]


async def serve(
    app: Any,
    host: str,
    port: int,
    *,
    bot: BotRunner | None = None,
    log_level: str = "info",
    started: asyncio.Event | None = None,
    shutdown: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` on ``host:port`` until stopped, with ``bot`` running beside it.

    ``started`` is set once the server accepts connections; setting ``shutdown`` stops
    both gracefully, like a signal does (tests use the two).
    """
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off")
    )
    stop = asyncio.Event()
    bot_task = asyncio.create_task(bot(stop)) if bot is not None else None
    if bot_task is not None:
        bot_task.add_done_callback(lambda _: setattr(server, "should_exit", True))
    watch = asyncio.create_task(_watch(server, started, shutdown))
    try:
        await server.serve()
    finally:
        stop.set()
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        if bot_task is not None:
            await bot_task  # raises the bot's own error, if it failed


async def _watch(
    server: uvicorn.Server, started: asyncio.Event | None, shutdown: asyncio.Event | None
) -> None:
    while not server.started:
        await asyncio.sleep(0.02)
    if started is not None:
        started.set()
    if shutdown is not None:
        await shutdown.wait()
        server.should_exit = True
