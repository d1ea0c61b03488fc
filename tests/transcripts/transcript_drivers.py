"""One driver per adapter for the cross-platform transcripts (``test_transcripts.py``).

A driver turns neutral steps ("小王 joins", "小王 posts T", "the operator undoes
action A") into the platform's own payloads, in the shapes of the fixtures the
adapter tests replay (tests/fixtures/<platform>, sources in their READMEs). Each
payload goes in the way the platform delivers it: a Matrix ``/sync`` answer, a
Telegram ``getUpdates`` answer, a OneBot v11 WebSocket frame, a Discord gateway
frame, a QQ bot dispatch, a WeCom callback through the real crypto or a
session-archive record. The adapter translates it and hands it to the real
``Pipeline`` on a real archive (the ``store`` fixture).

What the adapter sends back goes to a loopback fake of the platform's server, which
records it; :meth:`Driver.take` maps those requests to neutral :class:`Effect`\\ s
and reads the human tasks the engine wrote where the platform has no API for the
action. Nothing leaves 127.0.0.1 and nothing sleeps on a timer: a step is done when
the pipeline has handled the event it stands for.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from shequn.actions.moderation import undo
from shequn.botconfig import GroupSettings
from shequn.events import Event, GroupSeen
from shequn.pipeline import Pipeline
from shequn.platforms import port
from shequn.platforms.port import Capability, Platform
from shequn.store import Store, schema

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"
for _dir in ("engine", "platforms"):
    if str(TESTS / _dir) not in sys.path:
        sys.path.insert(0, str(TESTS / _dir))

from bot_transcript import Clock, stand_in_moderate  # noqa: E402

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
CST = timezone(timedelta(hours=8))
STEP_TIMEOUT = 15.0  # a bound for a loaded CI machine; a step takes milliseconds


def _fixture(path: str, key: str, value: str) -> dict[str, Any]:
    items = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    return {i["name"]: i[value] for i in items} if key == "name" else items


# -- neutral effects ------------------------------------------------------------------


class Prefix(str):
    """Expected text that the effect's text starts with (dynamic tails: points, ranks)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(str(self))

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


@dataclass(frozen=True)
class Effect:
    """One thing the bot did to the group, or asked a person to do.

    ``kind``: send, delete, mute, unmute, kick. ``member``: the platform's member id
    (send: ``None``). ``detail``: the text sent, the message id deleted, the seconds
    of a mute (``None`` where the platform call does not carry it: Matrix mutes are
    power levels the engine lifts by itself).
    """

    kind: str
    member: str | None = None
    detail: Any = None


#: the capability each kind of effect needs (sends: see :func:`needs`)
NEEDS = {"delete": Capability.DELETE, "mute": Capability.MUTE, "unmute": Capability.MUTE,
         "kick": Capability.KICK, "ban": Capability.BAN}  # fmt: skip


def needs(effect: Effect, reply: bool = False) -> Capability:
    if effect.kind == "send":
        return Capability.REPLY if reply else Capability.SEND
    return NEEDS[effect.kind]


def capabilities(platform: Platform, group_id: str) -> frozenset[Capability]:
    """The group's capability set: ``port.capabilities_of`` when the port has it."""
    of = getattr(port, "capabilities_of", None)
    if of is not None:
        return frozenset(of(platform, group_id))
    per_group = getattr(platform, "capabilities_for", None)
    if per_group is not None:
        return frozenset(per_group(group_id))
    return frozenset(platform.capabilities)


# -- the driver base ------------------------------------------------------------------


@dataclass
class Member:
    key: str  # the neutral name: "alice", "newbie"
    name: str = "小王"


