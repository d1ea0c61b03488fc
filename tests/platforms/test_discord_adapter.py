"""Discord: replayed gateway frames in, exact REST calls out, over real HTTP.

Frames come from tests/fixtures/discord/gateway.json and REST bodies from rest.json
(sources in the folder's README). A small aiohttp server on 127.0.0.1 plays
``discord.com/api/v10``: it records every request's method, path, audit-log reason
and JSON body and answers with queued or default responses. The gateway side is the
adapter's own seam: a stand-in that hands frames to ``receive`` exactly as the
discord.py client's ``on_socket_raw_receive`` does (as JSON text).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shequn.botconfig import parse_config
from shequn.commands.bot import build_adapter
from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.platforms.discord import SLASH_COMMANDS, DiscordAdapter, GatewayState, translate
from shequn.platforms.discord.adapter import INTENTS, MAX_TIMEOUT_SECONDS
from shequn.platforms.discord.invites import InviteTracker
from shequn.platforms.discord.state import snowflake_time
from shequn.platforms.port import (
    Adapter,
    Capability,
    Platform,
    PlatformError,
    Unsupported,
    call_key,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
FRAMES: dict[str, dict[str, Any]] = {
    f["name"]: f["frame"]
    for f in json.loads((FIXTURES / "gateway.json").read_text(encoding="utf-8"))
}
REST: dict[str, Any] = json.loads((FIXTURES / "rest.json").read_text(encoding="utf-8"))
TOKEN = "MTAxNjcxMjA1NDQyNDQyNDQ0OA.GhB9x1.fake-token-for-tests"
T0 = 1_790_000_000.0
NOW = T0 + 900
EPOCH_MS = 1_420_070_400_000

GUILD = "197038439483310086"
GENERAL, WELCOME, NEWS, FORUM = (
    "41771983423143937",
    "1016781634200866817",
    "278325129692446722",
    "1016781634200866816",
)
THREAD = "1016791134200866818"
POST = "1551599298150400000"
FAN_ROLE = "1016700371520000002"
MASON = MemberRef("53908099506183680", "Mason")
ALICE = MemberRef("1016745541297135636", "小梅")
MOD = MemberRef("80351110224678912", "Nelly", is_operator=True)
NEWBIE_ID = "1016800123456789012"
NEWBIE = MemberRef(NEWBIE_ID, "newbie")


def sf(t: float, n: int = 0) -> str:
    return str((int(t * 1000) - EPOCH_MS) << 22 | n)


def _msg(group: str, mid: str, ts: float, sender: MemberRef, text: str = "", **kw: Any) -> Event:
    return MessagePosted("discord", group, mid, ts, sender, text, **kw)


def _seen(cid: str, name: str, kind: str) -> Event:
    return GroupSeen("discord", cid, f"Discord Testers #{name}", None, kind)


EXPECTED: dict[str, list[Event]] = {
    "ready": [],
    "guild_create": [
        _seen(GENERAL, "general", "text"),
        _seen(WELCOME, "welcome", "text"),
        _seen(NEWS, "big-news", "announcement"),
        _seen(FORUM, "help", "forum"),
        _seen("1016781634200866820", "Lounge", "voice"),
    ],
    "message_text": [_msg(GENERAL, "334385199974967042", 1499794027.299, MASON, "Supa Hot")],
    "message_reply_mentions": [
        _msg(GENERAL, sf(T0 + 10), T0 + 10, ALICE,
             f"<@{MASON.platform_id}> <@&{FAN_ROLE}> @everyone 今晚八点直播，记得来",
             reply_to="334385199974967042",
             mentions=(MemberRef(MASON.platform_id, "石匠"), MemberRef("@everyone", "everyone"),
                       MemberRef(f"&{FAN_ROLE}", "粉丝")))
    ],
    "message_image": [
        _msg(GENERAL, sf(T0 + 20), T0 + 20, ALICE, kind=MessageKind.IMAGE,
             media=("https://cdn.discordapp.com/attachments/41771983423143937/1/poster.png",))
    ],
    "message_voice": [_msg(GENERAL, sf(T0 + 30), T0 + 30, ALICE, kind=MessageKind.VOICE)],
    "message_video": [_msg(GENERAL, sf(T0 + 40), T0 + 40, MASON, "看这个", kind=MessageKind.VIDEO)],
    "message_file": [_msg(GENERAL, sf(T0 + 50), T0 + 50, MASON, "课件", kind=MessageKind.FILE)],
    "message_sticker": [_msg(GENERAL, sf(T0 + 60), T0 + 60, MASON, kind=MessageKind.STICKER)],
    "message_link": [
        _msg(GENERAL, sf(T0 + 70), T0 + 70, MASON, "报名 https://example.com/signup",
             kind=MessageKind.LINK)
    ],
    "message_poll": [_msg(GENERAL, sf(T0 + 80), T0 + 80, MASON, kind=MessageKind.POLL)],
    "message_forward": [
        _msg(GENERAL, sf(T0 + 90), T0 + 90, ALICE, "别的群的通知：明天停课", forwarded=True)
    ],
    "message_in_thread": [
        _msg(GENERAL, f"{THREAD}/{sf(T0 + 100)}", T0 + 100, MASON, "同意楼上")
    ],
    "message_from_moderator": [_msg(GENERAL, sf(T0 + 110), T0 + 110, MOD, "请大家遵守群规")],
    "message_from_owner": [
        _msg(GENERAL, sf(T0 + 115), T0 + 115,
             MemberRef("73193882359173120", "Boss", is_operator=True), "欢迎新朋友")
    ],
    "message_webhook": [
        _msg(GENERAL, sf(T0 + 120), T0 + 120, MemberRef("223704706495545344", "GitHub", is_bot=True),
             "[shequn] 1 new commit")
    ],
    "message_user_join": [],
    # a DM to the bot: a member's private message (appeals), no guild
    "message_dm": [
        DirectMessage("discord", "dm:1016745541297135636", "1551597746257920000", T0 + 130,
                      MemberRef("1016745541297135636", "Alice"), "hi bot")
    ],
    "message_update_edit": [
        _msg(GENERAL, sf(T0 + 10), T0 + 140, ALICE, "今晚九点直播，记得来", edited=True)
    ],
    "message_update_unfurl": [],
    "thread_create_forum_post": [],
    "message_forum_post": [_msg(FORUM, f"{POST}/{POST}", T0 + 500, ALICE, "怎么报名?")],
    "reaction_unicode": [
        ReactionAdded("discord", GENERAL, "334385199974967042", "🔥", member=ALICE)
    ],
    "reaction_custom_in_thread": [
        ReactionAdded("discord", GENERAL, f"{THREAD}/{sf(T0 + 100)}",
                      "<a:LUL:41771983429993937>", member=MOD)
    ],
    "member_add": [
        MemberJoined("discord", WELCOME, f"{GUILD}:{NEWBIE_ID}:{int(T0) + 600}", T0 + 600, NEWBIE)
    ],
    "member_update_nick": [
        MemberRenamed("discord", WELCOME, f"{GUILD}:{NEWBIE_ID}:{int(NOW * 1000)}", NOW,
                      MemberRef(NEWBIE_ID, "新人小王"), "newbie", "新人小王")
    ],
    "member_update_roles": [],
    "member_remove": [
        MemberLeft("discord", WELCOME, f"{GUILD}:{NEWBIE_ID}:{int(NOW)}", NOW,
                   MemberRef(NEWBIE_ID, "新人小王"))
    ],
    "channel_create": [_seen("1016781634200866830", "打卡", "text")],
    "invite_create": [],
    "interaction_checkin": [_msg(GENERAL, sf(T0 + 800), T0 + 800, ALICE, "/checkin")],
    "interaction_ask": [_msg(GENERAL, sf(T0 + 810), T0 + 810, ALICE, "周末活动几点开始？")],
    "interaction_other_command": [],
    "heartbeat_ack": [],
}  # fmt: skip


def test_every_fixture_has_an_expectation() -> None:
    assert list(FRAMES) == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_translate(name: str) -> None:
    """Each frame after replaying all before it: the state carries guilds, threads, names."""
    state = GatewayState()
    names = list(FRAMES)
    for before in names[: names.index(name)]:
        translate(FRAMES[before], state, now=NOW)
    assert translate(FRAMES[name], state, now=NOW) == EXPECTED[name]


def test_a_configured_home_channel_takes_the_guilds_joins() -> None:
    state = GatewayState(home_channels={GUILD: GENERAL})
    translate(FRAMES["guild_create"], state, now=NOW)
    (joined,) = translate(FRAMES["member_add"], state, now=NOW)
    assert joined.group_id == GENERAL


def test_a_guild_without_a_system_channel_uses_its_first_text_channel() -> None:
    state = GatewayState()
    frame = json.loads(json.dumps(FRAMES["guild_create"]))
    frame["d"]["system_channel_id"] = None
    translate(frame, state, now=NOW)
    assert state.home_of(GUILD) == WELCOME  # position 1 before general's 6


def test_snowflake_time() -> None:
    # the documented example: 175928847299117063 was made at 2016-04-30 11:18:25.796 UTC
    assert snowflake_time("175928847299117063") == 1462015105.796


def test_invite_tracker_finds_the_one_invite_that_was_used() -> None:
    tracker = InviteTracker()
    start = REST["invites_at_start"]
    tracker.seen(GUILD, start)
    grown = [{**start[0], "uses": 4}, start[1]]
    assert tracker.used(GUILD, grown) == grown[0]
    # the single-use invite is deleted by Discord when it is used: gone means used
    tracker.deleted({"guild_id": GUILD, "code": "onceOnly"})
    assert tracker.used(GUILD, grown[:1])["code"] == "onceOnly"  # type: ignore[index]
    assert tracker.used(GUILD, grown[:1]) is None  # nothing changed since
    both = [{**start[0], "uses": 5}, {**start[1], "code": "x", "uses": 1}]
    tracker.seen(GUILD, [start[0], {**start[1], "code": "x", "uses": 0}])
    assert tracker.used(GUILD, both) is None  # two joins at once: nobody is credited


def test_the_bot_command_builds_it_from_the_config() -> None:
    config = parse_config(
        {"accounts": {"discord": {"token_env": "DISCORD_TOKEN", "home_channels": {GUILD: GENERAL},
                                  "check_audit_log": False}}},
        env={"DISCORD_TOKEN": TOKEN},
    )  # fmt: skip
    adapter = build_adapter(config.accounts["discord"])
    assert isinstance(adapter, DiscordAdapter)
    assert (adapter.token, adapter.state.home_channels) == (TOKEN, {GUILD: GENERAL})
    assert adapter.check_audit_log is False


def test_adapter_fits_the_port() -> None:
    adapter = DiscordAdapter(TOKEN)
    assert isinstance(adapter, Adapter)
    assert adapter.capabilities == frozenset(Capability) - {Capability.APPROVE_JOIN}
    assert INTENTS == 38471  # documented in docs/platforms/discord.md


# -- discord.com/api/v10 on loopback -----------------------------------------------------


@dataclass
class FakeDiscordApi:
    """Records requests; answers from queues per (method, path), else a default."""

    calls: list[tuple[str, str, str | None, Any]] = field(default_factory=list)
    queued: dict[tuple[str, str], list[tuple[int, Any]]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    delay: float = 0.0
    _next: int = 0

    def answer(self, method: str, path: str, *responses: tuple[int, Any]) -> None:
        self.queued.setdefault((method, path), []).extend(responses)

    async def endpoint(self, request: web.Request) -> web.Response:
        self.tokens.add(request.headers.get("Authorization", ""))
        path = request.path_qs.removeprefix("/api/v10")
        body = await request.json() if request.can_read_body else None
        reason = request.headers.get("X-Audit-Log-Reason")
        self.calls.append((request.method, path, unquote(reason) if reason else None, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.queued.get((request.method, path))
        if queue:
            status, payload = queue.pop(0)
            return web.json_response(payload, status=status)
        if request.method == "POST" and path.endswith("/messages"):
            self._next += 1
            channel = path.split("/")[2]
            return web.json_response({"id": f"99000{self._next}", "channel_id": channel,
                                      "content": body["content"], "type": 0})  # fmt: skip
        if request.method == "GET" and path.endswith(("/invites", "/commands")):
            return web.json_response([])
        if request.method == "GET":
            return web.json_response(REST["audit_log_empty"])
        return web.Response(status=204)

    def acts(self) -> list[tuple[str, str, str | None, Any]]:
        return [c for c in self.calls if c[0] != "GET"]


@pytest.fixture
async def api() -> AsyncIterator[tuple[FakeDiscordApi, str]]:
    fake = FakeDiscordApi()
    app = web.Application()
    app.router.add_route("*", "/api/v10/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}/api/v10"
    finally:
        await server.close()


def replaying(*names: str, extra: list[dict[str, Any]] | None = None) -> Any:
    """A gateway stand-in: hands the frames over as JSON text, then waits for stop."""

    async def gateway(token: str, receive: Callable[[Any], None], stopping: asyncio.Event) -> None:
        assert token == TOKEN
        for name in names:
            receive(json.dumps(FRAMES[name], ensure_ascii=False))
        for frame in extra or []:
            receive(json.dumps(frame, ensure_ascii=False))
        await stopping.wait()

    return gateway


async def _until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


async def _run(adapter: DiscordAdapter, until: Callable[[list[Event]], bool]) -> list[Event]:
    received: list[Event] = []

    async def handle(event: Event, platform: Platform) -> None:
        received.append(event)

    task = asyncio.create_task(adapter.start(handle))
    await _until(lambda: until(received))
    await adapter.stop()
    await asyncio.wait_for(task, 5)
    return received


async def test_the_adapter_delivers_every_fixture_in_order(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    expected = [e for events in EXPECTED.values() for e in events]
    adapter = DiscordAdapter(TOKEN, base, gateway=replaying(*FRAMES), clock=lambda: NOW)
    received = await _run(adapter, lambda got: len(got) >= len(expected))
    assert received == expected
    # slash commands made at READY; the invites read at the start and at the join; the
    # audit log at the leave; each of our slash commands answered
    app = FRAMES["ready"]["d"]["application"]["id"]
    interactions = [FRAMES[n]["d"] for n in ("interaction_checkin", "interaction_ask")]
    assert [(m, p) for m, p, _, _ in fake.calls] == [
        ("GET", f"/applications/{app}/commands"),
        ("PUT", f"/applications/{app}/commands"),
        ("GET", f"/guilds/{GUILD}/invites"),
        ("GET", f"/guilds/{GUILD}/invites"),
        ("GET", f"/guilds/{GUILD}/audit-logs?action_type=20&limit=10"),
        ("GET", f"/guilds/{GUILD}/audit-logs?action_type=22&limit=10"),
        *[("POST", f"/interactions/{d['id']}/{d['token']}/callback") for d in interactions],
    ]
    assert fake.calls[1][3] == SLASH_COMMANDS
    assert fake.calls[-1][3] == {"type": 4, "data": {"content": "✓", "flags": 64}}
    assert fake.tokens == {f"Bot {TOKEN}"}


async def test_slash_commands_already_there_are_left_alone(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    app = FRAMES["ready"]["d"]["application"]["id"]
    have = [{**c, "id": str(900 + i), "application_id": app, "version": "1"}
            for i, c in enumerate(SLASH_COMMANDS)]  # fmt: skip
    fake.answer("GET", f"/applications/{app}/commands", (200, have))
    adapter = DiscordAdapter(TOKEN, base, track_invites=False,
                             gateway=replaying("ready", "guild_create", "interaction_checkin"))  # fmt: skip
    await _run(adapter, lambda got: any(isinstance(e, MessagePosted) for e in got))
    assert [m for m, _, _, _ in fake.calls] == ["GET", "POST"]  # no PUT


async def test_a_join_names_the_invite_and_its_creator(api: tuple[FakeDiscordApi, str]) -> None:
    fake, base = api
    start = REST["invites_at_start"]
    invites = f"/guilds/{GUILD}/invites"
    fake.answer("GET", invites, (200, start), (200, [{**start[0], "uses": 4}, start[1]]),
                (200, [{**start[0], "uses": 4}]), (200, [{**start[0], "uses": 4}]))  # fmt: skip
    second = json.loads(json.dumps(FRAMES["member_add"]))
    second["d"]["user"] = {"id": "1016800123456789013", "username": "second", "discriminator": "0"}
    third = json.loads(json.dumps(second))
    third["d"]["user"] = {"id": "1016800123456789014", "username": "third", "discriminator": "0"}
    deleted = {"op": 0, "t": "INVITE_DELETE", "s": 99,
               "d": {"channel_id": WELCOME, "guild_id": GUILD, "code": "onceOnly"}}  # fmt: skip
    adapter = DiscordAdapter(
        TOKEN, base, clock=lambda: NOW,
        gateway=replaying("ready", "guild_create", "member_add", extra=[deleted, second, third]),
    )  # fmt: skip
    got = await _run(adapter, lambda got: sum(isinstance(e, MemberJoined) for e in got) == 3)
    joins = [e for e in got if isinstance(e, MemberJoined)]
    assert [(e.member.name, e.method, e.inviter) for e in joins] == [
        ("newbie", JoinMethod.INVITED, MemberRef("53908099506183680", "Mason")),
        ("second", JoinMethod.INVITED, MemberRef("80351110224678912", "Nelly")),  # single-use
        ("third", JoinMethod.UNKNOWN, None),  # no count moved: the bot cannot tell
    ]


async def test_without_manage_guild_joins_have_no_inviter_and_it_asks_once(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    fake.answer("GET", f"/guilds/{GUILD}/invites", (403, REST["missing_permissions"]))
    adapter = DiscordAdapter(
        TOKEN, base, clock=lambda: NOW,
        gateway=replaying("ready", "guild_create", "member_add", "member_remove"),
    )  # fmt: skip
    got = await _run(adapter, lambda got: any(isinstance(e, MemberLeft) for e in got))
    assert [e for e in got if isinstance(e, MemberJoined)] == EXPECTED["member_add"]
    assert [p for _, p, _, _ in fake.calls].count(f"/guilds/{GUILD}/invites") == 1


async def test_a_kick_in_the_audit_log_makes_the_leave_a_kick(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    fake.answer("GET", f"/guilds/{GUILD}/audit-logs?action_type=20&limit=10",
                (200, REST["audit_log_kick"]))  # fmt: skip
    adapter = DiscordAdapter(
        TOKEN, base, clock=lambda: NOW, track_invites=False,
        gateway=replaying("ready", "guild_create", "member_add", "member_remove"),
    )  # fmt: skip
    got = await _run(adapter, lambda got: any(isinstance(e, MemberLeft) for e in got))
    entry = REST["audit_log_kick"]["audit_log_entries"][1]
    assert got[-1] == MemberLeft(
        "discord", WELCOME, f"{GUILD}:{NEWBIE_ID}:{entry['id']}", T0 + 899, NEWBIE,
        removed_by=MemberRef("80351110224678912"), kicked=True,
    )  # fmt: skip


async def test_an_old_kick_in_the_audit_log_is_not_this_leave(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    fake.answer("GET", f"/guilds/{GUILD}/audit-logs?action_type=20&limit=10",
                (200, REST["audit_log_kick"]))  # fmt: skip
    adapter = DiscordAdapter(
        TOKEN, base, clock=lambda: NOW + 3600, track_invites=False,
        gateway=replaying("ready", "guild_create", "member_remove"),
    )  # fmt: skip
    got = await _run(adapter, lambda got: any(isinstance(e, MemberLeft) for e in got))
    assert got[-1].kicked is False  # type: ignore[union-attr]


async def test_a_message_in_an_unknown_thread_asks_for_the_thread(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    thread = REST["thread_channel"]
    fake.answer("GET", f"/channels/{thread['id']}", (200, thread))
    frame = json.loads(json.dumps(FRAMES["message_video"]))
    frame["d"]["channel_id"] = thread["id"]
    adapter = DiscordAdapter(TOKEN, base, track_invites=False,
                             gateway=replaying("ready", "guild_create", extra=[frame]))  # fmt: skip
    got = await _run(adapter, lambda got: any(isinstance(e, MessagePosted) for e in got))
    assert (got[-1].group_id, got[-1].message_id) == (NEWS, f"{thread['id']}/{sf(T0 + 40)}")  # type: ignore[union-attr]


async def test_a_failing_handler_stops_the_adapter_and_its_frame_comes_first_again(
    api: tuple[FakeDiscordApi, str],
) -> None:
    _, base = api
    pushed = 0

    async def once(token: str, receive: Callable[[Any], None], stopping: asyncio.Event) -> None:
        nonlocal pushed  # the gateway sends each dispatch once, even across restarts
        if not pushed:
            for name in ("ready", "guild_create", "message_image", "message_voice"):
                receive(json.dumps(FRAMES[name]))
            pushed = 1
        await stopping.wait()

    adapter = DiscordAdapter(TOKEN, base, track_invites=False, slash_commands=False, gateway=once)

    async def crash_on_image(event: Event, platform: Platform) -> None:
        if isinstance(event, MessagePosted) and event.kind is MessageKind.IMAGE:
            raise RuntimeError("archive unavailable")

    with pytest.raises(RuntimeError, match="archive unavailable"):
        await asyncio.wait_for(adapter.start(crash_on_image), 5)
    got = await _run(adapter, lambda got: len(got) == 2)
    assert got == EXPECTED["message_image"] + EXPECTED["message_voice"]


async def test_a_rate_limited_invite_read_misses_one_join_only(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    start = REST["invites_at_start"]
    fake.answer("GET", f"/guilds/{GUILD}/invites", (200, start), (429, REST["rate_limited"]),
                (200, [{**start[0], "uses": 5}, start[1]]))  # fmt: skip
    second = json.loads(json.dumps(FRAMES["member_add"]))
    second["d"]["user"] = {"id": "1016800123456789013", "username": "second", "discriminator": "0"}
    adapter = DiscordAdapter(
        TOKEN, base, clock=lambda: NOW, slash_commands=False,
        gateway=replaying("ready", "guild_create", "member_add", extra=[second]),
    )  # fmt: skip
    got = await _run(adapter, lambda got: sum(isinstance(e, MemberJoined) for e in got) == 2)
    joins = [e for e in got if isinstance(e, MemberJoined)]
    # the first join went uncredited; the second sees +2 on one invite: one credit, and
    # the same inviter who brought both
    assert [(e.method, e.inviter) for e in joins] == [
        (JoinMethod.UNKNOWN, None),
        (JoinMethod.INVITED, MemberRef("53908099506183680", "Mason")),
    ]


async def test_actions_make_the_exact_rest_calls(api: tuple[FakeDiscordApi, str]) -> None:
    fake, base = api
    fake.answer("DELETE", f"/guilds/{GUILD}/bans/{NEWBIE_ID}", (404, REST["unknown_ban"]))
    fake.answer("DELETE", f"/channels/{GENERAL}/messages/1", (404, REST["unknown_message"]))
    adapter = DiscordAdapter(TOKEN, base, clock=lambda: 1_790_000_000.7)
    for name in ("ready", "guild_create"):
        translate(FRAMES[name], adapter.state, now=NOW)
    in_thread = f"{THREAD}/{sf(T0 + 100)}"

    assert await adapter.send(GENERAL, "欢迎", reply_to="334385199974967042") == "990001"
    assert await adapter.send(GENERAL, "签到成功 @everyone") == "990002"
    assert await adapter.send(GENERAL, "收到", reply_to=in_thread) == f"{THREAD}/990003"
    await adapter.delete(GENERAL, "334385199974967042", reason="strike.ad 广告")
    await adapter.delete(GENERAL, in_thread)
    await adapter.delete(GENERAL, "1")  # already gone: Unknown Message is success
    await adapter.mute(GENERAL, NEWBIE_ID, 3600)
    await adapter.mute(GENERAL, NEWBIE_ID, 0)
    await adapter.mute(GENERAL, NEWBIE_ID, 90 * 86400)  # Discord stops at 28 days
    await adapter.kick(GENERAL, NEWBIE_ID, reason="strike.ad")
    await adapter.kick(FORUM, NEWBIE_ID, ban=True, reason="strike.spam")
    await adapter.unban(GENERAL, NEWBIE_ID)  # not banned (Unknown Ban): nothing to lift
    await adapter.set_card(GENERAL, NEWBIE_ID, "新人小王")
    await adapter.grant_role(GENERAL, NEWBIE_ID, FAN_ROLE, reason="layer.core")
    await adapter.revoke_role(GENERAL, NEWBIE_ID, FAN_ROLE)
    with pytest.raises(Unsupported):
        await adapter.approve_join(GENERAL, "1", True)
    await adapter.aclose()

    member = f"/guilds/{GUILD}/members/{NEWBIE_ID}"
    mentions = {"parse": ["users"], "replied_user": True}
    assert fake.acts() == [
        ("POST", f"/channels/{GENERAL}/messages", None,
         {"content": "欢迎", "allowed_mentions": mentions,
          "message_reference": {"message_id": "334385199974967042", "fail_if_not_exists": False}}),
        ("POST", f"/channels/{GENERAL}/messages", None,
         {"content": "签到成功 @everyone", "allowed_mentions": mentions}),
        ("POST", f"/channels/{THREAD}/messages", None,
         {"content": "收到", "allowed_mentions": mentions,
          "message_reference": {"message_id": sf(T0 + 100), "fail_if_not_exists": False}}),
        ("DELETE", f"/channels/{GENERAL}/messages/334385199974967042", "strike.ad 广告", None),
        ("DELETE", f"/channels/{THREAD}/messages/{sf(T0 + 100)}", None, None),
        ("DELETE", f"/channels/{GENERAL}/messages/1", None, None),
        ("PATCH", member, None, {"communication_disabled_until": "2026-09-21T15:13:20+00:00"}),
        ("PATCH", member, None, {"communication_disabled_until": None}),
        ("PATCH", member, None, {"communication_disabled_until": "2026-10-19T14:12:20+00:00"}),
        ("DELETE", member, "strike.ad", None),
        ("PUT", f"/guilds/{GUILD}/bans/{NEWBIE_ID}", "strike.spam", {"delete_message_seconds": 0}),
        ("DELETE", f"/guilds/{GUILD}/bans/{NEWBIE_ID}", None, None),
        ("PATCH", member, None, {"nick": "新人小王"}),
        ("PUT", f"{member}/roles/{FAN_ROLE}", "layer.core", None),
        ("DELETE", f"{member}/roles/{FAN_ROLE}", None, None),
    ]  # fmt: skip
    assert MAX_TIMEOUT_SECONDS == 28 * 86400 - 60


async def test_an_outbox_call_carries_a_nonce_discord_enforces(
    api: tuple[FakeDiscordApi, str],
) -> None:
    """The same planned call sent again after a crash has the same nonce (Discord then
    returns the first message instead of posting another); other calls differ."""
    fake, base = api
    adapter = DiscordAdapter(TOKEN, base, clock=lambda: 1_790_000_000.7)
    for name in ("ready", "guild_create"):
        translate(FRAMES[name], adapter.state, now=NOW)
    for key in ("shequn.7.1790000000000", "shequn.7.1790000000000", "shequn.8.1790000000000"):
        token = call_key.set(key)
        try:
            await adapter.send(GENERAL, "请勿发广告")
        finally:
            call_key.reset(token)
    await adapter.send(GENERAL, "not from the outbox")
    await adapter.aclose()
    bodies = [c[3] for c in fake.acts()]
    nonces = [b.get("nonce") for b in bodies]
    assert nonces[0] == nonces[1] != nonces[2] and nonces[3] is None
    assert all(len(n) <= 25 for n in nonces[:3])  # Discord's limit
    assert [b.get("enforce_nonce") for b in bodies] == [True, True, True, None]


async def test_an_unknown_channel_is_looked_up_before_a_guild_action(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    fake.answer("GET", f"/channels/{GENERAL}", (200, {"id": GENERAL, "guild_id": GUILD,
                                                      "type": 0, "name": "general"}))  # fmt: skip
    adapter = DiscordAdapter(TOKEN, base)
    await adapter.kick(GENERAL, NEWBIE_ID)
    await adapter.kick(GENERAL, NEWBIE_ID)  # remembered: asked once
    await adapter.aclose()
    assert [(m, p) for m, p, _, _ in fake.calls] == [
        ("GET", f"/channels/{GENERAL}"),
        ("DELETE", f"/guilds/{GUILD}/members/{NEWBIE_ID}"),
        ("DELETE", f"/guilds/{GUILD}/members/{NEWBIE_ID}"),
    ]


async def test_a_rate_limit_is_a_platform_error_with_retry_after(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    fake.answer("POST", f"/channels/{GENERAL}/messages", (429, REST["rate_limited"]))
    adapter = DiscordAdapter(TOKEN, base)
    with pytest.raises(PlatformError, match="rate limit") as err:
        await adapter.send(GENERAL, "hi")
    assert err.value.retry_after == 64.57
    assert await adapter.send(GENERAL, "hi") == "990001"  # the next try goes through
    await adapter.aclose()


async def test_a_missing_permission_is_named(api: tuple[FakeDiscordApi, str]) -> None:
    fake, base = api
    member = f"/guilds/{GUILD}/members/{NEWBIE_ID}"
    fake.answer("PATCH", member, (403, REST["missing_permissions"]))
    fake.answer("DELETE", f"/channels/{GENERAL}/messages/5", (403, REST["missing_permissions"]))
    fake.answer("DELETE", f"/channels/{GENERAL}/messages/6", (500, {"message": "oops", "code": 0}))
    adapter = DiscordAdapter(TOKEN, base)
    translate(FRAMES["guild_create"], adapter.state, now=NOW)
    with pytest.raises(PlatformError, match="MODERATE_MEMBERS") as err:
        await adapter.mute(GENERAL, NEWBIE_ID, 60)
    assert err.value.retry_after is None
    with pytest.raises(PlatformError, match=r"MANAGE_MESSAGES.*50013 Missing Permissions"):
        await adapter.delete(GENERAL, "5")
    with pytest.raises(PlatformError, match="500"):
        await adapter.delete(GENERAL, "6")
    await adapter.aclose()


async def test_a_slow_api_is_a_platform_error(api: tuple[FakeDiscordApi, str]) -> None:
    fake, base = api
    fake.delay = 1.0
    adapter = DiscordAdapter(TOKEN, base, http_timeout=0.1)
    with pytest.raises(PlatformError, match=r"no answer in 0\.1 s"):
        await adapter.delete(GENERAL, "7")
    await adapter.aclose()


async def test_nothing_listening_is_a_platform_error() -> None:
    adapter = DiscordAdapter(TOKEN, "http://127.0.0.1:1/api/v10")
    with pytest.raises(PlatformError, match="Discord DELETE"):
        await adapter.delete(GENERAL, "7")
    await adapter.aclose()


async def test_fetch_media_downloads_an_attachment_without_the_token(
    api: tuple[FakeDiscordApi, str],
) -> None:
    _, base = api
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    seen: list[str | None] = []

    async def cdn(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/attachments/{tail:.*}", cdn)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}/attachments/41771983423143937/1/poster.png"
        adapter = DiscordAdapter(TOKEN, base)
        assert await adapter.fetch_media(url, max_bytes=1000) == png
        with pytest.raises(PlatformError, match="larger than 50 bytes"):
            await adapter.fetch_media(url, max_bytes=50)
        with pytest.raises(PlatformError, match="not a downloadable"):
            await adapter.fetch_media("file:///etc/passwd", max_bytes=1000)
    finally:
        await server.close()
    assert seen == [None, None]  # the bot token stays with the API


async def test_a_private_answer_goes_to_the_members_dm_channel(
    api: tuple[FakeDiscordApi, str],
) -> None:
    fake, base = api
    adapter = DiscordAdapter(TOKEN, base)
    for name in ("ready", "guild_create", "message_dm"):
        translate(FRAMES[name], adapter.state, now=NOW)
    await adapter.send("dm:1016745541297135636", "收到你的申诉")  # the channel the DM came in
    # after a restart nothing is known: Create DM returns the member's existing channel
    fake.answer("POST", "/users/@me/channels", (200, {"id": "1016788888888888888", "type": 1}))
    again = DiscordAdapter(TOKEN, base)
    await again.send("dm:53908099506183680", "你的申诉已通过")
    await again.send("dm:53908099506183680", "还有一条")  # asked once
    await adapter.aclose()
    await again.aclose()
    mentions = {"parse": ["users"], "replied_user": True}
    assert fake.acts() == [
        ("POST", "/channels/1016799999999999999/messages", None,
         {"content": "收到你的申诉", "allowed_mentions": mentions}),
        ("POST", "/users/@me/channels", None, {"recipient_id": "53908099506183680"}),
        ("POST", "/channels/1016788888888888888/messages", None,
         {"content": "你的申诉已通过", "allowed_mentions": mentions}),
        ("POST", "/channels/1016788888888888888/messages", None,
         {"content": "还有一条", "allowed_mentions": mentions}),
    ]  # fmt: skip
