"""The WeCom self-built app: callbacks in, group syncs, owner notices out.

What arrives: customer-group and customer-contact callbacks on the callback URL
(:mod:`~shequn.platforms.wecom.callback`), each completed with the group's detail
from ``groupchat/get`` before it is translated, so joins carry names, inviters and
scenes. A sync on start and every ``sync_seconds`` lists every customer group and
fetches each, to catch what no callback told (a restart, a lost callback).

Messages: WeCom sends an app no customer-group messages. They reach shequn only
through the session archive (会话存档), which needs its licence and the finance SDK
(a C library): pass ``archive`` a function that returns the decrypted records after
a sequence number and the adapter feeds them to the engine like any message.

Customer tags: the corporate tags staff put on customers are kept in the CRM's
``member_tags`` (``source = "wecom"``; :mod:`~shequn.platforms.wecom.tags`), synced in
full with every group sync and per customer or per tag on the callbacks that say a
customer's tags or the tag dictionary changed.

What it cannot do: post, recall, mute or remove in a customer group. Its capability
set is empty, so the engine makes each action a human task, and
:meth:`WeComAdapter.notify_human_tasks` sends the owner an app message saying what
to do. What the owner then did is seen, not only clicked: syncs and leave callbacks
close "remove" tasks, archive records close "recall" and "post" tasks, and each sync
round follows the submitted mass sends (see :mod:`~shequn.platforms.wecom.tasks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web
from sqlalchemy import Connection

from shequn.events import Event, MemberRef, MessagePosted
from shequn.importers.wecom_archive import record_events
from shequn.platforms.port import (
    MALFORMED,
    Capability,
    EventHandler,
    PlatformError,
    Unsupported,
    checked,
)
from shequn.platforms.wecom.api import API_BASE, AiohttpTransport, Transport, WeComApi
from shequn.platforms.wecom.callback import CallbackCrypto, callback_app
from shequn.platforms.wecom.events import (
    PLATFORM,
    Facts,
    GroupInfo,
    group_info,
    member_ref,
    sync_events,
)
from shequn.platforms.wecom.events import translate as translate_callback
from shequn.platforms.wecom.tags import (
    TagBook,
    apply_book,
    contact_tags,
    follow_info_tags,
    save_contact,
    save_contacts,
)
from shequn.platforms.wecom.tasks import (
    check_mass_sends,
    confirm_from_archive,
    confirm_removals,
    expire_owner_tasks,
    group_sizes,
    next_group_with_room,
    notify_human_tasks,
    plan_mass_send,
    save_groups,
    submit_mass_sends,
)
from shequn.store import Store

__all__ = ["ArchiveSource", "WeComAdapter"]

log = logging.getLogger(__name__)

#: ``archive(after_seq)`` -> decrypted session-archive records with their ``seq``
ArchiveSource = Callable[[int], Awaitable[list[dict[str, Any]]]]
_NO_API = "WeCom apps cannot {} in customer groups; the group owner is asked instead"


class WeComAdapter:
    """One WeCom self-built app (自建应用) with the customer-contact permission."""

    name = PLATFORM
    #: nothing by API: every action in a customer group is the owner's (see module doc)
    capabilities: frozenset[Capability] = frozenset()
    #: periodic work the bot's tick runs for this adapter (see ``commands.bot.run_bot``)
    tick_jobs = (("wecom.owner_tasks", lambda conn, _p, _s, now: expire_owner_tasks(conn, now)),)

    def __init__(
        self,
        secret: str,
        corp_id: str,
        agent_id: int,
        *,
        callback_token: str | None = None,
        encoding_aes_key: str | None = None,
        host: str = "0.0.0.0",
        port: int = 8088,
        path: str = "/wecom/callback",
        api_base: str = API_BASE,
        sync_seconds: float = 3600.0,
        backfill_seconds: float = 86400.0,
        archive: ArchiveSource | None = None,
        archive_seq: int = 0,
        archive_seconds: float = 30.0,
        http_timeout: float = 15.0,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
        store: Store | None = None,
    ) -> None:
        token = callback_token or os.environ.get("SHEQUN_WECOM_CALLBACK_TOKEN", "")
        aes_key = encoding_aes_key or os.environ.get("SHEQUN_WECOM_AES_KEY", "")
        if not token or not aes_key:
            raise TypeError(
                "WeCom needs the callback Token and EncodingAESKey (callback_token / "
                "encoding_aes_key, or SHEQUN_WECOM_CALLBACK_TOKEN / SHEQUN_WECOM_AES_KEY)"
            )
        self.corp_id, self.agent_id = corp_id, int(agent_id)
        self.crypto = CallbackCrypto(token, aes_key, corp_id)
        self.api = WeComApi(
            corp_id, secret, transport or AiohttpTransport(api_base, timeout=http_timeout)
        )
        self.host, self.port, self.path = host, port, path
        self.sync_seconds = sync_seconds
        #: on the first sync of a group, joins this recent are announced (a restart's
        #: gap); older members are only remembered (see :func:`sync_events`)
        self.backfill_seconds = backfill_seconds
        self.archive, self.archive_seconds = archive, archive_seconds
        #: the last session-archive seq handed to the engine; persist it to resume
        self.archive_seq = archive_seq
        self.clock = clock
        #: the groups as last fetched (chat id -> detail)
        self.groups: dict[str, GroupInfo] = {}
        #: where syncs record groups, owners (``wecom_groups``) and customer tags
        #: (``member_tags``); given, or learnt from the first :meth:`notify_human_tasks`
        self.store: Store | None = store
        #: the corporate tag dictionary as last fetched
        self.tag_book: TagBook | None = None
        self._handle: EventHandler | None = None
        self._lock = asyncio.Lock()  # one callback or sync step at a time, in order
        self._stop = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None  # the port actually listened on (port=0 in tests)

    # -- receiving -------------------------------------------------------------------

    def app(self) -> web.Application:
        """The callback endpoint as an aiohttp app (to mount elsewhere if wanted)."""
        return callback_app(self.crypto, self.deliver, self.path)

    async def start(self, handle: EventHandler) -> None:
        """Serve callbacks, sync now and every ``sync_seconds``, until :meth:`stop`.

        An exception from ``handle`` during a sync ends :meth:`start` with it; during a
        callback it answers WeCom with a 500 (WeCom sends the callback again).
        """
        self._handle = handle
        self._stop.clear()
        self._runner = web.AppRunner(self.app(), access_log=None)
        try:
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            # with port 0 the OS picks one; aiohttp only tells through the server socket
            sockets = getattr(site._server, "sockets", None) or []
            self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
            next_sync = next_archive = 0.0
            loop = asyncio.get_running_loop()
            while not self._stop.is_set():
                t = loop.time()
                if t >= next_sync:
                    # tags need the archive: known from the start when the bot gives it
                    # (``store=``), else learnt while the groups' events go through
                    tags_due = self.store is not None
                    await self._try(self.sync)
                    if tags_due:
                        await self._try(self.sync_tags)
                    if self.store is not None:
                        # mass sends planned since (plan_mass_send), then what became
                        # of the submitted ones
                        await self._try(self._submit_planned)
                        await self._try(self.check_mass_sends)
                    next_sync = t + self.sync_seconds
                if self.archive is not None and t >= next_archive:
                    await self._try(self.pull_archive)
                    next_archive = t + self.archive_seconds
                wake = min(next_sync, next_archive if self.archive else next_sync)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, wake - loop.time()))
        finally:
            await self._runner.cleanup()
            self._runner = None
            await self.api.transport.aclose()

    async def _try(self, step: Callable[[], Awaitable[int]]) -> None:
        try:
            await step()
        except PlatformError as exc:  # WeCom unreachable or refusing: next round
            log.warning("WeCom %s failed: %s", getattr(step, "__name__", step), exc)

    async def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        """Close the HTTP session of an adapter used only to act (never started)."""
        await self.api.transport.aclose()

    async def deliver(self, msg: dict[str, Any]) -> None:
        """Handle one decrypted callback: fetch what it does not say, translate, deliver."""
        if self._handle is None:
            raise RuntimeError("the WeCom adapter is not started")
        async with self._lock:
            for event in await self.events(msg):
                await self._handle(event, self)
            if msg.get("Event") == "change_external_chat":
                self._confirm_removals([str(msg.get("ChatId"))])
        try:
            await self.tags_changed(msg)
        except PlatformError as exc:  # the next scheduled sync catches up
            log.warning("wecom: tags after a callback not synced: %s", exc)

    async def events(self, msg: dict[str, Any]) -> list[Event]:
        """The callback's events, after fetching the group it is about when needed."""
        try:
            if msg.get("Event") != "change_external_chat":
                return checked(translate_callback(msg))
            chat = str(msg["ChatId"])
            change, detail = msg.get("ChangeType"), msg.get("UpdateDetail")
            before = self.groups.get(chat)
            if change == "dismiss":
                self.groups.pop(chat, None)
                return checked(translate_callback(msg, Facts(None, before)))
            after = before
            if detail != "del_member" or before is None:
                after = group_info(await self.api.group_chat(chat))
            elif before is not None:  # a leave: drop them without asking WeCom
                gone = set(_items(msg))
                after = GroupInfo(before.chat_id, before.name, before.owner,
                                  {u: m for u, m in before.members.items() if u not in gone},
                                  before.admins)  # fmt: skip
            events = translate_callback(msg, Facts(after, before))
            if after is not None:
                self.groups[chat] = after
            return checked(events)
        except (*MALFORMED, OverflowError) as exc:  # as translate_or_skip: skip, say why
            log.warning("wecom: skipped a malformed callback (%s: %s): %.300r",
                        type(exc).__name__, exc, msg)  # fmt: skip
            return []

    async def sync(self) -> int:
        """Fetch every customer group; deliver what changed since the last look."""
        assert self._handle is not None
        n = 0
        chats = await self.api.group_chats()
        for chat in chats:
            detail = group_info(await self.api.group_chat(chat))
            async with self._lock:
                now = self.clock()
                events = checked(
                    sync_events(
                        self.groups.get(chat), detail, now, since=now - self.backfill_seconds
                    )
                )
                for event in events:
                    await self._handle(event, self)
                self.groups[chat] = detail
                n += len(events)
        gone = sorted(set(self.groups) - set(chats))
        for chat in gone:
            self.groups.pop(chat, None)  # dismissed while nobody was listening
        if self.store is not None:
            with self.store.engine.begin() as conn:
                save_groups(conn, self.groups, self.clock(), gone=gone)
        self._confirm_removals(list(self.groups))
        return n

    def _confirm_removals(self, chats: list[str]) -> int:
        """Close the "remove X" tasks of ``chats`` whose X the group no longer lists."""
        if self.store is None:
            return 0
        with self.store.engine.begin() as conn:
            return sum(
                confirm_removals(conn, c, set(self.groups[c].members), self.clock())
                for c in chats
                if c in self.groups
            )

    async def _submit_planned(self) -> int:
        return 0 if self.store is None else await self.submit_mass_sends(self.store, self.clock())

    async def check_mass_sends(self) -> int:
        """Follow submitted mass sends (``get_groupmsg_send_result``); how many were sent."""
        if self.store is None:
            return 0
        return await check_mass_sends(self.store, self.api.groupmsg_send_result, now=self.clock())

    # -- customer tags ---------------------------------------------------------------

    async def sync_tags(self) -> int:
        """Every customer's corporate tags into ``member_tags``; how many customers.

        Needs :attr:`store` (skipped until it is known). A complete listing also drops
        the ``wecom`` tags of customers no staff member follows any more.
        """
        if self.store is None:
            log.info("wecom: customer tags not synced yet: no archive known")
            return 0
        answer = await self.api.corp_tags()
        items = await self.api.contacts_by_users(await self.api.follow_users())
        try:
            self.tag_book = TagBook.parse(answer)
            contacts = follow_info_tags(items, self.tag_book)
        except MALFORMED as exc:
            log.warning("wecom: customer tags not synced: malformed answer (%s: %s)",
                        type(exc).__name__, exc)  # fmt: skip
            return 0
        with self.store.engine.begin() as conn:
            return save_contacts(conn, contacts, now=self.clock())

    async def tags_changed(self, msg: dict[str, Any]) -> int:
        """Follow a callback that changed a customer's tags or the tag dictionary.

        ``change_external_contact`` (a customer added or edited): that customer's tags
        again. ``change_external_tag`` (create / update / delete / shuffle): the
        dictionary again, and rows of renamed or deleted tags brought in line.
        Returns how many customers' tags were written.
        """
        event, change = msg.get("Event"), msg.get("ChangeType")
        if msg.get("MsgType") != "event" or self.store is None:
            return 0
        try:
            if event == "change_external_contact" and change in (
                "add_external_contact",
                "edit_external_contact",
            ):
                uid = str(msg["ExternalUserID"])
                if not uid:
                    raise ValueError("no ExternalUserID")
                tags = contact_tags(await self.api.contact(uid))
                with self.store.engine.begin() as conn:
                    save_contact(conn, uid, tags, now=self.clock())
                return 1
            if event == "change_external_tag":
                if change not in ("create", "update", "delete", "shuffle"):
                    raise ValueError(f"unknown ChangeType {change!r}")
                self.tag_book = TagBook.parse(await self.api.corp_tags())
                if change in ("create", "shuffle"):
                    return 0  # a new tag nobody has yet, or a new order: nothing to write
                with self.store.engine.begin() as conn:
                    return apply_book(conn, self.tag_book, now=self.clock())
        except MALFORMED as exc:
            log.warning("wecom: skipped a malformed tag callback (%s: %s): %.300r",
                        type(exc).__name__, exc, msg)  # fmt: skip
        return 0

    async def pull_archive(self) -> int:
        """Deliver the session-archive records after :attr:`archive_seq`."""
        assert self._handle is not None and self.archive is not None
        n = 0
        records = await self.archive(self.archive_seq)
        for record in records:
            try:
                events = checked(record_events(record))
            except MALFORMED as exc:
                log.warning("wecom: skipped a malformed archive record (%s): %.300r", exc, record)
                events = []
            async with self._lock:
                for event in events:
                    await self._handle(self._named(event), self)
            self.archive_seq = max(self.archive_seq, int(record.get("seq") or 0))
            n += len(events)
        if self.store is not None and records:
            # recalls and the owner's posts: the effect of "recall" / "post" tasks
            with self.store.engine.begin() as conn:
                confirm_from_archive(conn, records)
        return n

    def _named(self, event: Event) -> Event:
        """An archive message with its sender as the group knows them (name, staff).

        Archive records carry ids only; the group's detail has the nickname, and says
        who the owner and the admins are.
        """
        if not isinstance(event, MessagePosted) or event.sender is None:
            return event
        info = self.groups.get(event.group_id)
        uid = event.sender.platform_id
        if info is None or uid not in info.members:
            return event
        known = member_ref(uid, info.members[uid], info)
        sender = MemberRef(
            uid,
            known.name or event.sender.name,
            is_bot=event.sender.is_bot,
            is_operator=known.is_operator or event.sender.is_operator,
        )
        return msgspec.structs.replace(event, sender=sender)

    # -- telling owners --------------------------------------------------------------

    async def owner_of(self, group_id: str) -> str:
        info = self.groups.get(group_id)
        if info is None:
            info = self.groups[group_id] = group_info(await self.api.group_chat(group_id))
        return info.owner

    async def notify_owner(self, group_id: str, text: str) -> tuple[str, str]:
        """Send ``text`` to the group owner as an app message; ``(owner, msgid)``."""
        owner = await self.owner_of(group_id)
        if not owner:
            raise PlatformError(f"WeCom group {group_id} has no owner to tell")
        return owner, await self.api.send_text(self.agent_id, owner, text)

    def member_name(self, group_id: str, member_id: str) -> str:
        info = self.groups.get(group_id)
        m = info.members.get(member_id) if info else None
        name = str((m or {}).get("group_nickname") or (m or {}).get("name") or "")
        return f"{name}（{member_id}）" if name else member_id

    def group_name(self, group_id: str) -> str:
        info = self.groups.get(group_id)
        return info.name if info and info.name else group_id

    async def notify_human_tasks(self, store: Store, now: float) -> int:
        """Tell owners about the open human tasks of WeCom groups (once each)."""
        self.store = self.store or store
        return await notify_human_tasks(
            store, self.notify_owner, now=now, names=self.member_name, group_names=self.group_name
        )

    def plan_mass(self, conn: Connection, group_id: str, text: str, *, now: float, tz: str) -> bool:
        """A mass message (群发) to one customer group becomes an ``add_msg_template`` task
        for its owner to confirm (submitted on the next sync round); False when the group
        had today's one already, or is not known from a sync yet (it waits)."""
        return group_id in plan_mass_send(conn, [group_id], text, now=now, tz=tz).planned

    async def submit_mass_sends(self, store: Store, now: float) -> int:
        """Submit the mass sends :func:`plan_mass_send` planned, as owner-confirmed tasks."""
        return await submit_mass_sends(store, self.api.add_msg_template, now=now)

    async def route_join_way(
        self, store: Store, config_id: str, *, remark: str, state: str, room_base_name: str
    ) -> list[str]:
        """Point the group QR code ``config_id`` at the groups with room; their ids.

        Sizes are the last sync's (``wecom_groups``). With no group left with room, the
        code keeps its groups and WeCom's ``auto_create_room`` opens the next one.
        """
        with store.engine.connect() as conn:
            chosen = next_group_with_room(group_sizes(conn))
        if chosen:
            await self.api.update_join_way(
                config_id, chosen, remark=remark, state=state, room_base_name=room_base_name
            )
        return chosen

    # -- the port: nothing of it works in customer groups ----------------------------

    async def send(self, group_id: str, text: str, *, reply_to: str | None = None) -> str:
        raise Unsupported(_NO_API.format("post"))

    async def delete(self, group_id: str, message_id: str, *, reason: str = "") -> None:
        raise Unsupported(_NO_API.format("recall messages"))

    async def mute(self, group_id: str, member_id: str, seconds: int) -> None:
        raise Unsupported(_NO_API.format("mute"))

    async def kick(
        self, group_id: str, member_id: str, *, ban: bool = False, reason: str = ""
    ) -> None:
        raise Unsupported(_NO_API.format("remove members"))

    async def unban(self, group_id: str, member_id: str) -> None:
        raise Unsupported(_NO_API.format("block or unblock members"))

    async def set_card(self, group_id: str, member_id: str, card: str) -> None:
        raise Unsupported(_NO_API.format("rename members"))

    async def approve_join(
        self, group_id: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        raise Unsupported("WeCom customer groups have no join requests")

    async def fetch_media(self, ref: str, *, max_bytes: int) -> bytes:
        raise Unsupported("WeCom archive media need the finance SDK")


def _items(msg: dict[str, Any]) -> list[str]:
    items = (msg.get("MemChangeList") or {}).get("Item")
    if items is None:
        return []
    return [str(i) for i in (items if isinstance(items, list) else [items])]
