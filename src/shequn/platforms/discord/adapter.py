"""The Discord bot account: gateway frames in (through discord.py), REST calls out.

discord.py keeps the gateway connection (identify, heartbeats, resume, zlib); the
adapter takes every raw frame it receives (``on_socket_raw_receive``) and
translates it itself with :func:`~shequn.platforms.discord.gateway.translate`, so
what is tested offline is exactly what runs. Frames are handled one at a time, in
order, by a worker separate from the gateway, so a handler awaiting a REST call never
holds up heartbeats.

Discord does not redeliver a dispatch once it was sent: after a resumed session it
replays what was missed, after a new session nothing. The worker therefore drains
the frames already received before :meth:`stop` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from shequn.events import Event, direct_member
from shequn.platforms.discord.connection import INTENTS, Gateway, discordpy_gateway
from shequn.platforms.discord.gateway import Facts, translate
from shequn.platforms.discord.invites import InviteTracker
from shequn.platforms.discord.rest import (
    API_BASE,
    AiohttpTransport,
    Forbidden,
    RestClient,
    Transport,
)
from shequn.platforms.discord.rights import BotRights
from shequn.platforms.discord.slash import SLASH_COMMANDS, slash_text
from shequn.platforms.discord.state import GatewayState, snowflake_time
from shequn.platforms.port import (
    Capability,
    EventHandler,
    PlatformError,
    Unsupported,
    call_key,
    events_or_skip,
    fetch_bounded,
)

__all__ = [
    "INTENTS",
    "MAX_TIMEOUT_SECONDS",
    "DiscordAdapter",
    "Gateway",
    "discordpy_gateway",
]

log = logging.getLogger(__name__)

#: Discord refuses a timeout more than 28 days ahead; a minute off for clock skew
MAX_TIMEOUT_SECONDS = 28 * 86400 - 60
#: audit-log action types: MEMBER_KICK, MEMBER_BAN_ADD
_REMOVALS = (20, 22)
#: how old a kick or ban entry may be and still explain a departure
_REMOVAL_WINDOW = 60.0
_MAX_CONTENT = 2000
#: a role given by its id rather than its name (ids are 17 to 20 digits)
_SNOWFLAKE = re.compile(r"\d{17,20}")


def _split(message_id: str, group_id: str) -> tuple[str, str]:
    """(channel, message) of a shequn message id: ``thread/message`` or a plain one."""
    channel, _, mid = message_id.rpartition("/")
    return (channel or group_id), mid


class DiscordAdapter:
    """A Discord bot user in any number of guilds; a group is a text channel."""

    name = "discord"
    # Discord has no bot API to answer join requests (membership screening is manual)
    #: seconds between two calls (Discord: 50 requests a second per bot (global limit))
    min_call_interval = 0.02
    #: Members can write to the bot privately (appeals: :class:`DirectMessage`).
    direct_messages = True
    capabilities = frozenset(Capability) - {Capability.APPROVE_JOIN}

    def __init__(
        self,
        token: str,
        api_base: str = API_BASE,
        *,
        home_channels: Mapping[str, str] | None = None,
        track_invites: bool = True,
        check_audit_log: bool = True,
        slash_commands: bool = True,
        http_timeout: float = 15.0,
        transport: Transport | None = None,
        gateway: Gateway | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.rest = RestClient(transport or AiohttpTransport(token, api_base, timeout=http_timeout))
        self.state = GatewayState(home_channels=dict(home_channels or {}))
        self.invites = InviteTracker()
        #: the bot's permissions per guild and channel (see discord/rights.py)
        self.rights = BotRights()
        self.track_invites, self.check_audit_log = track_invites, check_audit_log
        self.slash_commands = slash_commands
        self.clock = clock
        self._gateway = gateway or discordpy_gateway
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._blind: set[tuple[str, str]] = set()  # (guild, what) refused once: not asked again
        self._in_hand: Any = None  # the frame whose handler failed: first after a restart
        self._roles: dict[str, dict[str, str]] = {}  # guild -> role name -> id (see roles())

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        """What the bot may do in one channel, from its roles (all it declares until known)."""
        guild = self.state.channel_guild.get(group_id)
        return self.rights.capabilities(group_id, guild, self.capabilities)

    def learn_refusal(self, group_id: str, cap: Capability, exc: BaseException) -> bool:
        """True (and ``cap`` dropped) when a 403 means the bot lacks it in this channel."""
        if not isinstance(exc, Forbidden):
            return False
        learned = self.rights.refuse(group_id, self.state.channel_guild.get(group_id), cap)
        if learned:
            log.warning("Discord channel %s: the bot may not %s (%s)", group_id, cap.value, exc)
        return learned

    # -- receiving -------------------------------------------------------------------

    def receive(self, raw: Any) -> None:
        """Queue one gateway frame (what the gateway callback is given)."""
        self._queue.put_nowait(raw)

    async def start(self, handle: EventHandler) -> None:
        """Connect and deliver events to ``handle`` until :meth:`stop`.

        An exception from ``handle`` stops the gateway and is raised from here.
        """
        self._stop.clear()
        worker = asyncio.create_task(self._work(handle))
        gateway = asyncio.create_task(self._gateway(self.token, self.receive, self._stop))
        try:
            await asyncio.wait({worker, gateway}, return_when=asyncio.FIRST_COMPLETED)
            if worker.done():
                self._stop.set()
                worker.result()  # the handler's exception
            await gateway
            self.receive(None)  # the worker drains what came before, then ends
            await worker
        finally:
            self._stop.set()
            for task in (worker, gateway):
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.rest.transport.aclose()

    async def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        """Close the HTTP session of an adapter used only to act (never started)."""
        await self.rest.transport.aclose()

    async def _work(self, handle: EventHandler) -> None:
        # Discord never sends a dispatch twice, so a frame whose handler failed is kept
        # and handled first when the adapter is started again (the engine's dedupe by
        # event id drops the events of it that were handled already).
        while (raw := self._in_hand or await self._queue.get()) is not None:
            self._in_hand = raw
            try:
                frame = json.loads(raw) if isinstance(raw, str | bytes) else raw
            except ValueError:
                log.warning("Discord sent a frame that is not JSON: %.200r", raw)
                frame = {}
            for event in await events_or_skip(self.name, self.events(frame), frame):
                await handle(event, self)
            self._in_hand = None

    async def events(self, frame: dict[str, Any]) -> list[Event]:
        """The frame's events, after asking REST what the frame does not say."""
        if frame.get("op") != 0 or not isinstance(frame.get("d"), dict):
            return []
        t, d = frame.get("t"), frame["d"]
        self.rights.observe(t, d)
        if t in ("GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE", "GUILD_ROLE_DELETE"):
            self._roles.pop(str(d.get("guild_id")), None)  # names changed: ask again
        facts = Facts()
        if t == "READY" and self.slash_commands and isinstance(d.get("application"), dict):
            await self._register_commands(str(d["application"]["id"]))
        elif t == "INTERACTION_CREATE" and slash_text(d) is not None:
            await self._acknowledge(d)
        elif t == "INVITE_CREATE":
            self.invites.created(d)
        elif t == "INVITE_DELETE":
            self.invites.deleted(d)
        elif t == "GUILD_CREATE" and not d.get("unavailable"):
            events = translate(frame, self.state, now=self.clock())
            if self.track_invites:
                fresh = await self._invites(str(d["id"]))
                if fresh is not None:
                    self.invites.seen(str(d["id"]), fresh)
            return events
        elif t in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_REACTION_ADD"):
            cid = str(d.get("channel_id", ""))
            if (
                "guild_id" in d
                and not self.state.knows(cid)
                and (cid, "channel") not in self._blind
            ):
                # a thread the gateway never described: its parent decides the group
                try:
                    await self._learn_channel(cid)
                except Forbidden:
                    self._blind.add((cid, "channel"))
                except PlatformError:
                    pass  # the message stays in the thread's own group this time
        elif t == "GUILD_MEMBER_ADD" and self.track_invites:
            gid = str(d["guild_id"])
            fresh = await self._invites(gid)
            if fresh is not None:
                facts = Facts(invite=self.invites.used(gid, fresh))
        elif t == "GUILD_MEMBER_REMOVE" and self.check_audit_log:
            facts = Facts(removal=await self._removal(str(d["guild_id"]), str(d["user"]["id"])))
        return translate(frame, self.state, now=self.clock(), facts=facts)

    async def _register_commands(self, application: str) -> None:
        """Make the global slash commands :data:`SLASH_COMMANDS`, unless they exist."""
        path = f"/applications/{application}/commands"
        try:
            have = await self.rest.call("GET", path)
            names = {c.get("name") for c in have or [] if isinstance(c, dict)}
            if names != {c["name"] for c in SLASH_COMMANDS}:
                await self.rest.call("PUT", path, json=SLASH_COMMANDS)
        except PlatformError as exc:
            log.warning("Discord: slash commands not registered (%s)", exc)

    async def _acknowledge(self, d: dict[str, Any]) -> None:
        """Answer the interaction within Discord's 3 s, privately to the member.

        The feature's own answer (the check-in confirmation, the FAQ reply) follows as
        an ordinary message in the channel, as it would for the typed keyword.
        """
        body = {"type": 4, "data": {"content": "✓", "flags": 64}}  # EPHEMERAL
        with contextlib.suppress(PlatformError):
            await self.rest.call(
                "POST", f"/interactions/{d['id']}/{d['token']}/callback", json=body
            )

    async def _invites(self, guild: str) -> list[dict[str, Any]] | None:
        if (guild, "invites") in self._blind:
            return None
        try:
            got = await self.rest.call("GET", f"/guilds/{guild}/invites", needs="MANAGE_GUILD")
        except PlatformError as exc:
            if not isinstance(exc, Forbidden):  # a rate limit or a hiccup: this join only
                log.warning("Discord guild %s: invites not read (%s)", guild, exc)
                return None
            log.warning(
                "Discord guild %s: cannot read invites, joins get no inviter (%s)", guild, exc
            )
            self._blind.add((guild, "invites"))
            return None
        return [i for i in got or [] if isinstance(i, dict)]

    async def _removal(self, guild: str, user: str) -> dict[str, Any] | None:
        """The recent kick or ban of ``user`` in the audit log, if the bot may read it."""
        if (guild, "audit") in self._blind:
            return None
        for action in _REMOVALS:
            try:
                log_ = await self.rest.call(
                    "GET",
                    f"/guilds/{guild}/audit-logs?action_type={action}&limit=10",
                    needs="VIEW_AUDIT_LOG",
                )
            except Forbidden as exc:
                log.warning(
                    "Discord guild %s: cannot read the audit log, kicks look like leaves (%s)",
                    guild,
                    exc,
                )
                self._blind.add((guild, "audit"))
                return None
            except PlatformError as exc:  # a rate limit or a hiccup: this departure only
                log.warning("Discord guild %s: audit log not read (%s)", guild, exc)
                return None
            for entry in (log_ or {}).get("audit_log_entries") or []:
                recent = snowflake_time(entry["id"]) >= self.clock() - _REMOVAL_WINDOW
                if str(entry.get("target_id")) == user and recent:
                    return dict(entry)
        return None

    async def _learn_channel(self, channel: str) -> None:
        ch = await self.rest.call("GET", f"/channels/{channel}", needs="VIEW_CHANNEL")
        if isinstance(ch, dict):
            self.state.learn_channel(ch)

    async def _guild_of(self, group_id: str) -> str:
        if not self.state.knows(group_id):
            await self._learn_channel(group_id)
        guild = self.state.channel_guild.get(group_id)
        if guild is None:
            raise PlatformError(f"Discord channel {group_id} is in no guild the bot can see")
        return guild

    # -- acting ----------------------------------------------------------------------

    async def _dm_channel(self, member: str) -> str:
        """The member's DM channel with the bot (POST /users/@me/channels returns the
        existing one, so asking again after a restart is safe)."""
        known = self.state.dm_channels.get(member)
        if known is None:
            got = await self.rest.call("POST", "/users/@me/channels", json={"recipient_id": member})
            known = self.state.dm_channels[member] = str(got["id"])
        return known

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        member = direct_member(group_id)
        if member is not None:  # a member's private chat: their DM channel
            group_id = await self._dm_channel(member)
        body: dict[str, Any]
        channel, body = (
            group_id,
            {
                "content": text if len(text) <= _MAX_CONTENT else text[: _MAX_CONTENT - 1] + "…",
                # names in shequn's texts come from members: never let one ping @everyone
                "allowed_mentions": {"parse": ["users"], "replied_user": True},
            },
        )
        key = call_key.get()
        if key is not None:
            # Discord drops a message whose nonce the bot used in the last minutes and
            # returns the first one: a call repeated after a crash is not posted twice.
            body["nonce"] = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
            body["enforce_nonce"] = True
        if reply_to:
            channel, mid = _split(reply_to, group_id)
            # still post if the message was deleted meanwhile (often by shequn itself)
            body["message_reference"] = {"message_id": mid, "fail_if_not_exists": False}
        msg = await self.rest.call(
            "POST", f"/channels/{channel}/messages", json=body, needs="SEND_MESSAGES"
        )
        mid = str(msg["id"])
        return mid if channel == group_id else f"{channel}/{mid}"

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        channel, mid = _split(message_id, group_id)
        await self.rest.call(
            "DELETE",
            f"/channels/{channel}/messages/{mid}",
            reason=reason,
            needs="MANAGE_MESSAGES",
            ok=((404, 10008),),
        )

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        """A guild-wide timeout; over 28 days it is cut to 28 days (Discord's maximum)."""
        guild = await self._guild_of(group_id)
        until: str | None = None
        if seconds > 0:
            if seconds > MAX_TIMEOUT_SECONDS:
                log.warning("Discord timeouts end after 28 days; %s s cut short", seconds)
            end = int(self.clock()) + min(seconds, MAX_TIMEOUT_SECONDS)
            until = datetime.fromtimestamp(end, UTC).isoformat()
        await self.rest.call(
            "PATCH",
            f"/guilds/{guild}/members/{member_id}",
            json={"communication_disabled_until": until},
            needs="MODERATE_MEMBERS",
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        guild = await self._guild_of(group_id)
        if ban:
            await self.rest.call(
                "PUT",
                f"/guilds/{guild}/bans/{member_id}",
                json={"delete_message_seconds": 0},
                reason=reason,
                needs="BAN_MEMBERS",
            )
            return
        await self.rest.call(
            "DELETE",
            f"/guilds/{guild}/members/{member_id}",
            reason=reason,
            needs="KICK_MEMBERS",
            ok=((404, 10007),),
        )

    async def unban(self, group_id: str, member_id: str) -> None:
        # undoing a kick comes here too: nothing to lift (Unknown Ban), and a bot
        # cannot add the member back; they rejoin through an invite
        guild = await self._guild_of(group_id)
        await self.rest.call(
            "DELETE", f"/guilds/{guild}/bans/{member_id}", needs="BAN_MEMBERS", ok=((404, 10026),)
        )

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        guild = await self._guild_of(group_id)
        who = "@me" if member_id == self.state.self_id else member_id
        await self.rest.call(
            "PATCH",
            f"/guilds/{guild}/members/{who}",
            json={"nick": card[:32] or None},
            needs="MANAGE_NICKNAMES",
        )

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """An image attachment's CDN URL (signed by Discord, valid for about a day)."""
        if not ref.startswith(("https://", "http://")):
            raise PlatformError(f"not a downloadable attachment URL: {ref[:80]!r}")
        # a session of its own: the bot token must not travel to the CDN
        async with aiohttp.ClientSession() as session:
            return await fetch_bounded(session, ref, max_bytes=max_bytes)

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        raise Unsupported("Discord has no bot API for join requests")

    # -- roles (layers and honours: Capability.ROLE) --------------------------------

    async def roles(self, group_id: str, *, fresh: bool = False) -> dict[str, str]:
        """The guild's roles by name (name -> role id), fetched once and on a miss."""
        guild = await self._guild_of(group_id)
        if fresh or guild not in self._roles:
            got = await self.rest.call("GET", f"/guilds/{guild}/roles")
            self._roles[guild] = {
                str(r["name"]): str(r["id"])
                for r in (got if isinstance(got, list) else [])
                if isinstance(r, dict) and "name" in r and "id" in r
            }
        return self._roles[guild]

    async def _role_id(self, group_id: str, role: str) -> str:
        """The id of the role named ``role`` in the channel's guild (a snowflake is
        taken as the id itself).

        A name the guild has no role for is a setting to fix by a person (create the
        role, or correct ``[groups.layers] roles``): :class:`Unsupported`, so the
        outbox makes the grant a task instead of retrying it.
        """
        if _SNOWFLAKE.fullmatch(role):
            return role
        for fresh in (False, True):
            named = await self.roles(group_id, fresh=fresh)
            if role in named:
                return named[role]
            if role in named.values():
                return role
        raise Unsupported(f"Discord: the server has no role named {role!r}")

    async def grant_role(
        self, group_id: str, member_id: str, role: str, *, reason: str = ""
    ) -> None:
        """Give the member the role named ``role`` (PUT is idempotent on Discord's side)."""
        guild = await self._guild_of(group_id)
        rid = await self._role_id(group_id, role)
        await self.rest.call(
            "PUT",
            f"/guilds/{guild}/members/{member_id}/roles/{rid}",
            reason=reason,
            needs="MANAGE_ROLES",
        )

    async def revoke_role(
        self, group_id: str, member_id: str, role: str, *, reason: str = ""
    ) -> None:
        """Take the role named ``role`` from the member; a member who left is no error."""
        guild = await self._guild_of(group_id)
        rid = await self._role_id(group_id, role)
        await self.rest.call(
            "DELETE",
            f"/guilds/{guild}/members/{member_id}/roles/{rid}",
            reason=reason,
            needs="MANAGE_ROLES",
            ok=((404, 10007),),
        )