class Driver:
    """Runs one adapter against its fake server and the real pipeline."""

    platform_name = ""
    #: the adapter learns of members joining this group (QQ groups tell a bot nothing)
    sees_joins = True
    #: mute calls carry the duration (Matrix: no, a power level the engine lifts)
    mute_has_seconds = True
    #: people told of the new human tasks at the last take (WeCom: owner app messages)
    notified: int | None = None

    def __init__(self, store: Store, settings: GroupSettings, clock: Clock) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: settings, clock)
        self.handled: list[Event] = []
        self.adapter: Any = None
        self.group = ""
        #: members of the group before the bot starts (platforms that list members use it)
        self.present: tuple[Member, ...] = ()
        self._n = itertools.count(1)
        self._tasks_seen = 0
        self._stack = contextlib.AsyncExitStack()

    # the adapter calls this for every event it translated
    async def handle(self, event: Event, platform: Platform) -> None:
        await self.pipeline.handle(event, platform)
        self.handled.append(event)

    def _count(self) -> int:
        return sum(not isinstance(e, GroupSeen) for e in self.handled)

    async def _until_handled(self, n: int) -> None:
        """Until the pipeline has handled ``n`` events (GroupSeen aside); polls, no timer."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while self._count() < n:
                await asyncio.sleep(0.002)

    def next_id(self) -> int:
        return next(self._n)

    # -- what subclasses implement
    async def open(self) -> None:
        """Start the fake server and the adapter; :attr:`present` are members already."""
        raise NotImplementedError

    def member_id(self, who: Member) -> str:
        raise NotImplementedError

    def shown_name(self, who: Member) -> str:
        """How the platform's payload names ``who`` (what ``@name`` in a warning shows)."""
        return who.name

    async def _push_join(self, who: Member) -> None:
        raise NotImplementedError

    async def _push_message(self, who: Member, text: str) -> str:
        raise NotImplementedError

    def _calls(self) -> list[Effect]:
        """The platform requests since the last call, as effects (reads are left out)."""
        raise NotImplementedError

    # -- steps
    async def join(self, who: Member) -> None:
        before = self._count()
        self.clock.advance(1)
        await self._push_join(who)
        await self._until_handled(before + 1)

    async def say(self, who: Member, text: str) -> str:
        before = self._count()
        self.clock.advance(1)
        mid = await self._push_message(who, text)
        await self._until_handled(before + 1)
        return mid

    async def undo(self, kind: str) -> None:
        """The operator undoes the latest action of ``kind`` (console / CLI path)."""
        t = schema.bot_actions
        with self.store.engine.connect() as conn:
            aid = (
                conn.execute(
                    select(t.c.id)
                    .where(t.c.kind == kind, t.c.undo_of.is_(None))
                    .order_by(t.c.id.desc())
                )
                .scalars()
                .first()
            )
        assert aid is not None, f"no {kind} to undo"
        self.clock.advance(1)
        await undo(self.store, self.adapter, aid, "owner", now=self.clock())
        notify = getattr(self.adapter, "notify_human_tasks", None)
        if notify is not None:
            await notify(self.store, self.clock())

    @property
    def caps(self) -> frozenset[Capability]:
        return capabilities(self.adapter, self.group)

    def take(self) -> tuple[list[Effect], list[Effect]]:
        """(calls made, human tasks created) since the last take."""
        return self._calls(), self._new_tasks()

    def _new_tasks(self) -> list[Effect]:
        h, a = schema.human_tasks, schema.bot_actions
        q = (
            select(h.c.id, h.c.member_id, a.c.kind, a.c.params)
            .join(a, a.c.id == h.c.action_id)
            .where(h.c.id > self._tasks_seen)
            .order_by(h.c.id)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        if rows:
            self._tasks_seen = rows[-1].id
        return [_effect_of_action(r.kind, r.member_id, json.loads(r.params)) for r in rows]

    def expected(
        self, effects: list[Effect], replies: bool = False
    ) -> tuple[list[Effect], list[Effect]]:
        """Split the neutral ``effects`` by the group's capability set: (calls, tasks)."""
        caps = self.caps
        calls = [e for e in effects if needs(e, replies) in caps]
        tasks = [e for e in effects if needs(e, replies) not in caps]
        if not self.mute_has_seconds:
            calls = [Effect(e.kind, e.member, None) if e.kind == "mute" else e for e in calls]
        return calls, tasks

    async def close(self) -> None:
        await self._stack.aclose()


def _effect_of_action(kind: str, member: str | None, params: dict[str, Any]) -> Effect:
    if kind == "send":
        return Effect("send", None, params.get("text"))
    if kind == "delete":
        return Effect("delete", None, params.get("message_id"))
    if kind == "mute":
        seconds = int(params.get("seconds", 0))
        return Effect("mute", member, seconds) if seconds else Effect("unmute", member)
    return Effect(kind, member)


async def _serve(stack: contextlib.AsyncExitStack, app: web.Application) -> str:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stack.push_async_callback(server.close)
    return f"http://127.0.0.1:{server.port}"


async def _run(stack: contextlib.AsyncExitStack, adapter: Any, handle: Any) -> asyncio.Task[None]:
    # the outbox spaces calls to a real server (min_call_interval); a loopback fake
    # needs no pacing, and the transcripts must not sleep
    adapter.min_call_interval = 0.0
    task: asyncio.Task[None] = asyncio.create_task(adapter.start(handle))

    async def stop() -> None:
        await adapter.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)

    stack.push_async_callback(stop)
    return task


