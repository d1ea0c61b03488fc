"""Each QQ bot action → the exact OpenAPI calls, against a loopback fake of the API.

The fake answers with the bodies in ``tests/fixtures/qqbot/rest.json`` and records
method, path, JSON body and the auth headers of every request; the access token is
fetched from the same server's ``/app/getAppAccessToken``, so the token flow
(fetch, renew before expiry, renew on 401) runs for real too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shequn.events import Event, MemberJoined, MemberLeft, MemberRef
from shequn.platforms.port import Capability, Platform, PlatformError, Unsupported
from shequn.platforms.qqbot import (
    CHANNEL_CAPABILITIES,
    GROUP_CAPABILITIES,
    WINDOW,
    Forbidden,
    QQBotAdapter,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qqbot"
PAYLOADS: dict[str, dict[str, Any]] = {
    f["name"]: f["payload"]
    for f in json.loads((FIXTURES / "dispatches.json").read_text(encoding="utf-8"))
}
REST: dict[str, Any] = json.loads((FIXTURES / "rest.json").read_text(encoding="utf-8"))
APP_ID, SECRET = "102003004", "naOC0ocQE3shWLAfffVLB1rhYPG7"
GROUP_OPENID = "C9F778FE6ADF9D1D1DBE395BF744A33A"
GROUP = f"group:{GROUP_OPENID}"
CHANNEL = "channel:100010"
CST = timezone(timedelta(hours=8))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeQQApi:
    """The OpenAPI and the token endpoint on loopback; records every request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.auth: list[tuple[str | None, str | None]] = []
        self.token_requests: list[Any] = []
        self.token_ttl = "7200"
        #: (method, path) -> answers to give, first one first (then the normal answer)
        self.errors: dict[tuple[str, str], list[tuple[int, Any, dict[str, str]]]] = {}
        self.ws_url = ""
        self._n = 0

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(await request.json())
        body = dict(REST["token"], access_token=f"token-{len(self.token_requests)}",
                    expires_in=self.token_ttl)  # fmt: skip
        return web.json_response(body)

    async def endpoint(self, request: web.Request) -> web.Response:
        path = request.path_qs
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, path, body))
        self.auth.append(
            (request.headers.get("Authorization"), request.headers.get("X-Union-Appid"))
        )
        queued = self.errors.get((request.method, path))
        if queued:
            status, payload, headers = queued.pop(0)
            return web.json_response(payload, status=status, headers=headers)
        if request.method == "POST" and path.startswith("/v2/groups/"):
            self._n += 1
            return web.json_response(dict(REST["group_message"], id=f"G{self._n}"))
        if request.method == "POST":
            self._n += 1
            return web.json_response(dict(REST["channel_message"], id=f"C{self._n}"))
        if path == "/gateway":
            return web.json_response({"url": self.ws_url})
        if path.startswith("/guilds/") and path.endswith("/channels"):
            return web.json_response(REST["guild_channels"])
        if path.startswith("/channels/") and request.method == "GET":
            return web.json_response(REST["channel"])
        return web.Response(status=204)

    def acts(self) -> list[tuple[str, str, Any]]:
        out = list(self.calls)
        self.calls.clear()
        return out


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeQQApi, str]]:
    fake = FakeQQApi()
    app = web.Application()
    app.router.add_post("/app/getAppAccessToken", fake.token)
    app.router.add_route("*", "/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


def make_adapter(base: str, clock: Clock, **kw: Any) -> QQBotAdapter:
    return QQBotAdapter(SECRET, APP_ID, api_base=base, token_url=f"{base}/app/getAppAccessToken",
                        clock=clock, **kw)  # fmt: skip


def at(ts: float) -> str:
    return datetime.fromtimestamp(ts, CST).isoformat()


def group_message(mid: str, ts: float, text: str = " 你好") -> dict[str, Any]:
    p = copy.deepcopy(PAYLOADS["group_at_message"])
    p["d"].update(id=mid, timestamp=at(ts), content=text)
    return p


def channel_message(mid: str, ts: float, text: str = "你好") -> dict[str, Any]:
    p = copy.deepcopy(PAYLOADS["at_message"])
    p["d"].update(id=mid, timestamp=at(ts), content=text)
    return p


async def received(adapter: QQBotAdapter, *payloads: dict[str, Any]) -> list[Event]:
    got: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        got.append(event)

    for p in payloads:
        await adapter.deliver(p, handle)
    return got


T = 1_790_000_000.0


async def test_the_token_is_fetched_once_and_renewed_in_its_last_minute(
    api: tuple[FakeQQApi, str],
) -> None:
    fake, base = api
    clock = Clock(T)
    adapter = make_adapter(base, clock, active_messages=True)
    await adapter.send(CHANNEL, "一")
    await adapter.send(CHANNEL, "二")
    assert fake.token_requests == [{"appId": APP_ID, "clientSecret": SECRET}]
    assert fake.auth == [("QQBot token-1", APP_ID)] * 2
    clock.now += 7200 - 61  # still more than a minute left: kept
    await adapter.send(CHANNEL, "三")
    clock.now += 2  # inside the last minute: QQ hands out a new one
    await adapter.send(CHANNEL, "四")
    assert len(fake.token_requests) == 2
    assert fake.auth[-2:] == [("QQBot token-1", APP_ID), ("QQBot token-2", APP_ID)]
    # revoked early: the 401 makes it fetch a new one and try once more
    fake.errors[("POST", "/channels/100010/messages")] = [(401, {"code": 11243}, {})]
    await adapter.send(CHANNEL, "五")
    assert fake.auth[-2:] == [("QQBot token-2", APP_ID), ("QQBot token-3", APP_ID)]
    await adapter.aclose()


async def test_a_refused_secret_is_a_permission_error(api: tuple[FakeQQApi, str]) -> None:
    fake, base = api
    adapter = make_adapter(base, Clock(T), active_messages=True)
    adapter.transport.token_url = f"{base}/refuse"  # type: ignore[attr-defined]
    fake.errors[("POST", "/refuse")] = [(200, REST["token_refused"], {})]
    with pytest.raises(Forbidden, match="access token refused"):
        await adapter.send(CHANNEL, "x")
    await adapter.aclose()


async def test_group_replies_carry_msg_id_and_msg_seq_within_the_window(
    api: tuple[FakeQQApi, str],
) -> None:
    fake, base = api
    clock = Clock(T + 10)
    adapter = make_adapter(base, clock)
    [ev] = await received(adapter, group_message("M1", T))
    path = f"/v2/groups/{GROUP_OPENID}/messages"
    assert await adapter.send(GROUP, "收到", reply_to=ev.message_id) == "G1"  # type: ignore[union-attr]
    for n in range(2, 6):  # a post without reply_to answers the newest message
        await adapter.send(GROUP, f"第{n}条")
    assert fake.acts() == [
        ("POST", path, {"content": "收到", "msg_type": 0, "msg_id": "M1", "msg_seq": 1}),
        *[("POST", path, {"content": f"第{n}条", "msg_type": 0, "msg_id": "M1", "msg_seq": n})
          for n in range(2, 6)],
    ]  # fmt: skip
    # QQ allows five answers per message: the sixth is for a person
    with pytest.raises(Unsupported, match="passive-reply window"):
        await adapter.send(GROUP, "第6条")
    # a newer message opens a new window; the old one has closed by then
    clock.now = T + 200
    await received(adapter, group_message("M2", T + 190))
    await adapter.send(GROUP, "新的", reply_to="M1")  # M1 is spent: M2 is answered
    clock.now = T + 190 + WINDOW + 1
    with pytest.raises(Unsupported):
        await adapter.send(GROUP, "太晚了")
    assert fake.acts() == [
        ("POST", path, {"content": "新的", "msg_type": 0, "msg_id": "M2", "msg_seq": 1})
    ]
    await adapter.aclose()


async def test_channel_posts_reply_passively_and_actively_only_when_allowed(
    api: tuple[FakeQQApi, str],
) -> None:
    fake, base = api
    clock = Clock(T + 5)
    adapter = make_adapter(base, clock)
    await received(adapter, channel_message("0812a", T))
    await adapter.send(CHANNEL, "欢迎")
    clock.now = T + WINDOW + 1
    with pytest.raises(Unsupported, match="active messages are off"):
        await adapter.send(CHANNEL, "提醒")
    active = make_adapter(base, clock, active_messages=True)
    await active.send(CHANNEL, "提醒")
    assert fake.acts() == [
        ("POST", "/channels/100010/messages", {"content": "欢迎", "msg_id": "0812a"}),
        ("POST", "/channels/100010/messages", {"content": "提醒"}),
    ]
    await adapter.aclose()
    await active.aclose()


async def test_channel_moderation_recalls_mutes_and_removes(api: tuple[FakeQQApi, str]) -> None:
    fake, base = api
    adapter = make_adapter(base, Clock(T))
    await adapter.delete(CHANNEL, "0812345677890abcdef")
    await adapter.mute(CHANNEL, "1234", 3600)  # the channel's guild is asked for once
    await adapter.mute(CHANNEL, "1234", 0)
    await adapter.kick(CHANNEL, "1234")
    await adapter.kick(CHANNEL, "1234", ban=True)
    member = "/guilds/18700000000001/members/1234"
    assert fake.acts() == [
        ("DELETE", "/channels/100010/messages/0812345677890abcdef", None),
        ("GET", "/channels/100010", None),
        ("PATCH", f"{member}/mute", {"mute_seconds": "3600"}),
        ("PATCH", f"{member}/mute", {"mute_seconds": "0"}),
        ("DELETE", member, {"add_blacklist": False, "delete_history_msg_days": 0}),
        ("DELETE", member, {"add_blacklist": True, "delete_history_msg_days": 0}),
    ]
    for call in (adapter.unban(CHANNEL, "1234"), adapter.set_card(CHANNEL, "1234", "x")):
        with pytest.raises(Unsupported):
            await call
    await adapter.aclose()


async def test_a_qq_group_cannot_be_moderated_by_api(api: tuple[FakeQQApi, str]) -> None:
    fake, base = api
    adapter = make_adapter(base, Clock(T))
    for call in (
        adapter.delete(GROUP, "M1"),
        adapter.mute(GROUP, "E4F4AEA33253A2797FB897C50B81D7ED", 60),
        adapter.kick(GROUP, "E4F4AEA33253A2797FB897C50B81D7ED"),
    ):
        with pytest.raises(Unsupported, match="QQ groups have no bot API"):
            await call
    assert fake.acts() == []
    assert adapter.capabilities_for(GROUP) == GROUP_CAPABILITIES
    assert adapter.capabilities_for(CHANNEL) == CHANNEL_CAPABILITIES
    assert Capability.DELETE not in GROUP_CAPABILITIES
    assert {Capability.DELETE, Capability.MUTE, Capability.KICK} <= adapter.capabilities
    with pytest.raises(ValueError):
        adapter.capabilities_for("100010")  # a bare id says nothing about the kind
    await adapter.aclose()


@pytest.mark.parametrize(
    ("answer", "error", "match", "retry"),
    [
        ((429, {"message": "too many"}, {"Retry-After": "3"}), PlatformError, "rate limit", 3.0),
        ((400, REST["rate_limited"], {}), PlatformError, "22009", 1.0),
        ((403, REST["not_admin"], {}), Forbidden, "禁言.*must be an admin", None),
        ((400, REST["expired"], {}), Unsupported, "no longer be answered", None),
        ((500, {"code": 304016, "message": "send error"}, {}), PlatformError, "500 304016", None),
    ],
)
async def test_api_errors_become_platform_errors(
    api: tuple[FakeQQApi, str],
    answer: tuple[int, Any, dict[str, str]],
    error: type[Exception],
    match: str,
    retry: float | None,
) -> None:
    fake, base = api
    adapter = make_adapter(base, Clock(T))
    fake.errors[("PATCH", "/guilds/18700000000001/members/1234/mute")] = [answer]
    adapter.routes.channel_guild["100010"] = "18700000000001"
    with pytest.raises(error, match=match) as info:
        await adapter.mute(CHANNEL, "1234", 60)
    assert getattr(info.value, "retry_after", None) == retry
    await adapter.aclose()


async def test_an_audited_reply_counts_as_sent_and_a_refused_push_is_a_human_task(
    api: tuple[FakeQQApi, str],
) -> None:
    fake, base = api
    adapter = make_adapter(base, Clock(T), active_messages=True)
    fake.errors[("POST", "/channels/100010/messages")] = [(202, REST["audit_pending"], {})]
    assert await adapter.send(CHANNEL, "待审核") == ""
    fake.errors[("POST", f"/v2/groups/{GROUP_OPENID}/messages")] = [
        (400, REST["active_refused"], {})
    ]
    with pytest.raises(Unsupported, match="active message"):
        await adapter.send(GROUP, "群发")
    await adapter.aclose()


async def test_guild_joins_and_leaves_go_to_the_guild_home_channel(
    api: tuple[FakeQQApi, str],
) -> None:
    fake, base = api
    clock = Clock(T)
    adapter = make_adapter(base, clock)
    joined, kicked, left = await received(
        adapter,
        PAYLOADS["guild_member_add"],
        PAYLOADS["guild_member_remove"],
        PAYLOADS["guild_member_remove_self"],
    )
    # the guild's first text channel by position: 大厅 (the voice channel is not one)
    assert fake.acts() == [("GET", "/guilds/200000000/channels", None)]
    home = "channel:200000101"
    bot = MemberRef("8834102668809967837", "b站机器人", is_bot=True)
    ts = datetime(2021, 10, 21, 3, 20, 18, tzinfo=UTC).timestamp()
    assert joined == MemberJoined("qqbot", home, f"200000000:{bot.platform_id}:{int(ts)}", ts, bot)
    assert kicked == MemberLeft("qqbot", home, f"200000000:{bot.platform_id}:{int(T)}", T, bot,
                                removed_by=MemberRef("100000000"), kicked=True)  # fmt: skip
    assert left == MemberLeft("qqbot", home, f"200000000:9000000001:{int(T)}", T,
                              MemberRef("9000000001", "阿明"))  # fmt: skip
    # a configured home channel wins, and no lookup is made
    configured = make_adapter(base, clock, home_channels={"200000000": "200000100"})
    [ev] = await received(configured, PAYLOADS["guild_member_add"])
    assert ev.group_id == "channel:200000100" and fake.acts() == []  # type: ignore[union-attr]
    await adapter.aclose()
    await configured.aclose()


async def test_the_bot_command_builds_the_adapter_from_the_config() -> None:
    from shequn.botconfig import AccountConfig
    from shequn.commands.bot import build_adapter

    account = AccountConfig(platform="qqbot", token=SECRET,
                            options={"app_id": APP_ID, "mode": "websocket", "sandbox": True})  # fmt: skip
    adapter = build_adapter(account)
    assert isinstance(adapter, QQBotAdapter) and adapter.name == "qqbot"
    assert adapter.mode == "websocket" and adapter.app_id == APP_ID
    assert adapter.transport.api_base == "https://sandbox.api.sgroup.qq.com"  # type: ignore[attr-defined]
    await adapter.aclose()
