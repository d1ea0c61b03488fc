"""QQ through OneBot v11 (NapCat, Lagrange, go-cqhttp) over WebSocket.

Two halves: :func:`translate` turns one pushed OneBot frame into internal events (a
pure function, tested by replaying payloads), and :class:`OneBotAdapter` keeps the
connection, calls the ``action``/``params``/``echo`` API and matches replies by echo.

Forward mode connects to the implementation's ``ws://host:port/`` (the "Universal"
endpoint); reverse mode listens and lets the implementation connect with
``X-Self-ID`` and ``Authorization: Bearer <access_token>``. Events are handed to the
handler one at a time by a worker separate from the reader, so a handler that awaits
an action does not wait on the frame that answers it.

What the account may do differs per group (:meth:`OneBotAdapter.capabilities_for`):
recall others' messages, mute, remove, set cards and answer join requests only as the
group's owner or an admin, and nothing but read while it is muted itself. The role is
learned from the platform: ``get_group_member_info`` for itself the first time a group
shows up (``ask_rights``), the bot's own messages (``sender.role``), ``group_admin``
notices about it, ``group_ban`` of it, and a refusal ("权限不足", ``NOT_MANAGEABLE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import re
import time
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

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
    direct_chat,
    direct_member,
)
from shequn.platforms.port import (
    Capability,
    EventHandler,
    GroupRights,
    PlatformError,
    Unsupported,
    fetch_bounded,
    translate_or_skip,
)

__all__ = ["OneBotAdapter", "parse_cq", "translate"]

log = logging.getLogger(__name__)

PLATFORM = "qq"

# The first segment of one of these types decides the kind; text, at, reply and face
# are inline and leave a message TEXT (or LINK, see below).
_KIND_BY_SEGMENT = {
    "image": MessageKind.IMAGE,
    "mface": MessageKind.STICKER,  # NapCat/Lagrange market face
    "record": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.FILE,
    "share": MessageKind.LINK,
    "xml": MessageKind.LINK,
    "contact": MessageKind.CARD,
    "location": MessageKind.LOCATION,
    "forward": MessageKind.FORWARD,
    "node": MessageKind.FORWARD,
    "music": MessageKind.LINK,
    "poke": MessageKind.OTHER,
    "dice": MessageKind.OTHER,
    "rps": MessageKind.OTHER,
}

_CQ = re.compile(r"\[CQ:([A-Za-z0-9_.-]+)((?:,[^,\]]*)*)\]")


def _unescape(s: str) -> str:
    return s.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")


def parse_cq(raw: str) -> list[dict[str, Any]]:
    """Split a CQ-code string (OneBot's string message format) into segments."""
    segments: list[dict[str, Any]] = []
    pos = 0
    for m in _CQ.finditer(raw):
        if m.start() > pos:
            segments.append({"type": "text", "data": {"text": _unescape(raw[pos : m.start()])}})
        data: dict[str, str] = {}
        for pair in m.group(2).split(",")[1:]:
            key, _, value = pair.partition("=")
            data[key] = _unescape(value)
        segments.append({"type": m.group(1), "data": data})
        pos = m.end()
    if pos < len(raw):
        segments.append({"type": "text", "data": {"text": _unescape(raw[pos:])}})
    return segments


def _segments(message: Any) -> list[dict[str, Any]]:
    if isinstance(message, str):
        return parse_cq(message)
    if isinstance(message, list):
        return [s for s in message if isinstance(s, dict)]
    return []


def _json_kind(data: str) -> MessageKind:
    """Kind of a ``json`` card by its ``app`` (mini programs, contacts, links)."""
    try:
        app = str(json.loads(data).get("app", ""))
    except (ValueError, AttributeError):
        return MessageKind.LINK
    if "miniapp" in app:
        return MessageKind.MINIPROGRAM
    if "contact" in app:
        return MessageKind.CARD
    return MessageKind.LINK


def _sender(raw: dict[str, Any]) -> MemberRef:
    sender = raw.get("sender") or {}
    anonymous = raw.get("anonymous")
    if isinstance(anonymous, dict):
        return MemberRef(str(raw.get("user_id", "")), name=str(anonymous.get("name", "")))
    name = sender.get("card") or sender.get("nickname") or ""
    return MemberRef(
        str(raw.get("user_id") or sender.get("user_id", "")),
        name=str(name),
        is_operator=sender.get("role") in ("owner", "admin"),
    )


def _message(raw: dict[str, Any]) -> list[Event]:
    segs = _segments(raw.get("message"))
    texts: list[str] = []
    mentions: list[MemberRef] = []
    reply_to: str | None = None
    kind: MessageKind | None = None
    media: list[str] = []
    for seg in segs:
        kind_of, data = seg.get("type", ""), seg.get("data") or {}
        if kind_of == "text":
            texts.append(str(data.get("text", "")))
        elif kind_of == "at":
            qq = str(data.get("qq", ""))
            if qq and qq != "all":
                mentions.append(MemberRef(qq, name=str(data.get("name", ""))))
        elif kind_of == "reply":
            reply_to = str(data.get("id", "")) or None
        if kind_of == "image" and isinstance(data.get("url"), str):
            media.append(data["url"])
        if kind is None and kind_of == "json":
            kind = _json_kind(str(data.get("data", "")))
        elif kind is None and kind_of in _KIND_BY_SEGMENT:
            kind = _KIND_BY_SEGMENT[kind_of]
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=str(raw["group_id"]),
            message_id=str(raw["message_id"]),
            ts=float(raw.get("time", 0)),
            sender=_sender(raw),
            text="".join(texts).strip(),
            kind=kind or MessageKind.TEXT,
            reply_to=reply_to,
            mentions=tuple(mentions),
            forwarded=kind is MessageKind.FORWARD,
            media=tuple(media),
        )
    ]