# -- Matrix: a homeserver's client-server API on loopback -------------------------------


class MatrixDriver(Driver):
    platform_name = "matrix"
    mute_has_seconds = False
    ROOM = "!KeY4hUCQmRV2IJMGklve8tGPioJNI6kVyNQOv7mzD6w"
    BOT = "@shequn:localhost"

    async def open(self) -> None:
        self.group = self.ROOM
        self._known: set[str] = set()  # members whose profile the room has seen
        self._muted: set[str] = set()
        self.batches: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self.requests: list[tuple[str, str, Any]] = []
        self.levels: dict[str, Any] = {"users": {"@owner:localhost": 100, self.BOT: 100},
                                       "users_default": 0, "events_default": 0,
                                       "events": {"m.room.message": 0}, "kick": 50, "ban": 50,
                                       "redact": 50}  # fmt: skip
        self._batch = 0
        app = web.Application()
        app.router.add_route("*", "/_matrix/client/{tail:.*}", self._endpoint)
        from shequn.platforms.matrix import MatrixAdapter

        base = await _serve(self._stack, app)
        self.adapter = MatrixAdapter(base, self.BOT, access_token="syt_test", since="s0")
        await _run(self._stack, self.adapter, self.handle)

    async def _endpoint(self, request: web.Request) -> web.Response:
        path = request.path
        body = await request.json() if request.can_read_body else None
        if path.endswith("/sync"):
            batch = await self.batches.get()
            self._batch += 1
            timeline = {"events": batch, "limited": False, "prev_batch": f"p{self._batch}"}
            room = {"timeline": timeline, "state": {"events": []}}
            return web.json_response({"next_batch": f"s{self._batch}",
                                      "rooms": {"join": {self.ROOM: room}}})  # fmt: skip
        self.requests.append((request.method, path, body))
        if "/state/m.room.power_levels" in path:
            if request.method == "GET":
                return web.json_response(self.levels)
            self.levels = body
        if request.method == "POST" and path.rsplit("/", 1)[1] in ("kick", "ban", "unban"):
            return web.json_response({})  # the spec's answer: an empty object
        return web.json_response({"event_id": f"$bot{len(self.requests)}"})

    def member_id(self, who: Member) -> str:
        return f"@{who.key}:localhost"

    def _event(self, template: str, who: Member, **content: Any) -> dict[str, Any]:
        raw = json.loads((FIXTURES / "matrix" / f"{template}.json").read_text(encoding="utf-8"))
        n = self.next_id()
        uid = self.member_id(who)
        raw.update(event_id=f"$ev{n}", origin_server_ts=int(self.clock() * 1000), sender=uid,
                   user_id=uid, room_id=self.ROOM)  # fmt: skip
        raw["unsigned"] = {"age": 10}
        raw["content"] = content
        return raw

    async def _push_join(self, who: Member) -> None:
        raw = self._event("join_public", who, displayname=who.name, membership="join")
        raw["state_key"] = self.member_id(who)
        await self.batches.put([raw])

    async def _push_message(self, who: Member, text: str) -> str:
        # members of the room were announced by their join; name them the first time
        raws = []
        if who.key not in self._known:
            self._known.add(who.key)
            join = self._event("join_public", who, displayname=who.name, membership="join")
            join["state_key"] = self.member_id(who)
            join["unsigned"] = {"age": 10, "prev_content": {"displayname": who.name,
                                                            "membership": "join"}}  # fmt: skip
            raws.append(join)  # a profile re-send: no new join event in shequn
        raw = self._event("message_zh", who, body=text, msgtype="m.text")
        await self.batches.put([*raws, raw])
        return str(raw["event_id"])

    async def join(self, who: Member) -> None:
        self._known.add(who.key)
        await super().join(who)

    def _calls(self) -> list[Effect]:
        out: list[Effect] = []
        for method, path, body in self.requests:
            if method == "PUT" and "/send/m.room.message/" in path:
                out.append(Effect("send", None, body["body"]))
            elif method == "PUT" and "/redact/" in path:
                out.append(Effect("delete", None, path.split("/redact/")[1].split("/")[0]))
            elif method == "PUT" and "/state/m.room.power_levels" in path:
                out.append(self._level_change(body))
            elif method == "POST" and path.rsplit("/", 1)[1] in ("kick", "ban", "unban"):
                out.append(Effect(path.rsplit("/", 1)[1], body["user_id"]))
        self.requests.clear()
        return out

    def _level_change(self, levels: dict[str, Any]) -> Effect:
        users = levels.get("users") or {}
        floor = int(levels.get("events_default", 0))
        muted = [u for u, lv in users.items() if int(lv) < floor]
        if muted:
            self._muted = set(muted)
            return Effect("mute", muted[0], None)
        # lifted: the member muted before is back at the default level (dropped from users)
        (back,) = self._muted - set(users) or {"?"}
        self._muted = set()
        return Effect("unmute", back)


