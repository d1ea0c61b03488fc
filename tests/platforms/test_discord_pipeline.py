"""The strike-ladder transcript on Discord: gateway frames → real Pipeline → REST calls.

The same story the engine transcripts (tests/engine/test_bot_strikes.py) and the live
Matrix test tell: an ad posted three times is deleted each time and answered with a
warning, a timeout, a kick; undoing the timeout and the kick lifts them. Here the
messages are Discord MESSAGE_CREATE frames replayed into the real adapter, the
pipeline records into a real archive (the ``store`` fixture), and what reaches
Discord is asserted as REST calls on a loopback server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from bot_transcript import Clock, audit, params, rows, stand_in_moderate

from shequn.actions.moderation import undo
from shequn.botconfig import GroupSettings
from shequn.features.strikes import Step
from shequn.pipeline import Pipeline
from shequn.platforms.discord import DiscordAdapter
from shequn.store import Store, schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
FRAMES: dict[str, dict[str, Any]] = {
    f["name"]: f["frame"]
    for f in json.loads((FIXTURES / "gateway.json").read_text(encoding="utf-8"))
}
REST: dict[str, Any] = json.loads((FIXTURES / "rest.json").read_text(encoding="utf-8"))
TOKEN = "MTAxNjcxMjA1NDQyNDQyNDQ0OA.GhB9x1.fake-token-for-tests"
GUILD, GENERAL = "197038439483310086", "41771983423143937"
ALICE = {"id": "1016745541297135636", "username": "alice_w", "global_name": "Alice",
         "discriminator": "0", "avatar": None}  # fmt: skip
NELLY = {"id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
         "discriminator": "0", "avatar": None}  # fmt: skip
MOD_ROLE = "1016700371520000001"
AD = "优惠多多 加微信 abc123"
T0 = 1_790_000_000.0
EPOCH_MS = 1_420_070_400_000


def said(n: int, text: str, author: dict[str, Any] = ALICE, roles: tuple[str, ...] = ()) -> Any:
    """A MESSAGE_CREATE like the fixtures', posted ``n`` seconds after T0."""
    frame = copy.deepcopy(FRAMES["message_video"])
    d = frame["d"]
    d.update(id=str((int((T0 + n) * 1000) - EPOCH_MS) << 22), content=text, attachments=[],
             author=author, timestamp=f"2026-09-21T14:13:{20 + n:02d}.000000+00:00")  # fmt: skip
    d["member"]["roles"] = list(roles)
    return frame


class RecordingApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, Any]] = []
        self.errors: dict[tuple[str, str], tuple[int, Any]] = {}
        self._n = 0

    async def endpoint(self, request: web.Request) -> web.Response:
        path = request.path_qs.removeprefix("/api/v10")
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, path, request.headers.get("X-Audit-Log-Reason"), body))
        if (request.method, path) in self.errors:
            status, payload = self.errors[(request.method, path)]
            return web.json_response(payload, status=status)
        if request.method == "POST":
            self._n += 1
            return web.json_response({"id": f"88000{self._n}", "channel_id": GENERAL})
        if request.method == "GET":
            return web.json_response([])
        return web.Response(status=204)

    def acts(self) -> list[tuple[str, str, str | None, Any]]:
        out = [c for c in self.calls if c[0] != "GET"]
        self.calls.clear()
        return out


