"""OneBot v11 (QQ): the account's role and mute per group, from events and the API, into the outbox.

A loopback implementation speaks the OneBot v11 WebSocket protocol: it pushes event
frames in the documented shapes (NapCat's ``message_sent`` with ``sender.role``,
``notice.group_admin``, ``notice.group_ban``) and answers action frames, one of them
``get_group_member_info`` for the bot itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from capability_outbox import action, plan_one, tasks, until

from shequn.actions.moderation import carry_out
from shequn.events import Event
from shequn.platforms.onebot import OneBotAdapter, role_rights
from shequn.platforms.port import Capability, Platform, PlatformError, capabilities_of
from shequn.store import Store

SELF, OWNER, SPAMMER = 10001, 2000001, 3000003
ADMIN_G, MEMBER_G, MUTED_G, OWNER_G = 700001, 700002, 700003, 700004
NOW = int(time.time())
TALK = {Capability.SEND, Capability.REPLY, Capability.FETCH_MEDIA}


def sent_by_bot(group: int, role: str) -> dict[str, Any]:
    return {"self_id": SELF, "user_id": SELF, "time": NOW, "message_id": 1401,
            "message_seq": 1401, "real_id": 1401, "message_type": "group",
            "sender": {"user_id": SELF, "nickname": "shequn", "card": "", "role": role},
            "raw_message": "欢迎", "font": 14, "sub_type": "normal",
            "message": [{"type": "text", "data": {"text": "欢迎"}}], "message_format": "array",
            "post_type": "message_sent", "group_id": group}  # fmt: skip


def notice(kind: str, group: int, **kw: Any) -> dict[str, Any]:
    # The time is taken when the frame is built: a mute of ten minutes counts from then
    # (an import-time clock expired when the suite took longer than ten minutes).
    return {"time": int(time.time()), "self_id": SELF, "post_type": "notice", "notice_type": kind,
            "group_id": group, "user_id": SELF, **kw}  # fmt: skip


def said(group: int, text: str) -> dict[str, Any]:
    return {"self_id": SELF, "user_id": SPAMMER, "time": NOW, "message_id": 1500 + group % 100,
            "message_type": "group", "sub_type": "normal", "group_id": group,
            "sender": {"user_id": SPAMMER, "nickname": "spam", "card": "", "role": "member"},
            "raw_message": text, "font": 14, "post_type": "message",
            "message": [{"type": "text", "data": {"text": text}}]}  # fmt: skip


class Implementation:
    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.frames = frames
        self.actions: list[tuple[str, dict[str, Any]]] = []
        self.replies: dict[str, dict[str, Any]] = {}

    async def endpoint(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for frame in self.frames:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
        async for msg in ws:
            frame = json.loads(msg.data)
            self.actions.append((frame["action"], frame["params"]))
            reply: dict[str, Any] = {"status": "ok", "retcode": 0, "data": None}
            if frame["action"] == "get_group_member_info":
                reply["data"] = {"group_id": frame["params"]["group_id"], "user_id": SELF,
                                 "nickname": "shequn", "card": "", "sex": "unknown", "age": 0,
                                 "join_time": NOW - 86400, "last_sent_time": NOW, "level": "1",
                                 "role": "owner", "unfriendly": False, "title": "",
                                 "title_expire_time": 0, "card_changeable": True}  # fmt: skip
            reply.update(self.replies.get(frame["action"], {}))
            await ws.send_str(json.dumps({**reply, "echo": frame["echo"]}))
        return ws


@pytest.fixture
async def impl() -> AsyncIterator[tuple[Implementation, str]]:
    fake = Implementation([
        sent_by_bot(ADMIN_G, "admin"),
        sent_by_bot(MEMBER_G, "admin"),
        notice("group_admin", MEMBER_G, sub_type="unset"),  # the owner took admin away
        notice("group_ban", MUTED_G, sub_type="ban", operator_id=OWNER, duration=600),
        said(OWNER_G, "优惠多多 加微信"),  # a group heard of only now: asked once
    ])  # fmt: skip
    app = web.Application()
    app.router.add_get("/", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"ws://127.0.0.1:{server.port}/"
    finally:
        await server.close()


def test_role_rights() -> None:
    assert role_rights("owner") == role_rights("admin") == frozenset(Capability)
    assert role_rights("member") == TALK


async def test_roles_decide_api_call_or_human_task(
    sqlite_store: Store, impl: tuple[Implementation, str]
) -> None:
    store = sqlite_store
    fake, url = impl
    adapter = OneBotAdapter(url, ask_rights=True, action_timeout=5)
    seen: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        seen.append(event)

    task = asyncio.create_task(adapter.start(handle))
    await until(lambda: len(seen) == 1 and Capability.KICK not in adapter.rights(str(MEMBER_G)))
    await until(lambda: any(a == "get_group_member_info" for a, _ in fake.actions))
    assert fake.actions == [("get_group_member_info",
                             {"group_id": OWNER_G, "user_id": SELF, "no_cache": True})]  # fmt: skip
    await until(lambda: adapter.rights.known(str(OWNER_G)))
    A, M, Q, W = (str(g) for g in (ADMIN_G, MEMBER_G, MUTED_G, OWNER_G))
    assert capabilities_of(adapter, A) == frozenset(Capability) - {Capability.ROLE}
    assert capabilities_of(adapter, M) == TALK
    assert capabilities_of(adapter, W) == frozenset(Capability) - {Capability.ROLE}
    muted = capabilities_of(adapter, Q)  # muted itself: nothing to say for ten minutes
    assert Capability.SEND not in muted and Capability.DELETE in muted
    assert capabilities_of(adapter, "700009") == adapter.capabilities  # never heard of

    fake.actions.clear()
    here = plan_one(store, adapter, A, "kick", NOW, member_id=str(SPAMMER))
    there = plan_one(store, adapter, M, "kick", NOW, member_id=str(SPAMMER))
    warn = plan_one(store, adapter, Q, "send", NOW, text="请勿发广告")
    assert [action(store, a).status for a in (here, there, warn)] == [
        "planned", "human_task", "human_task"]  # fmt: skip
    assert tasks(store) == [(M, "kick"), (Q, "send")]
    assert await carry_out(store, adapter, now=NOW) == 1
    assert fake.actions == [("set_group_kick", {"group_id": ADMIN_G, "user_id": SPAMMER,
                                                "reject_add_request": False})]  # fmt: skip

    # go-cqhttp's answer when the account may not manage the member or the group
    fake.replies["delete_msg"] = {"status": "failed", "retcode": 100, "data": None,
                                  "message": "NOT_MANAGEABLE", "wording": "机器人权限不足"}  # fmt: skip
    unknown = "700009"  # a group whose role was never told
    gone = plan_one(store, adapter, unknown, "delete", NOW, message_id="1504")
    await carry_out(store, adapter, now=NOW)
    assert action(store, gone).status == "planned"
    assert Capability.DELETE not in capabilities_of(adapter, unknown)
    await carry_out(store, adapter, now=NOW + 10)
    assert action(store, gone).status == "human_task"
    # where the account is owner, the refusal is about the member (another admin)
    outranked = plan_one(store, adapter, W, "delete", NOW, message_id="1505")
    await carry_out(store, adapter, now=NOW)
    assert action(store, outranked).status == "planned"
    assert Capability.DELETE in capabilities_of(adapter, W)
    # an ordinary failure teaches nothing
    missing = PlatformError("OneBot delete_msg failed: retcode 100 消息不存在")
    assert adapter.learn_refusal(A, Capability.DELETE, missing) is False
    await adapter.stop()
    await asyncio.wait_for(task, 5)
