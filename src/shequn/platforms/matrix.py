"""The Matrix adapter: a bot account on a homeserver, through matrix-nio's ``AsyncClient``.

Two halves: :func:`translate` turns one raw client-server event (the JSON a sync
returns) into shequn events and is pure, so it is tested on captured payloads; and
:class:`MatrixAdapter` runs the sync loop, auto-joins rooms it is invited to, and
acts through the :class:`~shequn.platforms.port.Platform` port.

Matrix specifics worth knowing:

* **Mute** is a power-level change: the member drops below the level needed to send
  messages. The adapter remembers the level it replaced (in memory) and restores it
  on ``seconds=0``; it does not time the mute itself — the engine's scheduler lifts it.
* **Set card** does not exist: a per-room display name belongs to the user, so it is
  left out of the capabilities and raises :class:`Unsupported`.
* **Join approval** is a knock: approving invites the knocker, denying kicks them.
  :class:`JoinRequested`'s ``request_id`` is the knocker's user id.
* **Edits** (``m.replace``) become ``MessagePosted(edited=True)`` under the *original*
  event id with the new text, as exports carry an edited message: one message whose
  final text is the edit, and the id a moderator redacts to remove it.
* **Rights are per room**: the bot's power level against the room's
  ``m.room.power_levels`` (``redact``, ``kick``, ``ban``, ``invite``, the level to
  send messages and to change power levels for a mute). The adapter follows that
  state event in every sync (:meth:`MatrixAdapter.capabilities_for`), and an
  ``M_FORBIDDEN`` answer drops the capability until the levels change.
* **Private chats**: a room the bot is invited to as a direct chat (``is_direct`` on
  the invite) is a member's private chat with the bot, not a group: its messages
  become :class:`DirectMessage` (``dm:<user id>``; a muted or removed member appeals
  there) and nothing else in it is an event. The bot records it in its ``m.direct``
  account data, Matrix's own place for that, so a restart knows it again.
* End-to-end encryption is not available (no ``python3-olm``); encrypted messages
  arrive as ``MessageKind.OTHER`` with no text, counted but unread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from nio import AsyncClient, AsyncClientConfig, ErrorResponse, MessageDirection, SyncResponse

from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinMethod,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
    direct_chat,
    direct_member,
)
from shequn.platforms.port import (
    Capability,
    EventHandler,
    GroupRights,
    PlatformError,
    Unsupported,
    call_key,
    translate_or_skip,
)

__all__ = ["PLATFORM", "MatrixAdapter", "MatrixError", "translate"]

PLATFORM = "matrix"
log = logging.getLogger(__name__)

_KINDS = {
    "m.text": MessageKind.TEXT,
    "m.notice": MessageKind.TEXT,
    "m.emote": MessageKind.TEXT,
    "m.image": MessageKind.IMAGE,
    "m.file": MessageKind.FILE,
    "m.audio": MessageKind.VOICE,
    "m.video": MessageKind.VIDEO,
    "m.location": MessageKind.LOCATION,
}


# --------------------------------------------------------------------------- translation


def _ref(user_id: str, name: str, own_id: str | None) -> MemberRef:
    own = user_id == own_id
    return MemberRef(user_id, name, is_bot=own, is_operator=own)


def _strip_reply_fallback(body: str) -> str:
    # Older clients quote the parent as "> <@u:hs> text" lines and a blank line.
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i < len(lines) and lines[i] == "":
        return "\n".join(lines[i + 1 :])
    return body


def _message(room_id: str, raw: Mapping[str, Any], ts: float, sender: MemberRef) -> list[Event]:
    content = raw.get("content") or {}
    if not content:  # redacted: the content was stripped
        return []
    rel = content.get("m.relates_to") or {}
    message_id = raw["event_id"]
    edited = rel.get("rel_type") == "m.replace" and isinstance(content.get("m.new_content"), dict)
    if edited:
        message_id = rel.get("event_id") or message_id
        content = content["m.new_content"]
    reply_to = (rel.get("m.in_reply_to") or {}).get("event_id")
    if reply_to is None and rel.get("rel_type") == "m.thread":
        reply_to = rel.get("event_id")
    body = content.get("body")
    text = body if isinstance(body, str) else ""
    if reply_to:
        text = _strip_reply_fallback(text)
    if raw.get("type") == "m.sticker":
        kind = MessageKind.STICKER
    else:
        kind = _KINDS.get(content.get("msgtype", ""), MessageKind.OTHER)
    mentioned = (content.get("m.mentions") or {}).get("user_ids") or ()
    url = content.get("url")
    media = (url,) if kind is MessageKind.IMAGE and isinstance(url, str) else ()
    return [
        MessagePosted(
            PLATFORM, room_id, message_id, ts, sender, text, kind,
            reply_to=reply_to,
            mentions=tuple(MemberRef(u) for u in mentioned if isinstance(u, str)),
            edited=edited,
            media=media,
        )
    ]  # fmt: skip


def _membership(
    room_id: str,
    raw: Mapping[str, Any],
    ts: float,
    own_id: str | None,
    name_of: Callable[[str], str],
) -> list[Event]:
    content = raw.get("content") or {}
    unsigned = raw.get("unsigned") or {}
    prev = unsigned.get("prev_content") or raw.get("prev_content") or {}
    now, before = content.get("membership"), prev.get("membership")
    target, actor = raw.get("state_key", ""), raw.get("sender", "")
    event_id = raw["event_id"]
    if now == "join":
        name = content.get("displayname") or ""
        member = _ref(target, name, own_id)
        if before == "join":
            old = prev.get("displayname") or ""
            if old == name:  # an avatar change, or a no-op
                return []
            return [MemberRenamed(PLATFORM, room_id, event_id, ts, member, old, name)]
        inviter = None
        method = JoinMethod.UNKNOWN
        if before == "invite":
            method = JoinMethod.INVITED
            by = unsigned.get("prev_sender")
            if isinstance(by, str) and by != target:
                inviter = _ref(by, name_of(by), own_id)
        return [MemberJoined(PLATFORM, room_id, event_id, ts, member, inviter, method)]
    if now == "knock":
        member = _ref(target, content.get("displayname") or "", own_id)
        return [JoinRequested(PLATFORM, room_id, target, ts, member, content.get("reason") or "")]
    if now in ("leave", "ban") and before in ("join", None):
        member = _ref(target, prev.get("displayname") or name_of(target), own_id)
        if actor and actor != target:
            by = _ref(actor, name_of(actor), own_id)
            return [MemberLeft(PLATFORM, room_id, event_id, ts, member, by, kicked=True)]
        return [MemberLeft(PLATFORM, room_id, event_id, ts, member)]
    # invites, rejected invites, withdrawn knocks, unbans: nobody came or went
    return []


def translate(
    room_id: str,
    raw: Mapping[str, Any],
    *,
    own_id: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Event]:
    """The shequn events one raw Matrix room event stands for (often one, maybe none).

    ``own_id`` is the bot's user id (its events are marked ``is_bot``); ``names`` maps
    user ids to display names, since a message event carries only the sender's id.
    Redactions, typing, receipts and other types have no internal event: ``[]``.
    """
    etype = raw.get("type")
    sender_id = raw.get("sender")
    if not isinstance(etype, str) or not isinstance(sender_id, str) or "event_id" not in raw:
        return []
    known = names or {}

    def name_of(user_id: str) -> str:
        return known.get(user_id, "")

    ts = float(raw.get("origin_server_ts", 0)) / 1000
    if etype in ("m.room.message", "m.sticker"):
        return _message(room_id, raw, ts, _ref(sender_id, name_of(sender_id), own_id))
    if etype == "m.room.encrypted":
        sender = _ref(sender_id, name_of(sender_id), own_id)
        return [
            MessagePosted(PLATFORM, room_id, raw["event_id"], ts, sender, kind=MessageKind.OTHER)
        ]
    if etype == "m.room.member":
        return _membership(room_id, raw, ts, own_id, name_of)
    content = raw.get("content") or {}
    if etype == "m.reaction":
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") != "m.annotation" or not rel.get("event_id") or not rel.get("key"):
            return []
        member = _ref(sender_id, name_of(sender_id), own_id)
        return [ReactionAdded(PLATFORM, room_id, rel["event_id"], rel["key"], member=member)]
    if etype == "m.room.name" and raw.get("state_key") == "":
        return [GroupSeen(PLATFORM, room_id, content.get("name") or "", ts, kind="room")]
    return []


# --------------------------------------------------------------------------- the adapter


def _direct_inviter(invite: Any, own_id: str) -> str | None:
    """Who invited the bot to a private chat (``is_direct`` on its invite), or None.

    ``invite_state`` holds nio's stripped-state events (``InviteMemberEvent``: its
    ``state_key``, ``content`` and ``sender``), or raw dicts.
    """
    for ev in getattr(invite, "invite_state", ()) or ():
        if isinstance(ev, dict):
            if ev.get("type") != "m.room.member":
                continue
            key, content, sender = ev.get("state_key"), ev.get("content"), ev.get("sender")
        elif hasattr(ev, "membership"):
            key, content, sender = ev.state_key, ev.content, getattr(ev, "sender", None)
        else:
            continue
        if key == own_id and isinstance(content, dict) and content.get("is_direct") is True:
            return sender if isinstance(sender, str) and sender != own_id else None
    return None


def _own_join(raws: list[dict[str, Any]], own_id: str) -> int:
    """Index of the bot's own join in a timeline (0 when it is not there)."""
    for i, raw in enumerate(raws):
        if raw.get("type") != "m.room.member" or raw.get("state_key") != own_id:
            continue
        prev = (raw.get("unsigned") or {}).get("prev_content") or {}
        if (raw.get("content") or {}).get("membership") == "join" != prev.get("membership"):
            return i
    return 0