@pytest.fixture
async def api() -> AsyncIterator[tuple[RecordingApi, str]]:
    fake = RecordingApi()
    app = web.Application()
    app.router.add_route("*", "/api/v10/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, f"http://127.0.0.1:{server.port}/api/v10"
    finally:
        await server.close()


async def _until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


async def run_transcript(
    store: Store,
    base: str,
    frames: list[Any],
    settings: GroupSettings,
    clock: Clock,
    *,
    slash_commands: bool = False,
) -> DiscordAdapter:
    """Replay ``frames`` through the adapter into a real pipeline; wait until all are handled."""
    done = asyncio.Event()

    async def gateway(token: str, receive: Callable[[Any], None], stopping: asyncio.Event) -> None:
        for frame in [FRAMES["ready"], FRAMES["guild_create"], *frames]:
            receive(json.dumps(frame, ensure_ascii=False))
        receive({"op": 0, "t": "TEST_DONE", "d": {}})  # translates to nothing
        await stopping.wait()

    adapter = DiscordAdapter(
        TOKEN, base, gateway=gateway, clock=clock, slash_commands=slash_commands
    )
    pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: settings, clock)
    handled: list[Any] = []

    async def handle(event: Any, platform: Any) -> None:
        clock.advance(1)
        await pipeline.handle(event, platform)
        handled.append(event)

    original = adapter.events

    async def events(frame: dict[str, Any]) -> list[Any]:
        if frame.get("t") == "TEST_DONE":
            done.set()
        return await original(frame)

    adapter.events = events  # type: ignore[method-assign]
    task = asyncio.create_task(adapter.start(handle))
    await asyncio.wait_for(done.wait(), 10)
    await adapter.stop()
    await asyncio.wait_for(task, 10)
    return adapter