# -- Telegram: the Bot API on loopback -----------------------------------------------------


class TelegramDriver(Driver):
    platform_name = "telegram"
    TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
    CHAT = -1001234567890
    UPDATES = _fixture("telegram_bot/updates.json", "name", "update")

    async def open(self) -> None:
        self.group = str(self.CHAT)
        self.pending: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._update_id = 794348100
        app = web.Application()
        app.router.add_post("/{bot}/{method}", self._endpoint)
        base = await _serve(self._stack, app)
        from shequn.platforms.telegram import TelegramAdapter

        self.adapter = TelegramAdapter(self.TOKEN, base, poll_timeout=5, clock=self.clock)
        await _run(self._stack, self.adapter, self.handle)

    async def _endpoint(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.json()
        if method == "getUpdates":
            offset = int(body.get("offset") or 0)
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(body.get("timeout", 0) or 0.01):
                    while not self.pending:
                        self.arrived.clear()
                        await self.arrived.wait()
            return web.json_response({"ok": True, "result": self.pending})
        self.requests.append((method, body))
        result: Any = True
        if method == "sendMessage":
            result = {"message_id": 9000 + len(self.requests), "date": int(self.clock()),
                      "chat": {"id": self.CHAT, "type": "supergroup"}, "text": body["text"]}  # fmt: skip
        elif method == "getChat":
            result = {"id": self.CHAT, "type": "supergroup", "title": "Shequn Test",
                      "permissions": {"can_send_messages": True, "can_send_photos": True}}  # fmt: skip
        return web.json_response({"ok": True, "result": result})

    def member_id(self, who: Member) -> str:
        return str(999000000 + sum(map(ord, who.key)))

    def _user(self, who: Member) -> dict[str, Any]:
        return {"id": int(self.member_id(who)), "is_bot": False, "first_name": who.name,
                "username": who.key}  # fmt: skip

    def _update(self, template: str) -> dict[str, Any]:
        upd = copy.deepcopy(self.UPDATES[template])
        self._update_id += 1
        upd["update_id"] = self._update_id
        return upd

    def _deliver(self, upd: dict[str, Any]) -> None:
        self.pending.append(upd)
        self.arrived.set()

    async def _push_join(self, who: Member) -> None:
        upd = self._update("new_member_self")
        msg = upd["message"]
        msg.update(
            message_id=self.next_id() + 100, date=int(self.clock()), **{"from": self._user(who)}
        )
        msg["new_chat_members"] = [self._user(who)]
        self._deliver(upd)

    async def _push_message(self, who: Member, text: str) -> str:
        upd = self._update("forum_topic_message")
        msg = upd["message"]
        for key in ("message_thread_id", "is_topic_message", "reply_to_message"):
            msg.pop(key, None)
        msg["chat"].pop("is_forum", None)
        mid = self.next_id() + 100
        msg.update(message_id=mid, date=int(self.clock()), text=text, **{"from": self._user(who)})
        self._deliver(upd)
        return str(mid)

    def _calls(self) -> list[Effect]:
        out: list[Effect] = []
        for method, body in self.requests:
            user = str(body.get("user_id", ""))
            if method == "sendMessage":
                out.append(Effect("send", None, body["text"]))
            elif method == "deleteMessage":
                out.append(Effect("delete", None, str(body["message_id"])))
            elif method == "restrictChatMember":
                if body["permissions"].get("can_send_messages") is False:
                    out.append(Effect("mute", user, int(body["until_date"] - self.clock())))
                else:
                    out.append(Effect("unmute", user))
            elif method == "banChatMember":
                out.append(Effect("kick", user))
            elif method == "unbanChatMember" and out[-1:] != [Effect("kick", user)]:
                out.append(Effect("unban", user))  # (a kick is ban + unban: they may come back)
        self.requests.clear()
        return out


# -- OneBot v11: the implementation's side of the forward WebSocket ------------------------


class OneBotDriver(Driver):
    platform_name = "onebot"
    GROUP = 100100
    SELF = 10001001
    EVENTS = _fixture("onebot/events.json", "name", "event")

    async def open(self) -> None:
        self.group = str(self.GROUP)
        self.actions: list[dict[str, Any]] = []
        self.ws: web.WebSocketResponse | None = None
        self.connected = asyncio.Event()
        app = web.Application()
        app.router.add_get("/", self._endpoint)
        base = await _serve(self._stack, app)
        from shequn.platforms.onebot import OneBotAdapter

        self.adapter = OneBotAdapter(base.replace("http", "ws") + "/", "s3cret")
        await _run(self._stack, self.adapter, self.handle)
        await asyncio.wait_for(self.connected.wait(), STEP_TIMEOUT)

    async def _endpoint(self, request: web.Request) -> web.StreamResponse:
        assert request.headers.get("Authorization") == "Bearer s3cret"
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        self.connected.set()
        async for msg in ws:
            frame = json.loads(msg.data)
            self.actions.append({k: frame[k] for k in ("action", "params")})
            data: Any = None
            if frame["action"] == "send_group_msg":
                data = {"message_id": 5000 + len(self.actions)}
            await ws.send_json({"status": "ok", "retcode": 0, "data": data, "echo": frame["echo"]})
        return ws

    def member_id(self, who: Member) -> str:
        return str(10005000 + sum(map(ord, who.key)))

    async def _send(self, event: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_json(event)

    async def _push_join(self, who: Member) -> None:
        ev = copy.deepcopy(self.EVENTS["increase_approve"])
        ev.update(time=int(self.clock()), user_id=int(self.member_id(who)))
        await self._send(ev)

    def shown_name(self, who: Member) -> str:
        return who.name

    async def _push_message(self, who: Member, text: str) -> str:
        ev = copy.deepcopy(self.EVENTS["reply_at_text_array"])
        mid = 1000 + self.next_id()
        uid = int(self.member_id(who))
        ev.update(time=int(self.clock()), message_id=mid, user_id=uid, raw_message=text,
                  message=[{"type": "text", "data": {"text": text}}])  # fmt: skip
        ev["sender"] = {"user_id": uid, "nickname": who.name, "card": "", "role": "member"}
        await self._send(ev)
        return str(mid)

    def _calls(self) -> list[Effect]:
        out: list[Effect] = []
        for a in self.actions:
            p = a["params"]
            user = str(p.get("user_id", ""))
            if a["action"] == "send_group_msg":
                msg = p["message"]
                text = (
                    msg
                    if isinstance(msg, str)
                    else "".join(s["data"].get("text", "") for s in msg if s["type"] == "text")
                )
                out.append(Effect("send", None, text))
            elif a["action"] == "delete_msg":
                out.append(Effect("delete", None, str(p["message_id"])))
            elif a["action"] == "set_group_ban":
                d = int(p["duration"])
                out.append(Effect("mute", user, d) if d else Effect("unmute", user))
            elif a["action"] == "set_group_kick":
                out.append(Effect("kick", user))
        self.actions.clear()
        return out


# -- Discord: gateway frames in, REST on loopback ------------------------------------------


class DiscordDriver(Driver):
    platform_name = "discord"
    TOKEN = "MTAxNjcxMjA1NDQyNDQyNDQ0OA.GhB9x1.fake-token-for-tests"
    GUILD, GENERAL = "197038439483310086", "41771983423143937"
    FRAMES = _fixture("discord/gateway.json", "name", "frame")
    EPOCH_MS = 1_420_070_400_000
    #: MANAGE_MESSAGES, KICK_MEMBERS and MODERATE_MEMBERS in the fixture's guild
    MODERATORS = "1016700371520000001"

    async def open(self) -> None:
        self.group = self.GENERAL
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.requests: list[tuple[str, str, Any]] = []
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._endpoint)
        base = await _serve(self._stack, app)
        from shequn.platforms.discord import DiscordAdapter

        self.adapter = DiscordAdapter(
            self.TOKEN, f"{base}/api/v10", gateway=self._gateway, clock=self.clock,
            home_channels={self.GUILD: self.GENERAL}, track_invites=False,
            check_audit_log=False, slash_commands=False,
        )  # fmt: skip
        await _run(self._stack, self.adapter, self.handle)
        guild = copy.deepcopy(self.FRAMES["guild_create"])
        bot = self.FRAMES["ready"]["d"]["user"]["id"]
        for member in guild["d"]["members"]:
            if member["user"]["id"] == bot:  # set up as the docs say: the Moderators role
                member["roles"] = [self.MODERATORS]
        await self.frames.put(self.FRAMES["ready"])
        await self.frames.put(guild)
        async with asyncio.timeout(STEP_TIMEOUT):
            while self.GENERAL not in {e.group_id for e in self.handled}:
                await asyncio.sleep(0.002)

    async def _gateway(
        self, token: str, receive: Callable[[Any], None], stopping: asyncio.Event
    ) -> None:
        while True:
            get = asyncio.ensure_future(self.frames.get())
            stop = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                get.cancel()
                return
            stop.cancel()
            receive(json.dumps(get.result(), ensure_ascii=False))

    async def _endpoint(self, request: web.Request) -> web.Response:
        path = request.path_qs.removeprefix("/api/v10")
        body = await request.json() if request.can_read_body else None
        if request.method == "GET":
            return web.json_response([])
        self.requests.append((request.method, path, body))
        if request.method == "POST":
            return web.json_response({"id": f"88{len(self.requests)}", "channel_id": self.GENERAL})
        return web.Response(status=204)

    def member_id(self, who: Member) -> str:
        return str(1016745541297100000 + sum(map(ord, who.key)))

    def _user(self, who: Member) -> dict[str, Any]:
        return {"id": self.member_id(who), "username": who.key, "global_name": who.name,
                "discriminator": "0", "avatar": None}  # fmt: skip

    def _iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat()

    async def _push_join(self, who: Member) -> None:
        frame = copy.deepcopy(self.FRAMES["member_add"])
        frame["d"].update(user=self._user(who), joined_at=self._iso())
        await self.frames.put(frame)

    async def _push_message(self, who: Member, text: str) -> str:
        frame = copy.deepcopy(self.FRAMES["message_text"])
        d = frame["d"]
        mid = str((int(self.clock() * 1000) - self.EPOCH_MS) << 22 | self.next_id())
        d.update(id=mid, content=text, author=self._user(who), timestamp=self._iso(), reactions=[])
        d["member"]["roles"] = []
        await self.frames.put(frame)
        return mid

    def _calls(self) -> list[Effect]:
        out: list[Effect] = []
        messages = f"/channels/{self.GENERAL}/messages"
        members = f"/guilds/{self.GUILD}/members/"
        for method, path, body in self.requests:
            if method == "POST" and path == messages:
                out.append(Effect("send", None, body["content"]))
            elif method == "DELETE" and path.startswith(messages + "/"):
                out.append(Effect("delete", None, path.rsplit("/", 1)[1]))
            elif method == "PATCH" and path.startswith(members):
                until = body["communication_disabled_until"]
                user = path.rsplit("/", 1)[1]
                if until is None:
                    out.append(Effect("unmute", user))
                else:
                    seconds = datetime.fromisoformat(until).timestamp() - self.clock()
                    out.append(Effect("mute", user, round(seconds)))
            elif method == "DELETE" and path.startswith(members):
                out.append(Effect("kick", path.rsplit("/", 1)[1].split("?")[0]))
        self.requests.clear()
        return out


# -- QQ official bot: dispatches in, OpenAPI on loopback -------------------------------------


class QQBotDriver(Driver):
    """A guild sub-channel (``channel``) or a QQ group (``group``) of the official bot."""

    platform_name = "qqbot"
    APP_ID, SECRET = "102003004", "naOC0ocQE3shWLAfffVLB1rhYPG7"
    GUILD, CHANNEL = "18700000000001", "100010"
    GROUP_OPENID = "C9F778FE6ADF9D1D1DBE395BF744A33A"
    PAYLOADS = _fixture("qqbot/dispatches.json", "name", "payload")

    def __init__(self, *args: Any, where: str = "channel") -> None:
        super().__init__(*args)
        self.where = where
        # QQ groups tell a bot nothing of members joining (only of the bot being added)
        self.sees_joins = where == "channel"

    async def open(self) -> None:
        self.group = (f"group:{self.GROUP_OPENID}" if self.where == "group"
                      else f"channel:{self.CHANNEL}")  # fmt: skip
        self.requests: list[tuple[str, str, Any]] = []
        app = web.Application()
        app.router.add_post("/app/getAppAccessToken", self._token)
        app.router.add_route("*", "/{tail:.*}", self._endpoint)
        base = await _serve(self._stack, app)
        from shequn.platforms.qqbot import QQBotAdapter

        self.adapter = QQBotAdapter(
            self.SECRET, self.APP_ID, api_base=base, token_url=f"{base}/app/getAppAccessToken",
            clock=self.clock, home_channels={self.GUILD: self.CHANNEL},
        )  # fmt: skip
        self.adapter.min_call_interval = 0.0  # no pacing against a loopback fake
        self._stack.push_async_callback(self.adapter.aclose)

    async def _token(self, request: web.Request) -> web.Response:
        return web.json_response({"access_token": "token-1", "expires_in": "7200"})

    async def _endpoint(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        if request.method == "GET":
            return web.json_response({"id": self.CHANNEL, "guild_id": self.GUILD, "name": "大厅"})
        self.requests.append((request.method, request.path_qs, body))
        if request.method == "POST":
            return web.json_response({"id": f"R{len(self.requests)}",
                                      "timestamp": "2026-09-21T22:13:20+08:00"})  # fmt: skip
        return web.Response(status=204)

    def member_id(self, who: Member) -> str:
        if self.where == "group":
            return f"E4F4AEA33253A2797FB897C50B81{sum(map(ord, who.key)):04X}"
        return str(1234000 + sum(map(ord, who.key)))

    def shown_name(self, who: Member) -> str:
        # a QQ group message names its author by an openid only
        return self.member_id(who) if self.where == "group" else who.name

    def _at(self) -> str:
        return datetime.fromtimestamp(self.clock(), CST).isoformat()

    async def _deliver(self, payload: dict[str, Any]) -> None:
        await self.adapter.deliver(payload, self.handle)

    async def _push_join(self, who: Member) -> None:
        p = copy.deepcopy(self.PAYLOADS["guild_member_add"])
        p["d"].update(guild_id=self.GUILD, joined_at=self._at(), nick=who.name)
        p["d"]["user"] = {"id": self.member_id(who), "username": who.name, "bot": False,
                          "avatar": ""}  # fmt: skip
        await self._deliver(p)

    async def _push_message(self, who: Member, text: str) -> str:
        mid = f"M{self.next_id()}"
        if self.where == "group":
            p = copy.deepcopy(self.PAYLOADS["group_at_message"])
            p["d"].update(id=mid, timestamp=self._at(), content=f" {text}")
            p["d"]["author"] = {"member_openid": self.member_id(who)}
        else:
            p = copy.deepcopy(self.PAYLOADS["at_message"])
            p["d"].update(id=mid, timestamp=self._at(), content=text, channel_id=self.CHANNEL,
                          guild_id=self.GUILD)  # fmt: skip
            p["d"]["author"] = {"id": self.member_id(who), "username": who.name, "bot": False,
                                "avatar": ""}  # fmt: skip
        p["id"] = f"{p['t']}:{mid}"
        await self._deliver(p)
        return mid

    def _calls(self) -> list[Effect]:
        out: list[Effect] = []
        for method, path, body in self.requests:
            if method == "POST" and path.endswith("/messages"):
                out.append(Effect("send", None, body["content"]))
            elif method == "DELETE" and "/messages/" in path:
                out.append(Effect("delete", None, path.split("/messages/")[1].split("?")[0]))
            elif method == "PATCH" and path.endswith("/mute"):
                user = path.split("/members/")[1].split("/")[0]
                seconds = int(body.get("mute_seconds") or 0)
                out.append(Effect("mute", user, seconds) if seconds else Effect("unmute", user))
            elif method == "DELETE" and "/members/" in path:
                out.append(Effect("kick", path.split("/members/")[1].split("?")[0]))
        self.requests.clear()
        return out


# -- WeCom: callbacks through the real crypto, messages from the session archive ------------


class WeComDriver(Driver):
    platform_name = "wecom"
    OWNER = "ZhuShengBen"

    async def open(self) -> None:
        from test_wecom_adapter import (  # the documented fixtures and the fake server API
            API,
            CALLBACKS,
            CHAT,
            FakeWeCom,
            make_adapter,
            sealed,
        )

        self._sealed, self._callbacks = sealed, CALLBACKS
        self.group = CHAT
        self.records: list[dict[str, Any]] = []
        self.fake = FakeWeCom()
        group = copy.deepcopy(API["groupchat_get"]["group_chat"])
        group["member_list"] = group["member_list"][:1]  # staff abel; customers come below
        self.fake.groups[CHAT] = group
        for who in self.present:  # members since long before the bot started
            self._add_to_group(who, 1572505491)
        app = web.Application()
        app.router.add_route("*", "/cgi-bin/{tail:.*}", self.fake.endpoint)
        base = await _serve(self._stack, app)

        async def archive(after: int) -> list[dict[str, Any]]:
            return [r for r in self.records if r["seq"] > after]

        self.adapter = make_adapter(f"{base}/cgi-bin", archive=archive, archive_seconds=3600.0)
        self.adapter.clock = self.clock
        await _run(self._stack, self.adapter, self.handle)
        async with asyncio.timeout(STEP_TIMEOUT):
            while self.adapter.bound_port is None or CHAT not in self.adapter.groups:
                await asyncio.sleep(0.002)
        self.fake.take()

    def member_id(self, who: Member) -> str:
        return f"wmOgQhDgAA{who.key.upper():A<20}"[:32]

    def _add_to_group(self, who: Member, join_time: int) -> None:
        members = self.fake.groups[self.group]["member_list"]
        if all(m["userid"] != self.member_id(who) for m in members):
            members.append({"userid": self.member_id(who), "type": 2, "join_time": join_time,
                            "join_scene": 3, "group_nickname": who.name, "name": who.name})  # fmt: skip

    async def _push_join(self, who: Member) -> None:
        self._add_to_group(who, int(self.clock()))
        xml = self._callbacks["chat_add_member"]
        xml = re.sub(r"<MemChangeCnt>\d+</MemChangeCnt><MemChangeList>.*</MemChangeList>",
                     f"<MemChangeCnt>1</MemChangeCnt><MemChangeList><Item>{self.member_id(who)}"
                     "</Item></MemChangeList>", xml)  # fmt: skip
        xml = xml.replace("<CreateTime>1403610513</CreateTime>",
                          f"<CreateTime>{int(self.clock())}</CreateTime>")  # fmt: skip
        query, body = self._sealed(xml)
        url = f"http://127.0.0.1:{self.adapter.bound_port}/wecom/callback"
        async with aiohttp.ClientSession() as s, s.post(url, params=query, data=body) as r:
            assert (r.status, await r.text()) == (200, "success")

    async def _push_message(self, who: Member, text: str) -> str:
        seq = len(self.records) + 1
        mid = f"1001{seq}_{int(self.clock())}"
        # a decrypted session-archive text record (会话内容存档 消息格式)
        self.records.append({"seq": seq, "msgid": mid, "action": "send",
                             "from": self.member_id(who), "tolist": [self.OWNER],
                             "roomid": self.group, "msgtime": int(self.clock() * 1000),
                             "msgtype": "text", "text": {"content": text}})  # fmt: skip
        await self.adapter.pull_archive()
        return mid

    def _calls(self) -> list[Effect]:
        # WeCom has no call for any effect: owners get app messages (one per task)
        out: list[Effect] = []
        self.notified = 0
        for _m, path, _q, body in self.fake.take():
            if path == "/message/send":
                assert body["touser"] == self.OWNER
                self.notified += 1
            elif path not in ("/gettoken", "/externalcontact/groupchat/get",
                              "/externalcontact/groupchat/list"):  # fmt: skip
                out.append(Effect("unexpected", None, path))
        return out


DRIVERS: dict[str, Callable[[Store, GroupSettings, Clock], Driver]] = {
    "matrix": MatrixDriver,
    "telegram": TelegramDriver,
    "onebot": OneBotDriver,
    "discord": DiscordDriver,
    "qqbot-channel": lambda *a: QQBotDriver(*a, where="channel"),
    "qqbot-group": lambda *a: QQBotDriver(*a, where="group"),
    "wecom": WeComDriver,
}


@contextlib.asynccontextmanager
async def running(
    name: str, store: Store, settings: GroupSettings, present: tuple[Member, ...] = ()
) -> AsyncIterator[Driver]:
    driver = DRIVERS[name](store, settings, Clock(T0))
    driver.present = present
    try:
        await driver.open()
        yield driver
    finally:
        await driver.close()


__all__ = ["DRIVERS", "T0", "Driver", "Effect", "Member", "Prefix", "capabilities", "running"]