def _event_id(raw: dict[str, Any]) -> str:
    return f"{raw.get('notice_type')}:{raw.get('time')}:{raw.get('group_id')}:{raw.get('user_id')}"


def _notice(raw: dict[str, Any]) -> list[Event]:
    notice, sub = raw.get("notice_type"), raw.get("sub_type")
    if "group_id" not in raw:
        return []
    group, ts = str(raw["group_id"]), float(raw.get("time", 0))
    member = MemberRef(str(raw.get("user_id", "")))
    operator = str(raw.get("operator_id") or "")
    if notice == "group_increase":
        invited = sub == "invite" and operator not in ("", "0", member.platform_id)
        return [
            MemberJoined(
                PLATFORM, group, _event_id(raw), ts, member,
                inviter=MemberRef(operator) if invited else None,
                method=JoinMethod.INVITED if invited
                else JoinMethod.REQUEST if sub == "approve" and operator not in ("", "0")
                else JoinMethod.UNKNOWN,
            )
        ]  # fmt: skip
    if notice == "group_decrease":
        kicked = sub in ("kick", "kick_me")
        return [
            MemberLeft(
                PLATFORM, group, _event_id(raw), ts, member,
                removed_by=MemberRef(operator) if kicked and operator not in ("", "0") else None,
                kicked=kicked,
            )
        ]  # fmt: skip
    if notice == "group_card":
        old, new = str(raw.get("card_old", "")), str(raw.get("card_new", ""))
        member = MemberRef(member.platform_id, name=new)
        return [MemberRenamed(PLATFORM, group, _event_id(raw), ts, member, old, new)]
    # group_ban and group_recall have no internal event yet: the archive records what
    # members do, and mutes / recalls are the bot's (or an admin's) own actions.
    return []


def _request(raw: dict[str, Any]) -> list[Event]:
    # sub_type "invite" asks whether the *bot* may join someone's group: not a member
    # asking to join one of ours, so it is no JoinRequested.
    if raw.get("request_type") != "group" or raw.get("sub_type") != "add":
        return []
    return [
        JoinRequested(
            platform=PLATFORM,
            group_id=str(raw["group_id"]),
            request_id=str(raw["flag"]),
            ts=float(raw.get("time", 0)),
            member=MemberRef(str(raw.get("user_id", ""))),
            answer=str(raw.get("comment") or ""),
        )
    ]


