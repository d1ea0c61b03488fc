"""Telegram through the Bot API: long polling in, JSON methods out.

:func:`translate` turns one ``Update`` into internal events (a pure function, tested
by replaying payloads); :class:`TelegramAdapter` polls ``getUpdates`` and calls the
methods. An update is acknowledged (the next ``offset`` moves past it) only after
``handle`` returned for all its events, so a crash or restart redelivers at most the
update that was in hand, and a new adapter built with the stored :attr:`offset`
never sees a handled update again.

Joins and leaves arrive twice in groups where the bot is an admin: as a service
message (``new_chat_members`` / ``left_chat_member``) and as a ``chat_member``
update. Both give the same ``event_id`` (member and second), so the engine's
dedupe by event id keeps one.

What the bot may do differs per chat (:meth:`TelegramAdapter.capabilities_for`): it
deletes, restricts, bans and answers join requests only where it is an administrator
with ``can_delete_messages`` / ``can_restrict_members`` / ``can_invite_users``. The
adapter asks ``getChatMember`` for itself the first time a chat shows up and follows
``my_chat_member`` updates (promotions, demotions, removal) from then on; a call
refused with "not enough rights" / ``CHAT_ADMIN_REQUIRED`` drops that capability too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinMethod,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRef,
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

__all__ = ["TelegramAdapter", "translate"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"
GROUP_TYPES = ("group", "supergroup")
MIN_RESTRICT_SECONDS = 40
#: chat_member updates are only sent when asked for by name
ALLOWED_UPDATES = ["message", "chat_member", "chat_join_request", "my_chat_member"]

# In order: the first field present decides the kind.
_KIND_BY_FIELD = (
    ("photo", MessageKind.IMAGE),
    ("sticker", MessageKind.STICKER),
    ("animation", MessageKind.VIDEO),
    ("video", MessageKind.VIDEO),
    ("video_note", MessageKind.VIDEO),
    ("voice", MessageKind.VOICE),
    ("audio", MessageKind.FILE),
    ("document", MessageKind.FILE),
    ("contact", MessageKind.CARD),
    ("venue", MessageKind.LOCATION),
    ("location", MessageKind.LOCATION),
    ("poll", MessageKind.POLL),
    ("dice", MessageKind.OTHER),
    ("game", MessageKind.OTHER),
)
_MEMBER_STATUSES = ("creator", "administrator", "member")


def _user(user: dict[str, Any]) -> MemberRef:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return MemberRef(
        str(user["id"]), name=name or str(user.get("username", "")), is_bot=bool(user.get("is_bot"))
    )


def _sender(msg: dict[str, Any]) -> MemberRef | None:
    chat = msg.get("sender_chat")
    if isinstance(chat, dict):  # anonymous admin or a linked channel posting as itself
        return MemberRef(str(chat["id"]), name=str(chat.get("title", "")), is_operator=True)
    sender = msg.get("from")
    return _user(sender) if isinstance(sender, dict) else None


def _mentions(text: str, entities: list[dict[str, Any]]) -> tuple[tuple[MemberRef, ...], bool]:
    """Mentioned members and whether the text carries a link.

    A plain ``@username`` mention names no user id, so the ref's id is ``@username``.
    Offsets are in UTF-16 code units, as the Bot API counts them.
    """
    mentions: list[MemberRef] = []
    has_link = False
    utf16 = text.encode("utf-16-le")
    for ent in entities:
        kind = ent.get("type")
        if kind == "mention":
            start, length = int(ent["offset"]) * 2, int(ent["length"]) * 2
            handle = utf16[start : start + length].decode("utf-16-le")
            mentions.append(MemberRef(handle, name=handle.lstrip("@")))
        elif kind == "text_mention" and isinstance(ent.get("user"), dict):
            mentions.append(_user(ent["user"]))
        elif kind in ("url", "text_link"):
            has_link = True
    return tuple(mentions), has_link


def _pair_id(what: str, chat_id: Any, user_id: Any, date: Any) -> str:
    return f"{what}:{chat_id}:{user_id}:{date}"


def _message(msg: dict[str, Any]) -> list[Event]:
    chat = msg["chat"]
    group, ts = str(chat["id"]), float(msg.get("date", 0))
    actor = msg.get("from") if isinstance(msg.get("from"), dict) else None
    if "new_chat_members" in msg:
        out: list[Event] = []
        for member in msg["new_chat_members"]:
            by_other = actor is not None and actor["id"] != member["id"]
            out.append(
                MemberJoined(
                    PLATFORM, group, _pair_id("join", group, member["id"], msg.get("date")), ts,
                    _user(member),
                    inviter=_user(actor) if by_other and actor else None,
                    method=JoinMethod.INVITED if by_other else JoinMethod.UNKNOWN,
                )
            )  # fmt: skip
        return out
    if "left_chat_member" in msg:
        member = msg["left_chat_member"]
        by_other = actor is not None and actor["id"] != member["id"]
        return [
            MemberLeft(
                PLATFORM, group, _pair_id("left", group, member["id"], msg.get("date")), ts,
                _user(member),
                removed_by=_user(actor) if by_other and actor else None,
                kicked=by_other,
            )
        ]  # fmt: skip
    if "new_chat_title" in msg:
        return [GroupSeen(PLATFORM, group, str(msg["new_chat_title"]), ts, str(chat["type"]))]
    text = str(msg.get("text") or msg.get("caption") or "")
    entities = msg.get("entities") or msg.get("caption_entities") or []
    mentions, has_link = _mentions(text, entities)
    kind = next((k for f, k in _KIND_BY_FIELD if f in msg), None)
    if kind is None and not text:
        return []  # other service messages (pins, photo changes, ...)
    reply = msg.get("reply_to_message")
    if isinstance(reply, dict) and "forum_topic_created" in reply:
        reply = None  # in a forum every topic message "replies" to the topic's opening
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=group,
            message_id=str(msg["message_id"]),
            ts=ts,
            sender=_sender(msg),
            text=text,
            kind=kind or (MessageKind.LINK if has_link else MessageKind.TEXT),
            reply_to=str(reply["message_id"]) if isinstance(reply, dict) else None,
            mentions=mentions,
            forwarded="forward_origin" in msg or "forward_date" in msg,
            edited="edit_date" in msg,
            media=_photo(msg),
        )
    ]


def _photo(msg: dict[str, Any]) -> tuple[str, ...]:
    """The file id of the largest size of a photo (Telegram sends several sizes)."""
    sizes = [p for p in msg.get("photo") or () if isinstance(p, dict) and "file_id" in p]
    if not sizes:
        return ()
    best = max(sizes, key=lambda p: int(p.get("width", 0)) * int(p.get("height", 0)))
    return (str(best["file_id"]),)


def _invite_link(upd: dict[str, Any]) -> str | None:
    """The ``ChatInviteLink.invite_link`` a newcomer joined through (per-link attribution)."""
    link = upd.get("invite_link")
    return str(link["invite_link"]) if isinstance(link, dict) and link.get("invite_link") else None


def _chat_member(upd: dict[str, Any]) -> list[Event]:
    chat, actor = upd["chat"], upd["from"]
    old, new = upd["old_chat_member"], upd["new_chat_member"]
    member = new["user"]
    group, ts = str(chat["id"]), float(upd.get("date", 0))
    was_in = old["status"] in _MEMBER_STATUSES or old.get("is_member") is True
    is_in = new["status"] in _MEMBER_STATUSES or new.get("is_member") is True
    by_other = actor["id"] != member["id"]
    if was_in and not is_in:
        return [
            MemberLeft(
                PLATFORM, group, _pair_id("left", group, member["id"], upd.get("date")), ts,
                _user(member),
                removed_by=_user(actor) if by_other else None,
                kicked=by_other or new["status"] == "kicked",
            )
        ]  # fmt: skip
    if is_in and not was_in:
        if upd.get("via_join_request"):
            method = JoinMethod.REQUEST
        elif by_other:
            method = JoinMethod.INVITED
        elif upd.get("invite_link") or upd.get("via_chat_folder_invite_link"):
            method = JoinMethod.LINK
        else:
            method = JoinMethod.UNKNOWN
        return [
            MemberJoined(
                PLATFORM, group, _pair_id("join", group, member["id"], upd.get("date")), ts,
                _user(member),
                inviter=_user(actor) if method is JoinMethod.INVITED else None,
                method=method,
                invite=_invite_link(upd),
            )
        ]  # fmt: skip
    return []  # promotions, restrictions, title changes


def _direct(msg: dict[str, Any]) -> list[Event]:
    """A member's private message to the bot (a private chat's id is the user's id)."""
    sender = msg.get("from")
    text = str(msg.get("text") or msg.get("caption") or "")
    if not isinstance(sender, dict) or not text:
        return []
    member = _user(sender)
    chat = direct_chat(member.platform_id)
    return [DirectMessage(PLATFORM, chat, str(msg["message_id"]), float(msg.get("date", 0)),
                          member, text)]  # fmt: skip


