"""How dispatches reach the bot: a signed webhook, or the WebSocket gateway.

QQ pushes events either to an HTTPS callback (webhook, what QQ recommends for new
bots) or over a WebSocket the bot opens. Both hand each dispatch to ``deliver`` and
wait for it: the webhook answers QQ (op 12, "received") only once the event is
stored, and answers 500 when storing failed, so QQ delivers it again; the engine
drops a repeat by its event id.

Webhook: every dispatch must carry a valid ``X-Signature-Ed25519`` over
``X-Signature-Timestamp + body``. The validation request (op 13) comes unsigned (the
documentation's example has only ``User-Agent`` and ``X-Bot-Appid``), and answering
it signs ``event_ts + plain_token``, which is what a dispatch signature covers
(``timestamp + body``): answered blindly, a stranger could have any body signed. So
op 13 is answered only for this app id, a numeric ``event_ts`` and an alphanumeric
``plain_token`` (the documented shapes); a JSON object can never be signed that way.

Gateway: hello (op 10) gives the heartbeat interval; the bot identifies (op 2) or,
after a dropped connection, resumes (op 6) with the session id and the last seq;
heartbeats (op 1) run in their own task, so a slow handler never starves them;
reconnect (op 7) resumes, invalid session (op 9) starts a new session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from shequn.platforms.port import PlatformError
from shequn.platforms.qqbot.signing import Signer

__all__ = ["INTENTS", "Deliver", "GatewaySession", "run_websocket", "webhook_app"]

log = logging.getLogger(__name__)

#: GUILDS, GUILD_MEMBERS, GUILD_MESSAGES (private guilds only), GROUP_AND_C2C_EVENT,
#: PUBLIC_GUILD_MESSAGES (@-messages in public guilds)
INTENTS = (1 << 0) | (1 << 1) | (1 << 9) | (1 << 25) | (1 << 30)
#: GUILD_MESSAGES is refused to public bots: the same without it
PUBLIC_INTENTS = INTENTS & ~(1 << 9)

_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9]{1,64}")
_EVENT_TS = re.compile(r"[0-9]{1,20}")

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


def _validation(app_id: str, request: web.Request, d: Any) -> tuple[str, str] | None:
    """(plain_token, event_ts) of an op 13 that may be answered, else None."""
    if not isinstance(d, dict) or request.headers.get("X-Bot-Appid", app_id) != app_id:
        return None
    token, ts = str(d.get("plain_token", "")), str(d.get("event_ts", ""))
    if _PLAIN_TOKEN.fullmatch(token) and _EVENT_TS.fullmatch(ts):
        return token, ts
    return None


def webhook_app(
    signer: Signer, deliver: Deliver, path: str = "/qqbot", *, app_id: str
) -> web.Application:
    """The callback endpoint QQ posts to, for the bot ``app_id``."""

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = json.loads(body)
        except ValueError:
            return web.json_response({"message": "not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"message": "not a JSON object"}, status=400)
        op = payload.get("op")
        if op == 13:
            asked = _validation(app_id, request, payload.get("d"))
            if asked is None:
                return web.json_response({"message": "not a validation request"}, status=400)
            return web.json_response(signer.validation_answer(*asked))
        ok = signer.verify(
            request.headers.get("X-Signature-Timestamp", ""),
            body,
            request.headers.get("X-Signature-Ed25519", ""),
        )
        if not ok:
            log.warning("QQ webhook: refused a request with a bad signature from %s",
                        request.remote)  # fmt: skip
            return web.json_response({"message": "bad signature"}, status=401)
        if op == 0:
            try:
                await deliver(payload)
            except Exception:
                log.exception("QQ webhook: event %s not handled; QQ will send it again",
                              payload.get("id"))  # fmt: skip
                return web.json_response({"message": "not handled"}, status=500)
        return web.json_response({"op": 12, "d": 0})

    app = web.Application()
    app.router.add_post(path, callback)
    return app


@dataclass
class GatewaySession:
    """What a resume needs; kept across reconnects."""

    session_id: str | None = None
    seq: int | None = None


async def run_websocket(
    *,
    gateway_url: Callable[[], Awaitable[str]],
    token: Callable[[], Awaitable[str]],
    intents: int,
    deliver: Deliver,
    stopping: asyncio.Event,
    session: GatewaySession | None = None,
    reconnect_delay: float = 5.0,
) -> None:
    """Keep a gateway connection until ``stopping``; reconnect and resume when it drops.

    An exception from ``deliver`` ends the connection and is raised from here.
    """
    state = session or GatewaySession()
    async with aiohttp.ClientSession() as http:
        while not stopping.is_set():
            try:
                await _connection(http, await gateway_url(), token, intents, deliver,
                                  stopping, state)  # fmt: skip
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                log.warning("QQ gateway: connection lost (%s)", exc or type(exc).__name__)
            except PlatformError as exc:  # no token, no gateway URL: try again later
                log.warning("QQ gateway: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), reconnect_delay)


async def _connection(
    http: aiohttp.ClientSession,
    url: str,
    token: Callable[[], Awaitable[str]],
    intents: int,
    deliver: Deliver,
    stopping: asyncio.Event,
    state: GatewaySession,
) -> None:
    async with http.ws_connect(url, heartbeat=None) as ws:
        hello = await ws.receive_json(timeout=30)
        if hello.get("op") != 10:
            raise ConnectionError(f"QQ gateway: expected hello, got op {hello.get('op')}")
        interval = float(hello["d"]["heartbeat_interval"]) / 1000
        auth = f"QQBot {await token()}"
        if state.session_id is not None:
            await ws.send_json({"op": 6, "d": {"token": auth, "session_id": state.session_id,
                                               "seq": state.seq or 0}})  # fmt: skip
        else:
            await ws.send_json({"op": 2, "d": {"token": auth, "intents": intents,
                                               "shard": [0, 1], "properties": {}}})  # fmt: skip
        beat = asyncio.create_task(_heartbeat(ws, interval, state))
        try:
            while not stopping.is_set():
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return  # closed (QQ closes with a code saying why; we reconnect)
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 0:
                    if isinstance(frame.get("s"), int):
                        state.seq = frame["s"]
                    if frame.get("t") == "READY":
                        state.session_id = str(frame["d"]["session_id"])
                    await deliver(frame)
                elif op == 7:  # reconnect: resume on a new connection
                    return
                elif op == 9:  # invalid session: identify afresh
                    state.session_id, state.seq = None, None
                    return
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat


async def _heartbeat(ws: Any, interval: float, state: GatewaySession) -> None:
    while True:
        await asyncio.sleep(interval)
        await ws.send_json({"op": 1, "d": state.seq})
