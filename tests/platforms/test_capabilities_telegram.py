"""Telegram: the bot's rights per chat, from getChatMember and my_chat_member, into the outbox.

A loopback Bot API serves Updates and answers ``getChatMember`` for the bot with the
``ChatMember`` shapes of the Bot API documentation (ChatMemberAdministrator,
ChatMemberMember); the outbox then sends a delete where the bot is an admin and makes
it a task for a person where it is a plain member.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from capability_outbox import action, plan_one, tasks, until

from shequn.actions.moderation import carry_out
from shequn.events import Event
from shequn.platforms.port import Capability, Platform, capabilities_of
from shequn.platforms.telegram import ALLOWED_UPDATES, TelegramAdapter, rights_of
from shequn.store import Store

TOKEN = "7012345678:AAFakeTokenForCapabilityTests0000000"
BOT = {"id": 7012345678, "is_bot": True, "first_name": "shequn", "username": "shequn_bot"}
OWNER = {"id": 5068627745, "is_bot": False, "first_name": "User1", "language_code": "zh-hans"}
ADMIN_CHAT, MEMBER_CHAT, UNKNOWN_CHAT = -1001111111111, -1002222222222, -1003333333333
T0 = 1_791_000_000.0

#: ChatMemberAdministrator as getChatMember / my_chat_member give it (Bot API 7.x)
ADMIN = {"user": BOT, "status": "administrator", "can_be_edited": False,
         "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
         "can_manage_video_chats": False, "can_restrict_members": True,
         "can_promote_members": False, "can_change_info": False, "can_invite_users": True,
         "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
         "can_pin_messages": True, "can_manage_topics": False}  # fmt: skip
MEMBER = {"user": BOT, "status": "member"}


def chat(cid: int, title: str) -> dict[str, Any]:
    return {"id": cid, "title": title, "type": "supergroup"}


def message(update_id: int, cid: int, mid: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": mid, "from": OWNER, "chat": chat(cid, f"chat {cid}"),
        "date": int(T0) + update_id, "text": text}}  # fmt: skip


def promoted(update_id: int, cid: int, new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": update_id, "my_chat_member": {
        "chat": chat(cid, f"chat {cid}"), "from": OWNER, "date": int(T0) + update_id,
        "old_chat_member": old, "new_chat_member": new}}  # fmt: skip


class BotApi:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.members = {MEMBER_CHAT: MEMBER}  # UNKNOWN_CHAT: getChatMember fails
        self.errors: dict[str, tuple[int, dict[str, Any]]] = {}

    async def endpoint(self, request: web.Request) -> web.Response:
        method, body = request.match_info["method"], await request.json()
        if method == "getUpdates":
            if "offset" in body:
                self.updates = [u for u in self.updates if u["update_id"] >= body["offset"]]
            if not self.updates:
                await asyncio.sleep(0.02)
            return web.json_response({"ok": True, "result": self.updates[:10]})
        self.calls.append((method, body))
        if method in self.errors:
            status, payload = self.errors[method]
            return web.json_response(payload, status=status)
        if method == "getChatMember":
            assert body["user_id"] == BOT["id"]  # the bot asks about itself
            member = self.members.get(body["chat_id"])
            if member is None:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                    status=400,
                )
            return web.json_response({"ok": True, "result": member})
        return web.json_response({"ok": True, "result": True})


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApi, str]]:
    fake = BotApi()
    app = web.Application()
    app.router.add_post("/{bot}/{method}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def poll(adapter: TelegramAdapter, fake: BotApi, updates: list[dict[str, Any]]) -> None:
    """Deliver ``updates`` through a real polling run, then stop."""
    fake.updates = copy.deepcopy(updates)
    last = max(u["update_id"] for u in updates)
    seen: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        seen.append(event)

    task = asyncio.create_task(adapter.start(handle))
    await until(lambda: (adapter.offset or 0) > last)
    await adapter.stop()
    await asyncio.wait_for(task, 5)


def test_rights_of_the_chat_member_shapes() -> None:
    assert rights_of(ADMIN) == frozenset(Capability) - {Capability.SET_CARD, Capability.ROLE}
    assert rights_of(MEMBER) == {Capability.SEND, Capability.REPLY, Capability.FETCH_MEDIA}
    no_delete = {**ADMIN, "can_delete_messages": False, "can_invite_users": False}
    assert Capability.DELETE not in rights_of(no_delete)
    assert Capability.APPROVE_JOIN not in rights_of(no_delete)
    assert Capability.MUTE in rights_of(no_delete)
    silenced = {"user": BOT, "status": "restricted", "is_member": True, "until_date": 0,
                "can_send_messages": False}  # fmt: skip
    assert rights_of(silenced) == {Capability.FETCH_MEDIA}
    assert rights_of({"user": BOT, "status": "creator", "is_anonymous": False}) == rights_of(ADMIN)
    assert rights_of({"user": BOT, "status": "kicked", "until_date": 0}) == {Capability.FETCH_MEDIA}
    assert "my_chat_member" in ALLOWED_UPDATES


async def test_per_chat_rights_decide_api_call_or_human_task(
    store: Store, api: tuple[BotApi, str]
) -> None:
    fake, base = api
    adapter = TelegramAdapter(TOKEN, base, poll_timeout=1, clock=lambda: T0)
    await poll(adapter, fake, [
        promoted(1, ADMIN_CHAT, ADMIN, MEMBER),  # an owner made the bot an admin there
        message(2, MEMBER_CHAT, 40, "hello"),
        message(3, UNKNOWN_CHAT, 50, "hi"),
        message(4, ADMIN_CHAT, 60, "spam"),
    ])  # fmt: skip
    asked = sorted(b["chat_id"] for m, b in fake.calls if m == "getChatMember")
    assert asked == [UNKNOWN_CHAT, MEMBER_CHAT]  # the admin chat was told by my_chat_member
    A, M, U = str(ADMIN_CHAT), str(MEMBER_CHAT), str(UNKNOWN_CHAT)
    assert Capability.DELETE in capabilities_of(adapter, A)
    assert capabilities_of(adapter, M) == {
        Capability.SEND,
        Capability.REPLY,
        Capability.FETCH_MEDIA,
    }
    assert capabilities_of(adapter, U) == adapter.capabilities  # not known: nothing changes

    fake.calls.clear()
    here = plan_one(store, adapter, A, "delete", T0, message_id="60")
    there = plan_one(store, adapter, M, "delete", T0, message_id="40")
    assert action(store, there).status == "human_task"
    assert tasks(store) == [(M, "delete")]
    assert await carry_out(store, adapter, now=T0) == 1
    assert fake.calls == [("deleteMessage", {"chat_id": ADMIN_CHAT, "message_id": 60})]
    assert action(store, here).status == "done"
    await adapter.aclose()


async def test_a_refusal_teaches_the_adapter_and_a_promotion_gives_the_right_back(
    sqlite_store: Store, api: tuple[BotApi, str]
) -> None:
    store = sqlite_store
    fake, base = api
    adapter = TelegramAdapter(TOKEN, base, poll_timeout=1, clock=lambda: T0)
    fake.members[ADMIN_CHAT] = ADMIN
    await poll(adapter, fake, [message(1, ADMIN_CHAT, 70, "spam")])
    A = str(ADMIN_CHAT)
    assert Capability.MUTE in capabilities_of(adapter, A)
    # an admin took can_restrict_members away without Telegram telling the bot
    fake.errors["restrictChatMember"] = (400, {"ok": False, "error_code": 400,
        "description": "Bad Request: not enough rights to restrict/unrestrict chat member"})  # fmt: skip
    first = plan_one(store, adapter, A, "mute", T0, member_id="5068627745", seconds=600)
    assert await carry_out(store, adapter, now=T0) == 0
    row = action(store, first)
    assert (row.status, row.attempts) == ("planned", 1)
    assert "not enough rights" in row.error
    assert Capability.MUTE not in capabilities_of(adapter, A)
    assert Capability.DELETE in capabilities_of(adapter, A)  # only what was refused
    fake.calls.clear()
    await carry_out(store, adapter, now=T0 + 10)  # the retry: a person does it
    assert fake.calls == []
    assert action(store, first).status == "human_task"
    later = plan_one(store, adapter, A, "mute", T0 + 20, member_id="5068627745", seconds=60)
    assert action(store, later).status == "human_task"
    assert tasks(store) == [(A, "mute"), (A, "mute")]
    # the owner gives the right back: Telegram says so with my_chat_member
    await poll(
        adapter, fake, [promoted(2, ADMIN_CHAT, ADMIN, {**ADMIN, "can_restrict_members": False})]
    )
    assert Capability.MUTE in capabilities_of(adapter, A)
    # ... and removes the bot
    await poll(adapter, fake, [promoted(3, ADMIN_CHAT, {"user": BOT, "status": "left"}, ADMIN)])
    assert capabilities_of(adapter, A) == {Capability.FETCH_MEDIA}
    await adapter.aclose()