def translate(update: dict[str, Any]) -> list[Event]:
    """Internal events for one Bot API ``Update``: groups and supergroups, and members'
    private messages to the bot."""
    if isinstance(update.get("message"), dict):
        msg = update["message"]
        if msg["chat"].get("type") == "private":
            return _direct(msg)
        return _message(msg) if msg["chat"].get("type") in GROUP_TYPES else []
    if isinstance(update.get("chat_member"), dict):
        upd = update["chat_member"]
        return _chat_member(upd) if upd["chat"].get("type") in GROUP_TYPES else []
    if isinstance(update.get("chat_join_request"), dict):
        req = update["chat_join_request"]
        return [
            JoinRequested(
                platform=PLATFORM,
                group_id=str(req["chat"]["id"]),
                # approveChatJoinRequest takes the user: the request *is* the user id
                request_id=str(req["from"]["id"]),
                ts=float(req.get("date", 0)),
                member=_user(req["from"]),
            )
        ]
    return []


#: Bot API errors that mean "the bot lacks the right in this chat". Not "message can't
#: be deleted": that is also what a message older than 48 hours gets.
_REFUSALS = (
    "not enough rights",
    "chat_admin_required",
    "need administrator rights",
    "have no rights",
    "chat_write_forbidden",
    "bot was kicked",
    "bot is not a member",
    "only for supergroups",  # restrictChatMember in a basic group
)