def _direct(raw: dict[str, Any]) -> list[Event]:
    """A private message to the account (friend or a temporary session from a group)."""
    text = "".join(
        str((seg.get("data") or {}).get("text", ""))
        for seg in _segments(raw.get("message"))
        if seg.get("type") == "text"
    ).strip()
    sender = _sender(raw)
    if not text or not sender.platform_id:
        return []
    return [DirectMessage(PLATFORM, direct_chat(sender.platform_id), str(raw["message_id"]),
                          float(raw.get("time", 0)), sender, text)]  # fmt: skip


def translate(raw: dict[str, Any]) -> list[Event]:
    """Internal events for one OneBot v11 event frame: group traffic, and members'
    private messages to the account."""
    post = raw.get("post_type")
    if post == "message" and raw.get("message_type") == "group":
        return _message(raw)
    if post == "message" and raw.get("message_type") == "private":
        return _direct(raw)
    if post == "notice":
        return _notice(raw)
    if post == "request":
        return _request(raw)
    return []  # meta_event (heartbeat, lifecycle), message_sent


_ROLES = ("owner", "admin", "member")
#: what a refusal for lack of a right says (go-cqhttp, NapCat, Lagrange wordings)
_REFUSALS = ("权限不足", "not_manageable", "no permission", "permission denied", "not admin",
             "无权", "需要管理员")  # fmt: skip


def role_rights(role: str) -> frozenset[Capability]:
    """What a QQ account may do by API in a group, from its role there."""
    if role in ("owner", "admin"):
        return frozenset(Capability)
    return frozenset({Capability.SEND, Capability.REPLY, Capability.FETCH_MEDIA})


def _id(value: str) -> int | str:
    """OneBot ids are int64; keep anything non-numeric as given."""
    return int(value) if value.lstrip("-").isdigit() else value