_R = TypeVar("_R")


class MatrixError(PlatformError):
    """The homeserver refused: ``errcode`` is Matrix's (``M_FORBIDDEN``, ...), or None
    when the connection failed or the server gave no code."""

    def __init__(
        self, message: str, *, errcode: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.errcode = errcode


async def _call(what: str, request: Awaitable[_R]) -> _R:
    """Await a nio request; an error response or a dead connection is a MatrixError."""
    try:
        resp = await request
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise MatrixError(f"matrix {what}: {exc!r}") from exc
    if isinstance(resp, ErrorResponse):
        code = resp.status_code if isinstance(resp.status_code, str) else None
        retry = resp.retry_after_ms / 1000 if resp.retry_after_ms else None
        raise MatrixError(
            f"matrix {what}: {resp.status_code} {resp.message}", errcode=code, retry_after=retry
        )
    return resp


def rights_from_levels(levels: Mapping[str, Any], user_id: str) -> frozenset[Capability]:
    """What ``user_id`` may do in a room, from the room's ``m.room.power_levels`` content.

    Defaults as the client-server spec gives them when the event omits a key.
    """

    def level(value: Any, default: int) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    users: Mapping[str, Any] = levels["users"] if isinstance(levels.get("users"), dict) else {}
    events: Mapping[str, Any] = levels["events"] if isinstance(levels.get("events"), dict) else {}
    mine = level(users.get(user_id, levels.get("users_default", 0)), 0)
    events_default = level(levels.get("events_default", 0), 0)
    state_default = level(levels.get("state_default", 50), 50)
    caps = {Capability.FETCH_MEDIA}
    if mine >= level(events.get("m.room.message", events_default), events_default):
        caps |= {Capability.SEND, Capability.REPLY}
    redact = max(level(levels.get("redact", 50), 50),
                 level(events.get("m.room.redaction", events_default), events_default))  # fmt: skip
    if mine >= redact:
        caps.add(Capability.DELETE)
    if mine >= level(events.get("m.room.power_levels", state_default), state_default):
        caps.add(Capability.MUTE)
    kick = level(levels.get("kick", 50), 50)
    if mine >= kick:
        caps.add(Capability.KICK)
    if mine >= level(levels.get("ban", 50), 50):
        caps.add(Capability.BAN)
    # approving a knock invites, denying one kicks
    if mine >= level(levels.get("invite", 0), 0) and mine >= kick:
        caps.add(Capability.APPROVE_JOIN)
    return frozenset(caps)


#: Sync failures that retrying cannot fix; anything else (a dropped connection, a
#: 5xx, a rate limit) is waited out.
_FATAL = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN", "M_USER_DEACTIVATED"})


class _Names(Mapping[str, str]):
    """Display names from nio's room state, looked up lazily (rooms can be large)."""

    def __init__(self, room: Any) -> None:
        self._users = room.users if room is not None else {}

    def __getitem__(self, user_id: str) -> str:
        return self._users[user_id].display_name or ""

    def __iter__(self) -> Iterator[str]:
        return iter(self._users)

    def __len__(self) -> int:
        return len(self._users)


#: Events per room in one sync (Synapse's default is 10) and per back-fill page.
_TIMELINE_LIMIT = 100
#: A gap longer than this many pages is logged and its oldest events skipped.
_BACKFILL_PAGES = 50


class MatrixAdapter:
    """A Matrix bot account: the :class:`~shequn.platforms.port.Adapter` for Matrix.

    Give either an ``access_token`` or a ``password``. ``since`` resumes from a sync
    token the caller persisted (read it back from :attr:`since`); without one the first
    sync only learns the rooms, and events from before the start are skipped unless
    ``catch_up`` is set (then the first sync's timelines — the server's few most recent
    events per room — are delivered). A handler that raises ends :meth:`start` with
    that error and :attr:`since` still before the batch, so a restart delivers it again
    (the engine dedupes by event id). Rooms joined later are delivered from the bot's
    own join on, never their older history. A sync whose timeline is ``limited`` (more
    happened than one timeline holds, e.g. while the handler waited out a database
    outage) is back-filled from the room's history down to the previous sync, so no
    event is skipped.
    """

    name = PLATFORM
    #: events per room in one sync and per back-fill page
    timeline_limit = _TIMELINE_LIMIT
    #: seconds between two calls (homeservers rate-limit clients; Synapse defaults allow bursts, not floods)
    min_call_interval = 0.05
    #: Members can write to the bot privately (appeals: :class:`DirectMessage`).
    direct_messages = True
    capabilities = frozenset(
        {Capability.SEND, Capability.REPLY, Capability.DELETE, Capability.MUTE,
         Capability.KICK, Capability.BAN, Capability.APPROVE_JOIN, Capability.FETCH_MEDIA}
    )  # fmt: skip

    def __init__(
        self,
        homeserver: str,
        user_id: str,
        access_token: str | None = None,
        password: str | None = None,
        device_id: str = "shequn",
        *,
        since: str | None = None,
        catch_up: bool = False,
        poll_ms: int = 30_000,
    ) -> None:
        if not access_token and not password:
            raise ValueError("MatrixAdapter needs an access_token or a password")
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=2, request_timeout=30)
        self._client = AsyncClient(homeserver, user_id, device_id=device_id, config=config)
        if access_token:
            self._client.access_token = access_token
            self._client.user_id = user_id
        self._password = password
        self.user_id = user_id
        self.since = since
        self._catch_up = catch_up
        self._poll_ms = poll_ms
        self._muted: dict[tuple[str, str], int | None] = {}
        #: what the bot may do per room, from the rooms' power levels (see the docstring)
        self.rights = GroupRights(self.capabilities)
        self._rooms: set[str] = set()
        self._stop = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._loop_task: asyncio.Task[Any] | None = None
        #: Seconds spent in translation and the handler, one entry per event (bench).
        self.timings: list[float] = []
        #: Private chats: room id -> the member's user id, and the member's room.
        self._direct: dict[str, str] = {}
        self._dm_room: dict[str, str] = {}

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        """What the bot may do in one room (the adapter-wide set until its levels arrive)."""
        return self.rights(group_id)

    def learn_refusal(self, group_id: str, cap: Capability, exc: BaseException) -> bool:
        """True (and ``cap`` dropped for the room) when the homeserver said M_FORBIDDEN."""
        if not isinstance(exc, MatrixError) or exc.errcode != "M_FORBIDDEN":
            return False
        self.rights.refuse(group_id, cap)
        log.warning("matrix room %s: the bot may not %s there (%s)", group_id, cap.value, exc)
        return True

    def learn_levels(self, room_id: str, raws: list[Any]) -> None:
        """Follow ``m.room.power_levels`` among a room's state and timeline events."""
        for raw in raws:
            if (
                isinstance(raw, dict)
                and raw.get("type") == "m.room.power_levels"
                and raw.get("state_key") == ""
                and isinstance(raw.get("content"), dict)
            ):
                self.rights.learn(room_id, rights_from_levels(raw["content"], self.user_id))

    # ---- lifecycle

    async def _ensure_login(self) -> None:
        if self._client.access_token:
            return
        assert self._password is not None
        await _call("login", self._client.login(self._password, device_name="shequn"))

    async def start(self, handle: EventHandler) -> None:
        """Sync until :meth:`stop`, delivering every new room event to ``handle``."""
        self._stop.clear()
        self._idle.clear()
        self._loop_task = asyncio.current_task()
        try:
            await self._ensure_login()
            if self.since is None:
                first = await self._sync(full_state=True, timeout=0)
                if first is None:
                    return
                await self._deliver(first, handle, skip_history=not self._catch_up)
                self.since = first.next_batch
            while not self._stop.is_set():
                resp = await self._sync(full_state=False, timeout=self._poll_ms)
                if resp is None:
                    return
                await self._deliver(resp, handle, skip_history=False)
                self.since = resp.next_batch
        finally:
            self._loop_task = None
            await self._client.close()
            self._idle.set()

    async def stop(self) -> None:
        """End the sync loop (after the event in hand) and close the connection."""
        self._stop.set()
        if self._loop_task is None:
            await self._client.close()
        elif self._loop_task is not asyncio.current_task():
            await self._idle.wait()

    async def _sync(self, *, full_state: bool, timeout: int) -> SyncResponse | None:
        """One sync, or None when stopped while waiting; transient failures back off."""
        delay = 1.0
        while not self._stop.is_set():
            request = asyncio.ensure_future(
                self._client.sync(
                    timeout=timeout,
                    since=self.since,
                    full_state=full_state,
                    sync_filter={"room": {"timeline": {"limit": self.timeline_limit}}},
                )
            )
            stopped = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({request, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not stopped.done():
                stopped.cancel()
            if not request.done():
                request.cancel()
                await asyncio.gather(request, return_exceptions=True)
                return None
            try:
                return await _call("sync", request)
            except MatrixError as exc:
                if exc.errcode in _FATAL:
                    raise
                log.warning("%s; retrying", exc)
                with contextlib.suppress(TimeoutError):  # a stop ends the wait early
                    await asyncio.wait_for(self._stop.wait(), exc.retry_after or delay)
                delay = min(delay * 2, 30.0)
        return None

    async def _deliver(
        self, resp: SyncResponse, handle: EventHandler, *, skip_history: bool
    ) -> None:
        own = self.user_id
        self._learn_direct(resp)
        for room_id, invite in resp.rooms.invite.items():
            try:
                await _call("join", self._client.join(room_id))
            except MatrixError as exc:  # the invite may be gone already; not fatal
                log.warning("%s", exc)
                continue
            member = _direct_inviter(invite, own)
            if member is not None:
                await self._remember_direct(room_id, member)
        # Rooms left (the bot was kicked or banned) carry their last events too.
        left = {r: i for r, i in resp.rooms.leave.items() if r in self._rooms}
        for room_id, info in (resp.rooms.join | left).items():
            room = self._client.rooms.get(room_id)
            names = _Names(room)
            raws = [e.source for e in info.timeline.events]
            if info.timeline.limited and room_id in self._rooms and not skip_history:
                # More happened since the last sync than one timeline holds (the bot
                # was held up, e.g. by a database outage): fetch the gap back to it.
                gap = await self._backfill(room_id, info.timeline.prev_batch, self.since)
                seen = {r.get("event_id") for r in raws}
                raws = [r for r in gap if r.get("event_id") not in seen] + raws
            self.learn_levels(room_id, [getattr(e, "source", None) for e in info.state] + raws)
            if room_id in self._direct:
                await self._deliver_direct(room_id, raws, handle, skip_history=skip_history)
                continue
            if room_id not in self._rooms:
                self._rooms.add(room_id)
                title = room.display_name if room is not None else ""
                await handle(GroupSeen(PLATFORM, room_id, title, time.time(), "room"), self)
                # A room just joined arrives with history from before the bot was in
                # it: start at the bot's own join so old messages are not acted on.
                raws = [] if skip_history else raws[_own_join(raws, own) :]
            for raw in raws:
                t0 = time.perf_counter()
                events = translate_or_skip(
                    PLATFORM, translate, raw, room_id, own_id=own, names=names
                )
                for event in events:
                    await handle(event, self)
                if events:
                    self.timings.append(time.perf_counter() - t0)
        self._rooms.difference_update(left)
        for room_id in left:  # kicked, banned or gone: nothing to do there any more
            self.rights.learn(room_id, frozenset())

    # ---- private chats

    def _learn_direct(self, resp: SyncResponse) -> None:
        """The private chats in the bot's ``m.direct`` account data (a sync carries it)."""
        for ev in getattr(resp, "account_data_events", ()):
            if getattr(ev, "type", None) != "m.direct" or not isinstance(ev.content, dict):
                continue
            for member, rooms in ev.content.items():
                for room in rooms if isinstance(rooms, list) else ():
                    self._direct[str(room)] = str(member)
                    self._dm_room[str(member)] = str(room)

    async def _remember_direct(self, room_id: str, member: str) -> None:
        """Record a new private chat, here and in the bot's ``m.direct`` account data."""
        self._direct[room_id] = member
        self._dm_room[member] = room_id
        mapping: dict[str, list[str]] = {}
        for room, who in self._direct.items():
            mapping.setdefault(who, []).append(room)
        path = f"/_matrix/client/v3/user/{quote(self.user_id, safe='')}/account_data/m.direct"
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        try:
            resp = await self._client.send("PUT", path, json.dumps(mapping), headers=headers)
            if resp.status >= 400:
                log.warning("m.direct not saved (%s): %s", resp.status, await resp.text())
        except (aiohttp.ClientError, TimeoutError) as exc:  # known until a restart anyway
            log.warning("m.direct not saved: %s", exc)

    async def _deliver_direct(
        self, room_id: str, raws: list[dict[str, Any]], handle: EventHandler, *, skip_history: bool
    ) -> None:
        """A private chat's new messages from the member, as :class:`DirectMessage`."""
        own, member = self.user_id, self._direct[room_id]
        name = _Names(self._client.rooms.get(room_id)).get(member, "")
        if room_id not in self._rooms:
            self._rooms.add(room_id)
            raws = [] if skip_history else raws[_own_join(raws, own) :]
        for raw in raws:
            content = raw.get("content") or {}
            body = content.get("body") if isinstance(content, dict) else None
            if raw.get("type") != "m.room.message" or raw.get("sender") != member:
                continue
            if not isinstance(body, str) or not body.strip() or "m.new_content" in content:
                continue
            ts = float(raw.get("origin_server_ts", 0)) / 1000
            sender = _ref(member, name, own)
            text = _strip_reply_fallback(body)
            await handle(
                DirectMessage(PLATFORM, direct_chat(member), raw["event_id"], ts, sender, text),
                self,
            )

    async def _backfill(self, room_id: str, start: str | None, until: str | None) -> list[dict]:
        """The room's events from ``start`` back to the sync token ``until``, oldest first."""
        got: list[dict] = []
        token = start
        for _ in range(_BACKFILL_PAGES):
            if not token:
                break
            resp = await _call(
                "messages",
                self._client.room_messages(
                    room_id, start=token, end=until, direction=MessageDirection.back,
                    limit=self.timeline_limit,
                ),
            )  # fmt: skip
            chunk = [e.source for e in resp.chunk if isinstance(getattr(e, "source", None), dict)]
            got.extend(chunk)
            if not chunk or not resp.end or resp.end == token:
                break
            token = resp.end
        else:
            log.warning("%s: more than %d events missed; the oldest are skipped", room_id,
                        _BACKFILL_PAGES * self.timeline_limit)  # fmt: skip
        got.reverse()
        return got

    # ---- the Platform port

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        await self._ensure_login()
        member = direct_member(group_id)
        if member is not None:  # a member's private chat: the room they invited the bot to
            room = self._dm_room.get(member)
            if room is None:
                raise PlatformError(f"matrix: no private chat with {member}")
            group_id = room
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        send = self._client.room_send(group_id, "m.room.message", content, tx_id=call_key.get())
        resp = await _call("send", send)
        return str(resp.event_id)

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        await self._ensure_login()
        redact = self._client.room_redact(group_id, message_id, reason or None, call_key.get())
        await _call("redact", redact)

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        """Drop ``member_id`` below the send level (``seconds > 0``) or restore it (0).

        The adapter only sets and lifts; timing a mute is the engine scheduler's job.
        """
        await self._ensure_login()
        got = await _call(
            "get power levels", self._client.room_get_state_event(group_id, "m.room.power_levels")
        )
        levels: dict[str, Any] = dict(got.content)
        users: dict[str, int] = dict(levels.get("users") or {})
        events_default = int(levels.get("events_default", 0))
        send_level = int((levels.get("events") or {}).get("m.room.message", events_default))
        muted_level = min(send_level, events_default) - 1
        current = int(users.get(member_id, levels.get("users_default", 0)))
        key = (group_id, member_id)
        if seconds > 0:
            if current <= muted_level:
                return  # already muted; keep the level remembered the first time
            self._muted[key] = users.get(member_id)
            users[member_id] = muted_level
        else:
            if key not in self._muted and current > muted_level:
                return  # not muted
            previous = self._muted.pop(key, None)
            if previous is None:  # the default level, or unknown after a restart
                users.pop(member_id, None)
            else:
                users[member_id] = previous
        levels["users"] = users
        await _call(
            "set power levels", self._client.room_put_state(group_id, "m.room.power_levels", levels)
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        await self._ensure_login()
        try:
            if ban:
                await _call("ban", self._client.room_ban(group_id, member_id, reason or None))
            else:
                await _call("kick", self._client.room_kick(group_id, member_id, reason or None))
        except MatrixError as exc:
            # Kicks carry no transaction id: one repeated after a crash finds the member
            # gone, and Synapse refuses it (M_FORBIDDEN). The member being out is the
            # kick done, not a missing right (which would drop KICK for the room).
            if exc.errcode != "M_FORBIDDEN" or await self._membership(group_id, member_id) not in (
                ("ban",) if ban else ("leave", "ban")
            ):
                raise

    async def _membership(self, group_id: str, member_id: str) -> str | None:
        """A member's current membership in a room (``join``, ``leave``, ``ban``…)."""
        try:
            resp = await _call(
                "membership",
                self._client.room_get_state_event(group_id, "m.room.member", member_id),
            )
        except MatrixError:
            return None
        membership = resp.content.get("membership") if isinstance(resp.content, dict) else None
        return membership if isinstance(membership, str) else None

    async def unban(self, group_id: str, member_id: str) -> None:
        await self._ensure_login()
        await _call("unban", self._client.room_unban(group_id, member_id))

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        raise Unsupported("matrix: a display name belongs to the user, not the room's admins")

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        """Answer a knock: ``request_id`` is the knocker's user id."""
        await self._ensure_login()
        if approve:
            await _call("invite", self._client.room_invite(group_id, request_id))
        else:
            await _call("deny knock", self._client.room_kick(group_id, request_id, reason or None))

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """Download an ``mxc://`` image through the authenticated media API."""
        if not ref.startswith("mxc://"):
            raise PlatformError(f"not a Matrix media URI: {ref[:80]!r}")
        await self._ensure_login()
        resp = await _call("download", self._client.download(mxc=ref))
        body = getattr(resp, "body", None)
        if not isinstance(body, bytes):
            raise MatrixError(f"download of {ref!r} gave no file")
        if len(body) > max_bytes:
            raise PlatformError(f"media {ref!r} is larger than {max_bytes} bytes")
        return body