def rights_of(member: dict[str, Any]) -> frozenset[Capability]:
    """What a bot may do in a chat, from its ``ChatMember`` there (getChatMember,
    ``my_chat_member.new_chat_member``)."""
    status = member.get("status")
    caps = {Capability.FETCH_MEDIA}
    speaks = status in ("creator", "administrator", "member") or (
        status == "restricted" and member.get("can_send_messages") is not False
    )
    if speaks:
        caps |= {Capability.SEND, Capability.REPLY}
    admin = status == "administrator"
    if status == "creator" or (admin and member.get("can_delete_messages")):
        caps.add(Capability.DELETE)
    if status == "creator" or (admin and member.get("can_restrict_members")):
        caps |= {Capability.MUTE, Capability.KICK, Capability.BAN}
    if status == "creator" or (admin and member.get("can_invite_users")):
        caps.add(Capability.APPROVE_JOIN)
    return frozenset(caps)


def _chat_of(update: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("message", "chat_member", "chat_join_request"):
        body = update.get(key)
        if isinstance(body, dict) and isinstance(body.get("chat"), dict):
            return body["chat"]
    return None


class TelegramAdapter:
    """A Telegram bot account, polling ``getUpdates``."""

    name = PLATFORM
    #: seconds between two calls (Bot API: about 30 messages a second per bot)
    min_call_interval = 0.035
    #: Members can write to the bot privately (appeals: :class:`DirectMessage`).
    direct_messages = True
    capabilities = frozenset(Capability) - {Capability.SET_CARD, Capability.ROLE}

    def __init__(
        self,
        token: str,
        api_base: str = "https://api.telegram.org",
        *,
        offset: int | None = None,
        poll_timeout: int = 30,
        retry_delay: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token, self.api_base = token, api_base.rstrip("/")
        #: the next update id to ask for; persist it to resume without repeats
        self.offset = offset
        self.poll_timeout, self.retry_delay = poll_timeout, retry_delay
        self.clock = clock  # wall time for until_date
        self._session: aiohttp.ClientSession | None = None
        self._stop = asyncio.Event()
        self._titles: dict[str, str] = {}
        #: the bot's own user id: the number before the colon of its token
        self.bot_id = token.split(":", 1)[0]
        #: what the bot may do per chat, from its ChatMember there (see the docstring)
        self.rights = GroupRights(self.capabilities)
        self._asked: set[str] = set()

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        """What the bot may do in one chat (the adapter-wide set until it is known)."""
        return self.rights(group_id)

    def learn_refusal(self, group_id: str, cap: Capability, exc: BaseException) -> bool:
        """True (and ``cap`` dropped for the chat) when Telegram said the bot lacks it."""
        text = str(exc).lower()
        if not isinstance(exc, PlatformError) or not any(r in text for r in _REFUSALS):
            return False
        self.rights.refuse(group_id, cap)
        log.warning("Telegram chat %s: the bot may not %s there (%s)", group_id, cap.value, exc)
        return True

    def _learn_rights(self, update: dict[str, Any]) -> None:
        """Follow the bot's own ChatMember: promoted, demoted, restricted or removed."""
        upd = update.get("my_chat_member")
        if not isinstance(upd, dict) or not isinstance(upd.get("chat"), dict):
            return
        member = upd.get("new_chat_member")
        if isinstance(member, dict) and upd["chat"].get("type") in GROUP_TYPES:
            group = str(upd["chat"]["id"])
            self.rights.learn(group, rights_of(member))
            self._asked.add(group)

    async def _ask_rights(self, update: dict[str, Any]) -> None:
        """``getChatMember`` for the bot, once per chat, the first time the chat shows up."""
        chat = _chat_of(update)
        if not chat or chat.get("type") not in GROUP_TYPES or not self.bot_id.isdigit():
            return
        group = str(chat["id"])
        if group in self._asked:
            return
        self._asked.add(group)
        try:
            member = await self.call("getChatMember", chat_id=int(group), user_id=int(self.bot_id))
        except PlatformError as exc:
            log.warning("Telegram chat %s: the bot's rights not read (%s)", group, exc)
            return
        if isinstance(member, dict) and "status" in member:
            self.rights.learn(group, rights_of(member))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def call(self, method: str, /, **params: Any) -> Any:
        """Call one Bot API method with a JSON body; its ``result`` or PlatformError."""
        return await self._request(method, params, 30.0)

    async def _request(self, method: str, params: dict[str, Any], http_timeout: float) -> Any:
        url = f"{self.api_base}/bot{self.token}/{method}"
        try:
            async with self._http().post(
                url, json=params, timeout=aiohttp.ClientTimeout(total=http_timeout)
            ) as resp:
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = {}
                status = resp.status
                header_retry = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # aiohttp may quote the URL, and the bot token is part of every Bot API URL
            what = str(exc).replace(self.token, "<token>") or type(exc).__name__
            raise PlatformError(f"Telegram {method}: {what}") from None
        if isinstance(body, dict) and body.get("ok") is True and status == 200:
            return body.get("result")
        body = body if isinstance(body, dict) else {}
        retry = (body.get("parameters") or {}).get("retry_after") or header_retry
        description = body.get("description") or f"HTTP {status}"
        raise PlatformError(
            f"Telegram {method} failed: {body.get('error_code', status)} {description}",
            retry_after=float(retry) if retry is not None else None,
        )

    # -- receiving -------------------------------------------------------------------

    async def start(self, handle: EventHandler) -> None:
        """Poll and deliver events to ``handle`` until :meth:`stop`.

        An exception from ``handle`` ends polling with that update unacknowledged.
        """
        self._stop.clear()
        stopping = asyncio.create_task(self._stop.wait())
        try:
            while not self._stop.is_set():
                poll = asyncio.create_task(self._poll())
                await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():
                    poll.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await poll
                    break
                try:
                    updates = poll.result()
                except PlatformError as exc:
                    delay = exc.retry_after or self.retry_delay
                    log.warning("Telegram getUpdates failed (%s); again in %.0f s", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stopping), delay)
                    continue
                for update in updates:
                    if self._stop.is_set():
                        break
                    self._learn_rights(update)
                    await self._ask_rights(update)
                    for event in self._events(update):
                        await handle(event, self)
                    self.offset = int(update["update_id"]) + 1
        finally:
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
            await self._close()

    async def _poll(self) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": self.poll_timeout, "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            params["offset"] = self.offset
        result = await self._request("getUpdates", params, self.poll_timeout + 10)
        return [u for u in result or [] if isinstance(u, dict)]

    def _events(self, update: dict[str, Any]) -> list[Event]:
        """The update's events, led by a GroupSeen when a chat or its title is new."""
        events = translate_or_skip(PLATFORM, translate, update)
        chat = _chat_of(update)
        if events and chat and chat.get("type") in GROUP_TYPES:
            group, title = str(chat["id"]), str(chat.get("title", ""))
            if self._titles.get(group) != title:
                self._titles[group] = title
                if not isinstance(events[0], GroupSeen):
                    ts = getattr(events[0], "ts", None)
                    events.insert(0, GroupSeen(PLATFORM, group, title, ts, str(chat["type"])))
        return events

    async def stop(self) -> None:
        self._stop.set()

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def aclose(self) -> None:
        """Close the HTTP session of an adapter used only to act (never started)."""
        await self._close()

    # -- acting ----------------------------------------------------------------------

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        # a member's private chat with the bot has the member's id as its chat id
        chat = direct_member(group_id) or group_id
        params: dict[str, Any] = {"chat_id": int(chat), "text": text}
        if reply_to:
            # still send if the message replied to is gone
            params["reply_parameters"] = {
                "message_id": int(reply_to),
                "allow_sending_without_reply": True,
            }
        result = await self.call("sendMessage", **params)
        return str(result["message_id"])

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        await self.call("deleteMessage", chat_id=int(group_id), message_id=int(message_id))

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        if seconds > 0:
            await self.call(
                "restrictChatMember",
                chat_id=int(group_id),
                user_id=int(member_id),
                permissions={"can_send_messages": False},
                use_independent_chat_permissions=True,
                # Telegram reads an until_date under 30 s away as "forever": round a
                # short mute up (with margin for clock skew) rather than make it permanent
                until_date=int(self.clock()) + max(seconds, MIN_RESTRICT_SECONDS),
            )
            return
        # Lifting means back to what every member of the chat may do, not "everything".
        chat = await self.call("getChat", chat_id=int(group_id))
        await self.call(
            "restrictChatMember",
            chat_id=int(group_id),
            user_id=int(member_id),
            permissions=(chat or {}).get("permissions") or {"can_send_messages": True},
            use_independent_chat_permissions=True,
        )

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        await self.call("banChatMember", chat_id=int(group_id), user_id=int(member_id))
        if not ban:  # a kick is a ban lifted at once, so they may come back
            await self.unban(group_id, member_id)

    async def unban(self, group_id: str, member_id: str) -> None:
        await self.call(
            "unbanChatMember", chat_id=int(group_id), user_id=int(member_id), only_if_banned=True
        )

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        raise Unsupported("Telegram bots cannot set a member's name")

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        method = "approveChatJoinRequest" if approve else "declineChatJoinRequest"
        await self.call(method, chat_id=int(group_id), user_id=int(request_id))

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        """``getFile`` for the file id, then the file itself (bots may fetch up to 20 MB)."""
        info = await self.call("getFile", file_id=ref)
        if not isinstance(info, dict) or not isinstance(info.get("file_path"), str):
            raise PlatformError(f"Telegram getFile: no file_path for {ref[:40]!r}")
        if int(info.get("file_size") or 0) > max_bytes:
            raise PlatformError(f"media is larger than {max_bytes} bytes")
        url = f"{self.api_base}/file/bot{self.token}/{info['file_path']}"
        try:
            return await fetch_bounded(self._http(), url, max_bytes=max_bytes)
        except PlatformError as exc:
            raise PlatformError(str(exc).replace(self.token, "<token>")) from None