class OneBotAdapter:
    """A QQ bot account behind a OneBot v11 implementation."""

    name = PLATFORM
    #: seconds between two calls (QQ flags accounts that recall or mute in rapid bursts)
    min_call_interval = 0.1
    #: Members can write to the bot privately (appeals: :class:`DirectMessage`).
    direct_messages = True
    capabilities = frozenset(Capability) - {Capability.ROLE}  # QQ groups have no roles

    def __init__(
        self,
        url: str,
        access_token: str | None = None,
        mode: Literal["forward", "reverse"] = "forward",
        self_id: str | None = None,
        *,
        reconnect_delay: float = 3.0,
        action_timeout: float = 30.0,
        ask_rights: bool = False,
    ) -> None:
        if mode not in ("forward", "reverse"):
            raise ValueError(f"mode must be forward or reverse, not {mode!r}")
        self.url, self.access_token, self.mode, self.self_id = url, access_token, mode, self_id
        self.reconnect_delay, self.action_timeout = reconnect_delay, action_timeout
        #: set once forward mode is connected or reverse mode is listening
        self.ready = asyncio.Event()
        #: reverse mode: the port actually bound (``url`` may say 0)
        self.port: int | None = None
        self._ws: aiohttp.ClientWebSocketResponse | web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._echo = itertools.count(1)
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._request_sub_type: dict[str, str] = {}
        #: what the account may do per group, from its role there (see the docstring)
        self.rights = GroupRights(self.capabilities)
        self.ask_rights = ask_rights
        self._muted_until: dict[str, float] = {}  # the bot's own mute, per group
        self._role: dict[str, str] = {}  # the bot's own role, per group
        self._asked: set[str] = set()

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        """What the account may do in one group (the adapter-wide set until known)."""
        caps = self.rights(group_id)
        if self._muted_until.get(group_id, 0.0) > time.time():
            caps -= {Capability.SEND, Capability.REPLY}
        return caps

    def learn_refusal(self, group_id: str, cap: Capability, exc: BaseException) -> bool:
        """True (and ``cap`` dropped for the group) when the refusal says "no right".

        Not where the account is known to be owner or admin: there a refusal means the
        member outranks it (an admin cannot mute or recall another admin).
        """
        text = str(exc).lower()
        if not isinstance(exc, PlatformError) or not any(r in text for r in _REFUSALS):
            return False
        if self._role.get(group_id) in ("owner", "admin"):
            return False
        self.rights.refuse(group_id, cap)
        log.warning("OneBot group %s: the bot may not %s there (%s)", group_id, cap.value, exc)
        return True

    def _learn_rights(self, raw: dict[str, Any]) -> None:
        """Follow the account's own role and mute in a group from an event frame."""
        me, group = str(raw.get("self_id", "")), raw.get("group_id")
        if not me or group is None or str(raw.get("user_id", "")) != me:
            return
        g, notice = str(group), raw.get("notice_type")
        if raw.get("post_type") in ("message", "message_sent"):
            role = (raw.get("sender") or {}).get("role")
            if role in _ROLES:
                self._learn_role(g, str(role))
        elif notice == "group_admin":
            self._learn_role(g, "admin" if raw.get("sub_type") == "set" else "member")
        elif notice == "group_increase":
            self._learn_role(g, "member")
        elif notice == "group_decrease":  # kick_me, or it left: nothing to do there
            self._role.pop(g, None)
            self.rights.learn(g, frozenset({Capability.FETCH_MEDIA}))
        elif notice == "group_ban":
            seconds = int(raw.get("duration") or 0) if raw.get("sub_type") == "ban" else 0
            self._muted_until[g] = float(raw.get("time") or time.time()) + seconds
        else:
            return
        self._asked.add(g)

    async def _ask_rights(self, raw: dict[str, Any]) -> None:
        """``get_group_member_info`` for the account, once per group (with ``ask_rights``)."""
        me, group = str(raw.get("self_id", "")), raw.get("group_id")
        if not self.ask_rights or not me or group is None or str(group) in self._asked:
            return
        self._asked.add(str(group))
        try:
            info = await self.call(
                "get_group_member_info", group_id=_id(str(group)), user_id=_id(me), no_cache=True
            )
        except PlatformError as exc:
            log.warning("OneBot group %s: the bot's role not read (%s)", group, exc)
            return
        if isinstance(info, dict) and info.get("role") in _ROLES:
            self._learn_role(str(group), str(info["role"]))

    def _learn_role(self, group_id: str, role: str) -> None:
        if self._role.get(group_id) != role:  # a new role replaces what refusals taught
            self._role[group_id] = role
            self.rights.learn(group_id, role_rights(role))

    # -- receiving -------------------------------------------------------------------

    async def start(self, handle: EventHandler) -> None:
        """Connect (or listen) and deliver events to ``handle`` until :meth:`stop`."""
        self._stop.clear()
        worker = asyncio.create_task(self._work(handle))
        try:
            if self.mode == "forward":
                await self._run_forward()
            else:
                await self._run_reverse()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            self.ready.clear()

    async def stop(self) -> None:
        self._stop.set()
        if self._ws is not None:
            await self._ws.close()

    async def _work(self, handle: EventHandler) -> None:
        while True:
            raw = await self._queue.get()
            if raw.get("post_type") == "request" and "flag" in raw:
                self._request_sub_type[str(raw["flag"])] = str(raw.get("sub_type", "add"))
            self._learn_rights(raw)
            await self._ask_rights(raw)
            for event in translate_or_skip(PLATFORM, translate, raw):
                await handle(event, self)

    def _headers(self) -> dict[str, str]:
        headers = {"X-Client-Role": "Universal"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        if self.self_id:
            headers["X-Self-ID"] = self.self_id
        return headers

    async def _run_forward(self) -> None:
        async with aiohttp.ClientSession() as session:
            while not self._stop.is_set():
                try:
                    async with session.ws_connect(
                        self.url, headers=self._headers(), heartbeat=30.0
                    ) as ws:
                        self.ready.set()
                        await self._serve(ws)
                except aiohttp.ClientError as exc:
                    log.warning("OneBot connection to %s failed: %s", self.url, exc)
                if not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), self.reconnect_delay)

    async def _run_reverse(self) -> None:
        parts = urlsplit(self.url)
        app = web.Application()
        app.router.add_get(parts.path or "/", self._accept)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, parts.hostname or "127.0.0.1", parts.port or 0)
        try:
            await site.start()
            address = runner.addresses[0] if runner.addresses else None
            self.port = address[1] if isinstance(address, tuple) else parts.port
            self.ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def _authorised(self, request: web.Request) -> bool:
        if not self.access_token:
            return True
        given = request.headers.get("Authorization", "")
        token = given.removeprefix("Bearer ").removeprefix("Token ").strip()
        token = token or request.query.get("access_token", "")
        return hmac.compare_digest(token.encode(), self.access_token.encode())

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return web.Response(status=401 if "Authorization" not in request.headers else 403)
        if self.self_id and request.headers.get("X-Self-ID") != self.self_id:
            return web.Response(status=403, text="unexpected X-Self-ID")
        role = request.headers.get("X-Client-Role", "Universal")
        if role.lower() != "universal":
            # separate API and Event connections would need pairing; every current
            # implementation can use one Universal connection instead
            log.warning("OneBot connected as %s; configure a Universal client", role)
            return web.Response(status=400, text="only a Universal client is served")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self._ws is not None:  # the implementation reconnected: the newest wins
            await self._ws.close()
        await self._serve(ws)
        return ws

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse | web.WebSocketResponse) -> None:
        self._ws = ws
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    log.warning("OneBot sent a frame that is not JSON: %.200s", msg.data)
                    continue
                if not isinstance(frame, dict):
                    continue
                if "post_type" in frame:
                    self._queue.put_nowait(frame)
                elif "echo" in frame:
                    future = self._pending.pop(str(frame["echo"]), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
        finally:
            if self._ws is ws:
                self._ws = None
                self._connected.clear()
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(PlatformError("OneBot connection closed"))
                self._pending.clear()

    # -- acting ----------------------------------------------------------------------

    async def call(self, action: str, **params: Any) -> Any:
        """Call one OneBot API action; its ``data``, or PlatformError on failure."""
        try:
            await asyncio.wait_for(self._connected.wait(), self.action_timeout)
        except TimeoutError:
            raise PlatformError(f"OneBot not connected; cannot {action}") from None
        ws = self._ws
        if ws is None:
            raise PlatformError(f"OneBot not connected; cannot {action}")
        echo = str(next(self._echo))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[echo] = future
        try:
            await ws.send_str(json.dumps({"action": action, "params": params, "echo": echo}))
            reply = await asyncio.wait_for(future, self.action_timeout)
        except TimeoutError:
            raise PlatformError(f"OneBot {action}: no reply in {self.action_timeout} s") from None
        finally:
            self._pending.pop(echo, None)
        retcode = reply.get("retcode", 0)
        if retcode != 0 or reply.get("status") == "failed":
            detail = reply.get("wording") or reply.get("msg") or reply.get("message") or ""
            raise PlatformError(f"OneBot {action} failed: retcode {retcode} {detail}".rstrip())
        return reply.get("data")

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        message: list[dict[str, Any]] = []
        if reply_to:
            message.append({"type": "reply", "data": {"id": reply_to}})
        message.append({"type": "text", "data": {"text": text}})
        member = direct_member(group_id)
        if member is not None:  # a member's private chat with the account
            data = await self.call("send_private_msg", user_id=_id(member), message=message)
        else:
            data = await self.call("send_group_msg", group_id=_id(group_id), message=message)
        return str((data or {}).get("message_id", ""))

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        await self.call("delete_msg", message_id=_id(message_id))

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        await self.call(
            "set_group_ban", group_id=_id(group_id), user_id=_id(member_id), duration=seconds
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        await self.call("set_group_kick", group_id=_id(group_id), user_id=_id(member_id),
                        reject_add_request=ban)  # fmt: skip

    async def unban(self, group_id: str, member_id: str) -> None:
        # OneBot v11 has no action that lifts reject_add_request; an admin clears it
        # in the QQ client (or invites the member back).
        raise Unsupported("QQ (OneBot v11) cannot lift a join block by API")

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        await self.call("set_group_card", group_id=_id(group_id), user_id=_id(member_id), card=card)

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        sub_type = self._request_sub_type.pop(request_id, "add")
        params: dict[str, Any] = {"flag": request_id, "sub_type": sub_type, "approve": approve}
        if not approve:
            params["reason"] = reason
        await self.call("set_group_add_request", **params)

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """An image segment's ``url`` (NapCat / go-cqhttp serve QQ's CDN links there)."""
        if not ref.startswith(("http://", "https://")):
            raise PlatformError(f"not a downloadable image URL: {ref[:80]!r}")
        async with aiohttp.ClientSession() as session:
            return await fetch_bounded(session, ref, max_bytes=max_bytes)
