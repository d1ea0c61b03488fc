"""Telegram Bot API: replayed Updates in, exact method calls out, over real HTTP.

A small aiohttp server on 127.0.0.1 stands in for ``api.telegram.org``: it serves
``getUpdates`` from tests/fixtures/telegram_bot/updates.json (sources in its README)
with the Bot API's offset semantics and records every method call with its JSON body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

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
)
from shequn.platforms.port import Adapter, Capability, Platform, PlatformError, Unsupported
from shequn.platforms.telegram import ALLOWED_UPDATES, TelegramAdapter, translate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram_bot"
UPDATES: dict[str, dict[str, Any]] = {
    f["name"]: f["update"]
    for f in json.loads((FIXTURES / "updates.json").read_text(encoding="utf-8"))
}
TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
CHAT = -1001234567890
G = str(CHAT)
USER1 = MemberRef("5068627745", "User1 Last1")
U1 = MemberRef("5068627745", "User1")


def _msg(mid: str, ts: int, sender: MemberRef = U1, **kw: Any) -> MessagePosted:
    return MessagePosted("telegram", G, mid, float(ts), sender, **kw)


EXPECTED: dict[str, list[Event]] = {
    "group_created": [],
    "text_mentions_reply": [
        _msg("31", 1691531800, USER1, text="🎉 @alice and Bob, see https://example.com",
             kind=MessageKind.LINK, reply_to="29",
             mentions=(MemberRef("@alice", "alice"), MemberRef("777000111", "Bob")))
    ],
    "photo_caption": [
        # the largest of the sizes Telegram sends is the one to read QR codes in
        _msg("32", 1691531810, USER1, text="活动海报", kind=MessageKind.IMAGE,
             media=("AgACAgQAAxkBAAMgZ2",))
    ],
    "sticker": [_msg("33", 1691531820, kind=MessageKind.STICKER)],
    "video": [_msg("34", 1691531830, kind=MessageKind.VIDEO)],
    "voice": [_msg("35", 1691531840, kind=MessageKind.VOICE)],
    "document": [_msg("36", 1691531850, kind=MessageKind.FILE, forwarded=True)],
    "contact": [_msg("37", 1691531860, kind=MessageKind.CARD)],
    "location": [_msg("38", 1691531870, kind=MessageKind.LOCATION)],
    "poll": [_msg("39", 1691531880, kind=MessageKind.POLL)],
    "new_members_added_by_admin": [
        MemberJoined("telegram", G, f"join:{G}:999000333:1691531890", 1691531890.0,
                     MemberRef("999000333", "Dave"), inviter=USER1, method=JoinMethod.INVITED)
    ],
    "new_member_self": [
        MemberJoined("telegram", G, f"join:{G}:999000444:1691531900", 1691531900.0,
                     MemberRef("999000444", "Erin"))
    ],
    "left_self": [
        MemberLeft("telegram", G, f"left:{G}:999000444:1691531910", 1691531910.0,
                   MemberRef("999000444", "Erin"))
    ],
    "chat_member_banned_by_admin": [
        MemberLeft("telegram", G, f"left:{G}:999000333:1691531920", 1691531920.0,
                   MemberRef("999000333", "Dave"), removed_by=USER1, kicked=True)
    ],
    "chat_member_joined_via_request": [
        MemberJoined("telegram", G, f"join:{G}:999000555:1691531930", 1691531930.0,
                     MemberRef("999000555", "Frank"), method=JoinMethod.REQUEST)
    ],
    "chat_member_promoted": [],
    "join_request": [
        JoinRequested("telegram", G, "999000666", 1691531950.0, MemberRef("999000666", "Grace"))
    ],
    "forum_topic_message": [_msg("43", 1691531960, text="我报名")],
    # a member's private message to the bot: the private chat's id is the user's id
    "private_text": [
        DirectMessage("telegram", "dm:234140659", "698", 1650205024.0,
                      MemberRef("234140659", "Dmitry"), "test")
    ],
}  # fmt: skip


def test_every_fixture_has_an_expectation() -> None:
    assert set(UPDATES) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_translate(name: str) -> None:
    assert translate(UPDATES[name]) == EXPECTED[name]


def test_adapter_fits_the_port() -> None:
    adapter = TelegramAdapter(TOKEN)
    assert isinstance(adapter, Adapter)
    assert Capability.SET_CARD not in adapter.capabilities
    assert adapter.capabilities == frozenset(Capability) - {Capability.SET_CARD, Capability.ROLE}


# -- the Bot API on loopback -------------------------------------------------------------


class FakeBotApi:
    """getUpdates from fixtures with offset semantics; every call recorded."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        self.updates = sorted(updates, key=lambda u: u["update_id"])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.results: dict[str, Any] = {
            "sendMessage": {"message_id": 4242, "date": 1691532000,
                            "chat": {"id": CHAT, "type": "supergroup", "title": "Shequn Test"},
                            "text": "hi"},
            "getChat": {"id": CHAT, "type": "supergroup", "title": "Shequn Test",
                        "permissions": {"can_send_messages": True, "can_send_photos": True,
                                        "can_send_polls": False, "can_invite_users": True}},
        }  # fmt: skip
        self.errors: dict[str, tuple[int, dict[str, Any]]] = {}

    async def endpoint(self, request: web.Request) -> web.Response:
        assert request.match_info["bot"] == f"bot{TOKEN}"
        method = request.match_info["method"]
        body = await request.json()
        self.calls.append((method, body))
        if method in self.errors:
            status, payload = self.errors[method]
            return web.json_response(payload, status=status)
        if method == "getUpdates":
            # Telegram forgets every update below the offset it is given
            if "offset" in body:
                self.updates = [u for u in self.updates if u["update_id"] >= body["offset"]]
            if not self.updates:
                await asyncio.sleep(0.02)  # a long poll with nothing to say
            return web.json_response({"ok": True, "result": self.updates[:5]})
        return web.json_response({"ok": True, "result": self.results.get(method, True)})

    def polls(self) -> list[dict[str, Any]]:
        return [body for method, body in self.calls if method == "getUpdates"]

    def actions(self) -> list[tuple[str, dict[str, Any]]]:
        return [(m, b) for m, b in self.calls if m != "getUpdates"]


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi(list(UPDATES.values()))
    app = web.Application()
    app.router.add_post("/{bot}/{method}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def _all_expected() -> list[Event]:
    ordered = sorted(UPDATES, key=lambda n: UPDATES[n]["update_id"])
    return [e for name in ordered for e in EXPECTED[name]]


def _members(events: list[Event]) -> list[Event]:
    return [e for e in events if not isinstance(e, GroupSeen)]


async def test_polls_every_fixture_and_acknowledges_only_handled_updates(
    api: tuple[FakeBotApi, str],
) -> None:
    fake, base = api
    adapter = TelegramAdapter(TOKEN, base, poll_timeout=1)
    received: list[Event] = []
    update_of = {e: UPDATES[n]["update_id"] for n, events in EXPECTED.items() for e in events}
    acknowledged_early: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        # while an update is in hand, no poll has yet told Telegram to drop it
        offset = fake.polls()[-1].get("offset") or 0
        if not isinstance(event, GroupSeen) and offset > update_of[event]:
            acknowledged_early.append(event)
        received.append(event)

    task = asyncio.create_task(adapter.start(handle))
    await _until(lambda: len(_members(received)) == len(_all_expected()))
    await adapter.stop()
    await asyncio.wait_for(task, 5)

    assert _members(received) == _all_expected()
    # one GroupSeen, the first time the group shows up, with its title
    assert [e for e in received if isinstance(e, GroupSeen)] == [
        GroupSeen("telegram", G, "Shequn Test", 1691531800.0, "supergroup")
    ]
    polls = fake.polls()
    assert polls[0] == {"timeout": 1, "allowed_updates": ALLOWED_UPDATES}
    last = max(u["update_id"] for u in UPDATES.values())
    assert adapter.offset == last + 1
    assert polls[-1]["offset"] == last + 1
    ids = sorted(u["update_id"] for u in UPDATES.values())
    batches = [ids[i : i + 5] for i in range(0, len(ids), 5)]
    # every poll after the first acknowledges exactly the batch before it
    assert [p["offset"] for p in polls[1 : len(batches) + 1]] == [b[-1] + 1 for b in batches]
    assert acknowledged_early == []


async def test_restart_in_the_middle_repeats_nothing(api: tuple[FakeBotApi, str]) -> None:
    fake, base = api
    first = TelegramAdapter(TOKEN, base, poll_timeout=1)
    seen_first: list[Event] = []

    async def stop_after_three_messages(event: Event, platform: Platform) -> None:
        seen_first.append(event)
        if len([e for e in seen_first if isinstance(e, MessagePosted)]) == 3:
            await first.stop()  # a shutdown half-way through a batch of five

    await asyncio.wait_for(first.start(stop_after_three_messages), 5)
    stored = first.offset
    assert stored == UPDATES["sticker"]["update_id"] + 1  # handled up to the sticker only

    polls_before = len(fake.polls())
    second = TelegramAdapter(TOKEN, base, offset=stored, poll_timeout=1)
    seen_second: list[Event] = []

    async def collect(event: Event, platform: Platform) -> None:
        seen_second.append(event)

    task = asyncio.create_task(second.start(collect))
    await _until(
        lambda: len(_members(seen_first)) + len(_members(seen_second)) >= len(_all_expected())
    )
    await second.stop()
    await asyncio.wait_for(task, 5)
    assert _members(seen_first) + _members(seen_second) == _all_expected()
    # the second adapter's first poll resumes at the stored offset
    assert fake.polls()[polls_before]["offset"] == stored


async def test_a_failing_handler_leaves_its_update_unacknowledged(
    api: tuple[FakeBotApi, str],
) -> None:
    _, base = api
    adapter = TelegramAdapter(TOKEN, base, poll_timeout=1)

    async def crash_on_photo(event: Event, platform: Platform) -> None:
        if isinstance(event, MessagePosted) and event.kind is MessageKind.IMAGE:
            raise RuntimeError("archive unavailable")

    with pytest.raises(RuntimeError, match="archive unavailable"):
        await asyncio.wait_for(adapter.start(crash_on_photo), 5)
    # redelivered to whoever resumes from here: at-least-once
    assert adapter.offset == UPDATES["photo_caption"]["update_id"]


async def test_actions_send_the_exact_methods_and_bodies(api: tuple[FakeBotApi, str]) -> None:
    fake, base = api
    adapter = TelegramAdapter(TOKEN, base, clock=lambda: 1_700_000_000.5)
    assert await adapter.send(G, "欢迎", reply_to="31") == "4242"
    assert await adapter.send(G, "hi") == "4242"
    assert await adapter.send("dm:5068627745", "收到") == "4242"  # a private answer
    await adapter.delete(G, "31")
    await adapter.mute(G, "999000333", 600)
    await adapter.mute(G, "999000333", 0)
    await adapter.mute(G, "999000333", 5)  # under 30 s Telegram would mute for ever
    await adapter.kick(G, "999000333")
    await adapter.kick(G, "999000333", ban=True)
    await adapter.unban(G, "999000333")
    await adapter.approve_join(G, "999000666", True)
    await adapter.approve_join(G, "999000666", False, "no answer")
    with pytest.raises(Unsupported):
        await adapter.set_card(G, "999000333", "x")
    await adapter.aclose()

    user = 999000333
    assert fake.actions() == [
        ("sendMessage", {"chat_id": CHAT, "text": "欢迎",
                         "reply_parameters": {"message_id": 31,
                                              "allow_sending_without_reply": True}}),
        ("sendMessage", {"chat_id": CHAT, "text": "hi"}),
        ("sendMessage", {"chat_id": 5068627745, "text": "收到"}),
        ("deleteMessage", {"chat_id": CHAT, "message_id": 31}),
        ("restrictChatMember", {"chat_id": CHAT, "user_id": user,
                                "permissions": {"can_send_messages": False},
                                "use_independent_chat_permissions": True,
                                "until_date": 1_700_000_600}),
        ("getChat", {"chat_id": CHAT}),
        ("restrictChatMember", {"chat_id": CHAT, "user_id": user,
                                "permissions": {"can_send_messages": True,
                                                "can_send_photos": True,
                                                "can_send_polls": False,
                                                "can_invite_users": True},
                                "use_independent_chat_permissions": True}),
        ("restrictChatMember", {"chat_id": CHAT, "user_id": user,
                                "permissions": {"can_send_messages": False},
                                "use_independent_chat_permissions": True,
                                "until_date": 1_700_000_040}),
        ("banChatMember", {"chat_id": CHAT, "user_id": user}),
        ("unbanChatMember", {"chat_id": CHAT, "user_id": user, "only_if_banned": True}),
        ("banChatMember", {"chat_id": CHAT, "user_id": user}),
        ("unbanChatMember", {"chat_id": CHAT, "user_id": user, "only_if_banned": True}),
        ("approveChatJoinRequest", {"chat_id": CHAT, "user_id": 999000666}),
        ("declineChatJoinRequest", {"chat_id": CHAT, "user_id": 999000666}),
    ]  # fmt: skip


async def test_flood_wait_is_a_platform_error_with_retry_after(
    api: tuple[FakeBotApi, str],
) -> None:
    fake, base = api
    # the documented error shape (ResponseParameters.retry_after)
    fake.errors["sendMessage"] = (429, {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
        "parameters": {"retry_after": 5},
    })  # fmt: skip
    fake.errors["deleteMessage"] = (400, {
        "ok": False, "error_code": 400, "description": "Bad Request: message to delete not found",
    })  # fmt: skip
    adapter = TelegramAdapter(TOKEN, base)
    with pytest.raises(PlatformError) as err:
        await adapter.send(G, "hi")
    assert err.value.retry_after == 5
    with pytest.raises(PlatformError, match="message to delete not found") as err:
        await adapter.delete(G, "1")
    assert err.value.retry_after is None
    await adapter.aclose()


async def test_polling_waits_out_a_flood_wait(api: tuple[FakeBotApi, str]) -> None:
    fake, base = api
    flood = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
             "parameters": {"retry_after": 1}}  # fmt: skip
    fake.errors["getUpdates"] = (429, flood)
    adapter = TelegramAdapter(TOKEN, base, poll_timeout=1, retry_delay=0.01)
    received: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        received.append(event)

    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(adapter.start(handle))
    await _until(lambda: len(fake.polls()) == 1)
    del fake.errors["getUpdates"]
    await _until(lambda: len(_members(received)) == len(_all_expected()))
    waited = loop.time() - started
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    assert waited >= 1.0  # retry_after, not the 0.01 s default
    assert fake.polls()[0] == fake.polls()[1]  # the same poll again: nothing skipped


async def test_errors_never_carry_the_bot_token() -> None:
    """The token is part of every Bot API URL; an error quoting the URL must not leak it."""
    adapter = TelegramAdapter(TOKEN, "http://[::1")  # aiohttp: InvalidUrlClientError(url)
    with pytest.raises(PlatformError) as err:
        await adapter.send(G, "hi")
    assert TOKEN not in str(err.value) and "<token>" in str(err.value)
    await adapter.aclose()