async def test_an_ad_three_times_is_warned_timed_out_kicked_and_undone(
    store: Store, api: tuple[RecordingApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0)
    frames = [said(1, "大家好"), said(2, AD), said(3, AD), said(4, AD)]
    adapter = await run_transcript(store, base, frames, GroupSettings(), clock)
    m1, m2, m3, m4 = (f["d"]["id"] for f in frames)
    warn = "@Alice 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」（被禁言后也可以私聊我发送）。"
    member = f"/guilds/{GUILD}/members/{ALICE['id']}"
    messages = f"/channels/{GENERAL}/messages"
    mute = next(r for r in rows(store, schema.bot_actions) if r.kind == "mute")
    until = datetime.fromtimestamp(int(mute.done_at) + 3600, UTC).isoformat()
    private = "如有误判，可私聊我发送「申诉 理由」。"  # a DM reaches the bot: appeal there
    muted, removed = (
        f"@Alice 因发布广告（第 2 次违规）被禁言 1 小时。{private}",
        f"Alice 因发布广告（第 3 次违规）已被移出本群。{private}",
    )
    acts = fake.acts()
    for posted in (acts[1][3], acts[4][3], acts[7][3]):
        nonce = posted.pop("nonce")  # the outbox's key for the call: a repeat is dropped
        assert re.fullmatch(r"[0-9a-f]{24}", nonce) and posted.pop("enforce_nonce") is True
    mentions = {"parse": ["users"], "replied_user": True}
    assert acts == [
        ("DELETE", f"{messages}/{m2}", "strike.ad", None),
        ("POST", messages, None,
         {"content": warn, "allowed_mentions": {"parse": ["users"], "replied_user": True}}),
        ("DELETE", f"{messages}/{m3}", "strike.ad", None),
        ("PATCH", member, None, {"communication_disabled_until": until}),
        ("POST", messages, None, {"content": muted, "allowed_mentions": mentions}),
        ("DELETE", f"{messages}/{m4}", "strike.ad", None),
        ("DELETE", member, "strike.ad", None),
        ("POST", messages, None, {"content": removed, "allowed_mentions": mentions}),
        ("DELETE", f"{messages}/{m1}", "purge", None),  # her greeting goes with her (清理)
    ]  # fmt: skip
    made = {r.kind: r.id for r in rows(store, schema.bot_actions)}
    assert audit(store) == [
        ("delete", "done", "strike.ad", params(message_id=m2)),
        ("send", "done", "strike.ad", params(text=warn)),
        ("delete", "done", "strike.ad", params(message_id=m3)),
        ("mute", "done", "strike.ad", params(seconds=3600)),
        ("send", "done", "strike.ad", params(text=muted, after=made["mute"])),
        ("delete", "done", "strike.ad", params(message_id=m4)),
        ("kick", "done", "strike.ad", params()),
        ("send", "done", "strike.ad", params(text=removed, after=made["kick"])),
        ("delete", "done", "purge", params(message_id=m1)),
    ]
    # the archive has the channel as a group, named after guild and channel
    groups = {r.platform_id: r for r in rows(store, schema.groups)}
    assert groups[GENERAL].name == "Discord Testers #general"

    # an operator undoes the timeout and the kick
    by_kind = {r.kind: r for r in rows(store, schema.bot_actions)}
    fake.errors[("DELETE", f"/guilds/{GUILD}/bans/{ALICE['id']}")] = (404, REST["unknown_ban"])
    await undo(store, adapter, by_kind["mute"].id, "owner", now=clock())
    await undo(store, adapter, by_kind["kick"].id, "owner", now=clock())
    assert fake.acts() == [
        ("PATCH", member, None, {"communication_disabled_until": None}),
        # a kicked member is not banned: Discord answers Unknown Ban, which is success;
        # they come back through an invite (a bot cannot add them back)
        ("DELETE", f"/guilds/{GUILD}/bans/{ALICE['id']}", None, None),
    ]
    undone = [(r.kind, r.status) for r in rows(store, schema.bot_actions) if r.undo_of]
    assert sorted(undone) == [("mute", "done"), ("strike_removed", "done"),
                              ("strike_removed", "done"), ("unban", "done")]  # fmt: skip
    await adapter.aclose()


async def test_a_ban_ladder_bans_and_undo_lifts_the_ban(
    store: Store, api: tuple[RecordingApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0)
    settings = GroupSettings(ladder_by_rule={"ad": (Step("ban"),)})
    frames = [said(1, AD)]
    adapter = await run_transcript(store, base, frames, settings, clock)
    bans = f"/guilds/{GUILD}/bans/{ALICE['id']}"
    acts = fake.acts()
    assert acts[:2] == [
        ("DELETE", f"/channels/{GENERAL}/messages/{frames[0]['d']['id']}", "strike.ad", None),
        ("PUT", bans, "strike.ad", {"delete_message_seconds": 0}),
    ]
    assert acts[2][:2] == ("POST", f"/channels/{GENERAL}/messages")
    assert acts[2][3]["content"] == (
        "Alice 因发布广告（第 1 次违规）已被移出本群并拉黑。如有误判，可私聊我发送「申诉 理由」。"
    )
    ban = next(r for r in rows(store, schema.bot_actions) if r.kind == "ban")
    await undo(store, adapter, ban.id, "owner", now=clock())
    assert fake.acts() == [("DELETE", bans, None, None)]
    await adapter.aclose()


async def test_staff_by_role_are_not_moderated_and_a_refusal_is_retried(
    store: Store, api: tuple[RecordingApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0)
    frames = [said(1, AD, NELLY, roles=(MOD_ROLE,)), said(2, AD)]
    delete = f"/channels/{GENERAL}/messages/{frames[1]['d']['id']}"
    fake.errors[("DELETE", delete)] = (403, {"message": "Missing Permissions", "code": 50013})
    await run_transcript(store, base, frames, GroupSettings(), clock)
    assert [(m, p) for m, p, _, _ in fake.acts()] == [
        ("DELETE", delete),
        ("POST", f"/channels/{GENERAL}/messages"),
    ]
    failed = next(r for r in rows(store, schema.bot_actions) if r.kind == "delete")
    assert (failed.status, failed.attempts) == ("planned", 1)  # kept for the next tick
    assert "MANAGE_MESSAGES" in failed.error


async def test_the_checkin_slash_command_checks_in(
    store: Store, api: tuple[RecordingApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0 + 800)
    frame = FRAMES["interaction_checkin"]
    await run_transcript(store, base, [frame], GroupSettings(), clock, slash_commands=True)
    d = frame["d"]
    calls = fake.acts()
    # answered privately at once, then check-in's own answer in the channel
    assert calls[:2] == [
        ("PUT", f"/applications/{FRAMES['ready']['d']['application']['id']}/commands", None,
         calls[0][3]),
        ("POST", f"/interactions/{d['id']}/{d['token']}/callback", None,
         {"type": 4, "data": {"content": "✓", "flags": 64}}),
    ]  # fmt: skip
    (method, path, _, body) = calls[2]
    assert (method, path) == ("POST", f"/channels/{GENERAL}/messages")
    assert body["content"].startswith("@小梅 签到成功！连续 1 天")
    assert len(calls) == 3
