"""The QQ official bot: dispatches in (webhook or gateway), OpenAPI calls out.

**What it may do depends on the kind of group** (see
:mod:`shequn.platforms.qqbot.translate` for the ids). :data:`CHANNEL_CAPABILITIES`
hold in a guild sub-channel; in a QQ group only :data:`GROUP_CAPABILITIES`: the
group bot API has no call to recall a member's message, mute or remove anyone.
:attr:`QQBotAdapter.capabilities` is the union (what the engine may *plan*);
:meth:`QQBotAdapter.capabilities_for` gives the set of one group, which the outbox
and the console read through :func:`~shequn.platforms.port.capabilities_of`, so a
recall planned for a QQ group is a task for a person from the start. A call the
group kind cannot take still raises :class:`Unsupported`. In a guild, the rights
are the bot's role there (管理员 for recall, mute and remove): when QQ refuses a call
for lack of one (:class:`~shequn.platforms.qqbot.rest.Forbidden`), the adapter
learns it and the channel's set drops that capability until the adapter restarts.

Posts are passive replies whenever an anchor is open (see
:mod:`shequn.platforms.qqbot.replies`). With none, a post is an active
message only where the operator says QQ allows it (``active_messages``; QQ stopped
active pushes on 2025-04-21, and a group owner may allow them again for a bot), else
:class:`Unsupported`: a person posts it. A refusal by QQ (40034102) is
:class:`Unsupported` too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import aiohttp
from aiohttp import web

from shequn.events import Event, MessagePosted
from shequn.platforms.port import (
    Capability,
    EventHandler,
    GroupRights,
    PlatformError,
    Unsupported,
    events_or_skip,
    fetch_bounded,
)
from shequn.platforms.qqbot.connection import (
    INTENTS,
    GatewaySession,
    run_websocket,
    webhook_app,
)
from shequn.platforms.qqbot.replies import ReplyWindow
from shequn.platforms.qqbot.rest import (
    API_BASE,
    SANDBOX_API_BASE,
    TOKEN_URL,
    AiohttpTransport,
    Forbidden,
    RestClient,
    Transport,
)
from shequn.platforms.qqbot.signing import Signer
from shequn.platforms.qqbot.translate import (
    CHANNEL,
    GROUP,
    PLATFORM,
    Routes,
    split_group,
    translate,
)

__all__ = ["CHANNEL_CAPABILITIES", "GROUP_CAPABILITIES", "QQBotAdapter"]

log = logging.getLogger(__name__)

#: a guild sub-channel: recall, mute and remove (with or without the blacklist)
CHANNEL_CAPABILITIES = frozenset(
    {Capability.SEND, Capability.REPLY, Capability.DELETE, Capability.MUTE,
     Capability.KICK, Capability.BAN, Capability.FETCH_MEDIA}
)  # fmt: skip
#: a QQ group: answers within the passive window, and reading posted images
GROUP_CAPABILITIES = frozenset({Capability.SEND, Capability.REPLY, Capability.FETCH_MEDIA})
#: QQ's longest mute is 30 days
MAX_MUTE_SECONDS = 30 * 86400
_MAX_CONTENT = 2000


class QQBotAdapter:
    """One QQ bot (app id + secret) in any number of QQ groups and guild channels."""

    name = PLATFORM
    #: seconds between two calls (the official API rate-limits per bot; stay well under it)
    min_call_interval = 0.1
    capabilities = CHANNEL_CAPABILITIES | GROUP_CAPABILITIES

    def __init__(
        self,
        secret: str,
        app_id: str,
        *,
        mode: Literal["webhook", "websocket"] = "webhook",
        listen_host: str = "127.0.0.1",
        listen_port: int = 8090,
        path: str = "/qqbot",
        sandbox: bool = False,
        api_base: str | None = None,
        token_url: str = TOKEN_URL,
        intents: int = INTENTS,
        home_channels: Mapping[str, str] | None = None,
        active_messages: bool = False,
        http_timeout: float = 15.0,
        reconnect_delay: float = 5.0,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if mode not in ("webhook", "websocket"):
            raise TypeError(f"mode must be 'webhook' or 'websocket', not {mode!r}")
        base = api_base or (SANDBOX_API_BASE if sandbox else API_BASE)
        self.app_id, self.mode, self.intents = str(app_id), mode, intents
        self.listen = (listen_host, int(listen_port), path)
        self.signer = Signer(secret)
        self.transport = transport or AiohttpTransport(
            self.app_id, secret, base, token_url=token_url, timeout=http_timeout, clock=clock
        )
        self.rest = RestClient(self.transport)
        self.routes = Routes(
            home_channels={str(k): str(v) for k, v in (home_channels or {}).items()}
        )
        self.replies = ReplyWindow()
        self.active_messages = active_messages
        self.clock, self.reconnect_delay = clock, reconnect_delay
        self.gateway_session = GatewaySession()
        self._stop = asyncio.Event()
        self._order = asyncio.Lock()  # webhook requests arrive concurrently
        self._blind: set[str] = set()  # guilds whose channels the bot may not list
        #: refusals learned per group (what QQ said the bot lacks there)
        self.rights = GroupRights(self.capabilities)

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        """What shequn can do by API in one group: the group kind's set, less refusals."""
        kind = GROUP_CAPABILITIES if split_group(group_id)[0] == GROUP else CHANNEL_CAPABILITIES
        return kind & self.rights(group_id)

    def learn_refusal(self, group_id: str, cap: Capability, exc: BaseException) -> bool:
        """A 403 / permission code from QQ: the bot lacks ``cap`` in this group."""
        if not isinstance(exc, Forbidden) or "access token" in str(exc):
            return False
        self.rights.refuse(group_id, cap)
        log.warning("QQ %s: the bot may not %s there (%s)", group_id, cap.value, exc)
        return True

    # -- receiving -------------------------------------------------------------------

    async def start(self, handle: EventHandler) -> None:
        """Listen (webhook) or connect (gateway) and deliver events until :meth:`stop`."""
        self._stop.clear()

        async def deliver(payload: dict[str, Any]) -> None:
            await self.deliver(payload, handle)

        try:
            if self.mode == "webhook":
                await self._serve(deliver)
            else:
                await run_websocket(
                    gateway_url=self._gateway_url,
                    token=self._token,
                    intents=self.intents,
                    deliver=deliver,
                    stopping=self._stop,
                    session=self.gateway_session,
                    reconnect_delay=self.reconnect_delay,
                )
        finally:
            await self.transport.aclose()

    async def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        """Close the HTTP session of an adapter used only to act (never started)."""
        await self.transport.aclose()

    def webhook_app(self, handle: EventHandler) -> web.Application:
        """The callback endpoint as an aiohttp app (to mount behind an existing server)."""

        async def deliver(payload: dict[str, Any]) -> None:
            await self.deliver(payload, handle)

        return webhook_app(self.signer, deliver, self.listen[2], app_id=self.app_id)

    async def _serve(self, deliver: Any) -> None:
        host, port, path = self.listen
        runner = web.AppRunner(
            webhook_app(self.signer, deliver, path, app_id=self.app_id), access_log=None
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            log.info("QQ webhook listening on http://%s:%s%s", host, port, path)
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _token(self) -> str:
        if isinstance(self.transport, AiohttpTransport):
            return await self.transport.token()
        raise PlatformError("the gateway needs the HTTP transport's access token")

    async def _gateway_url(self) -> str:
        got = await self.rest.call("GET", "/gateway")
        return str(got["url"])

    async def deliver(self, payload: dict[str, Any], handle: EventHandler) -> None:
        """Translate one dispatch and hand its events to ``handle``, in arrival order."""
        async with self._order:
            for event in await events_or_skip(PLATFORM, self.events(payload), payload):
                if isinstance(event, MessagePosted):
                    self.replies.seen(event.group_id, event.message_id, event.ts)
                await handle(event, self)

    async def events(self, payload: dict[str, Any]) -> list[Event]:
        """The payload's events, after asking the API what the payload does not say."""
        d = payload.get("d")
        if payload.get("t") in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE") and isinstance(d, dict):
            await self._learn_home(str(d["guild_id"]))
        return translate(payload, self.routes, now=self.clock())

    async def _learn_home(self, guild: str) -> None:
        """The guild's first text channel stands for it, unless one was configured."""
        if self.routes.home_of(guild) is not None or guild in self._blind:
            return
        try:
            channels = await self.rest.call("GET", f"/guilds/{guild}/channels")
        except PlatformError as exc:
            log.warning("QQ guild %s: channels not listed, joins there are not recorded (%s)",
                        guild, exc)  # fmt: skip
            if isinstance(exc, Forbidden):
                self._blind.add(guild)
            return
        text = sorted(
            (c["position"] if isinstance(c.get("position"), int) else 0, str(c["id"]))
            for c in (channels if isinstance(channels, list) else [])
            if isinstance(c, dict) and c.get("type") == 0 and "id" in c
        )
        if text:
            self.routes.home_channels[guild] = text[0][1]
            for _, cid in text:
                self.routes.channel_guild[cid] = guild

    async def _guild_of(self, channel: str) -> str:
        guild = self.routes.channel_guild.get(channel)
        if guild is None:
            got = await self.rest.call("GET", f"/channels/{channel}")
            guild = self.routes.channel_guild[channel] = str(got["guild_id"])
        return guild

    # -- acting ----------------------------------------------------------------------

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        kind, target = split_group(group_id)
        content = text if len(text) <= _MAX_CONTENT else text[: _MAX_CONTENT - 1] + "…"
        anchor = self.replies.take(group_id, reply_to, self.clock())
        if anchor is None and not self.active_messages:
            raise Unsupported(
                f"QQ {kind}: no message to answer within the 5-minute passive-reply "
                "window, and active messages are off for this bot"
            )
        if kind == GROUP:
            body: dict[str, Any] = {"content": content, "msg_type": 0}
            if anchor is not None:
                body["msg_id"], body["msg_seq"] = anchor
            got = await self.rest.call("POST", f"/v2/groups/{target}/messages", json=body,
                                       needs="the group message permission")  # fmt: skip
        else:
            body = {"content": content}
            if anchor is not None:  # guild replies are numbered by QQ itself: no msg_seq
                body["msg_id"] = anchor[0]
            got = await self.rest.call("POST", f"/channels/{target}/messages", json=body,
                                       needs="发消息 (send messages) in the channel")  # fmt: skip
        return str((got or {}).get("id") or "")

    def _channel(self, group_id: str, what: str) -> str:
        kind, target = split_group(group_id)
        if kind != CHANNEL:
            raise Unsupported(f"QQ groups have no bot API to {what}")
        return target

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        channel = self._channel(group_id, "recall a member's message")
        await self.rest.call("DELETE", f"/channels/{channel}/messages/{message_id}",
                             needs="管理消息 (the bot must be a guild admin)")  # fmt: skip

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        """A guild-wide mute; 0 lifts it; over 30 days is cut to 30 days."""
        channel = self._channel(group_id, "mute a member")
        guild = await self._guild_of(channel)
        if seconds > MAX_MUTE_SECONDS:
            log.warning("QQ mutes end after 30 days; %s s cut short", seconds)
        await self.rest.call(
            "PATCH",
            f"/guilds/{guild}/members/{member_id}/mute",
            json={"mute_seconds": str(max(0, min(seconds, MAX_MUTE_SECONDS)))},
            needs="禁言 (the bot must be a guild admin)",
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        channel = self._channel(group_id, "remove a member")
        guild = await self._guild_of(channel)
        await self.rest.call(
            "DELETE",
            f"/guilds/{guild}/members/{member_id}",
            json={"add_blacklist": ban, "delete_history_msg_days": 0},
            needs="移除成员 (the bot must be a guild admin)",
        )

    async def unban(self, group_id: str, member_id: str) -> None:
        raise Unsupported("QQ has no bot API to lift a guild blacklist or re-add a member")

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        raise Unsupported("QQ has no bot API to set a member's nickname")

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        raise Unsupported("QQ has no bot API for join requests")

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """An attachment's URL, as the message carried it (QQ's image servers)."""
        if not ref.startswith(("https://", "http://")):
            raise PlatformError(f"not a downloadable attachment URL: {ref[:80]!r}")
        # a session of its own: the access token must not travel to the image server
        async with aiohttp.ClientSession() as session:
            return await fetch_bounded(session, ref, max_bytes=max_bytes)
