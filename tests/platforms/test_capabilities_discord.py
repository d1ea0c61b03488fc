"""Discord: the bot's permissions per channel, from the gateway's roles, member and overwrites.

The frames are the documented READY / GUILD_CREATE of tests/fixtures/discord (the
"Discord Testers" example guild) with the bot's managed role added as Discord adds it
when a bot is invited with permissions; role, member and channel updates follow the
Gateway Events shapes. REST calls go to a recording transport.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from capability_outbox import action, plan_one, tasks

from shequn.actions.moderation import carry_out
from shequn.platforms.discord import DiscordAdapter, Response
from shequn.platforms.discord.rest import Forbidden
from shequn.platforms.discord.rights import permissions_in
from shequn.platforms.port import Capability, capabilities_of
from shequn.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
FRAMES: dict[str, dict[str, Any]] = {
    f["name"]: f["frame"]
    for f in json.loads((FIXTURES / "gateway.json").read_text(encoding="utf-8"))
}
GUILD, GENERAL, WELCOME, NEWS = (
    "197038439483310086", "41771983423143937", "1016781634200866817", "278325129692446722"
)  # fmt: skip
BOT, BOT_ROLE = "1016712054424424448", "1016712054424424449"
MANAGE_MESSAGES, MODERATE, KICK, BAN, SEND = 1 << 13, 1 << 40, 1 << 1, 1 << 2, 1 << 11
T0 = 1_790_000_000.0


class Recording:
    """The REST transport seam: records calls, answers 204 / [] or a configured error."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.errors: dict[tuple[str, str], tuple[int, Any]] = {}

    async def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str]
    ) -> Response:
        self.calls.append((method, path))
        if (method, path) in self.errors:
            status, body = self.errors[(method, path)]
            return Response(status, {}, body)
        return Response(200, {}, []) if method == "GET" else Response(204, {}, None)

    async def aclose(self) -> None:
        return None


def guild_create() -> dict[str, Any]:
    """GUILD_CREATE with the bot's managed role and two channels' overwrites."""
    frame = copy.deepcopy(FRAMES["guild_create"])
    d = frame["d"]
    d["roles"] = [r for r in d["roles"] if r["id"] != BOT_ROLE]
    d["roles"].append({"id": BOT_ROLE, "name": "shequn", "color": 0, "hoist": False,
                       "position": 3, "permissions": str(MANAGE_MESSAGES | MODERATE | KICK),
                       "managed": True, "mentionable": False, "flags": 0,
                       "tags": {"bot_id": BOT}})  # fmt: skip
    for m in d["members"]:
        if m["user"]["id"] == BOT:
            m["roles"] = [BOT_ROLE]
    for ch in d["channels"]:
        if ch["id"] == WELCOME:  # the bot's role may not manage messages in #welcome
            ch["permission_overwrites"] = [
                {"id": BOT_ROLE, "type": 0, "allow": "0", "deny": str(MANAGE_MESSAGES)}
            ]
        if ch["id"] == NEWS:  # announcements: nobody posts but the bot by member overwrite
            ch["permission_overwrites"] = [
                {"id": GUILD, "type": 0, "allow": "0", "deny": str(SEND)},
                {"id": BOT, "type": 1, "allow": str(SEND), "deny": "0"}]  # fmt: skip
    return frame


def dispatch(t: str, d: dict[str, Any]) -> dict[str, Any]:
    return {"op": 0, "t": t, "s": 40, "d": d}


async def connected(transport: Recording, *frames: dict[str, Any]) -> DiscordAdapter:
    adapter = DiscordAdapter("token", transport=transport, slash_commands=False,
                             check_audit_log=False, clock=lambda: T0)  # fmt: skip
    for frame in (FRAMES["ready"], *frames):
        await adapter.events(copy.deepcopy(frame))
    return adapter


def test_permissions_follow_the_documented_order() -> None:
    roles = {GUILD: SEND, "r1": MANAGE_MESSAGES, "r2": 1 << 3}  # r2: ADMINISTRATOR
    common: dict[str, Any] = dict(guild_id=GUILD, owner_id="owner", member_id=BOT,
                                  role_permissions=roles)  # fmt: skip
    assert permissions_in(member_roles=set(), overwrites=None, **common) == SEND
    assert permissions_in(member_roles={"r2"}, overwrites=None, **common) & BAN
    assert permissions_in(member_roles=set(), overwrites=None,
                          **{**common, "member_id": "owner"}) & BAN  # fmt: skip
    # @everyone denies, a role allows back, the member overwrite has the last word
    ows = [{"id": GUILD, "type": 0, "allow": "0", "deny": str(SEND)},
           {"id": "r1", "type": 0, "allow": str(SEND), "deny": "0"},
           {"id": BOT, "type": 1, "allow": "0", "deny": str(MANAGE_MESSAGES)}]  # fmt: skip
    assert permissions_in(member_roles=set(), overwrites=ows, **common) & SEND == 0
    got = permissions_in(member_roles={"r1"}, overwrites=ows, **common)
    assert got & SEND and not got & MANAGE_MESSAGES


async def test_rights_per_channel_from_the_gateway_and_kept_current() -> None:
    transport = Recording()
    # a bot with no role of its own has @everyone's permissions: it can only talk
    plain = copy.deepcopy(FRAMES["guild_create"])
    for m in plain["d"]["members"]:
        if m["user"]["id"] == BOT:
            m["roles"] = []
    bare = await connected(transport, plain)
    assert capabilities_of(bare, GENERAL) == {Capability.SEND, Capability.REPLY,
                                              Capability.FETCH_MEDIA}  # fmt: skip
    adapter = await connected(transport, guild_create())
    general = capabilities_of(adapter, GENERAL)
    assert {Capability.DELETE, Capability.MUTE, Capability.KICK} <= general
    assert Capability.BAN not in general and Capability.SET_CARD not in general
    assert Capability.DELETE not in capabilities_of(adapter, WELCOME)  # the overwrite
    assert Capability.MUTE in capabilities_of(adapter, WELCOME)  # guild-wide
    assert Capability.SEND in capabilities_of(adapter, NEWS)  # member overwrite allows
    # an admin gives the bot's role BAN_MEMBERS
    role = next(r for r in guild_create()["d"]["roles"] if r["id"] == BOT_ROLE)
    await adapter.events(dispatch("GUILD_ROLE_UPDATE", {"guild_id": GUILD, "role": {
        **role, "permissions": str(MANAGE_MESSAGES | MODERATE | KICK | BAN)}}))  # fmt: skip
    assert Capability.BAN in capabilities_of(adapter, GENERAL)
    # ... then takes the role off the bot
    member = copy.deepcopy(FRAMES["member_update_roles"]["d"])
    member.update(roles=[], user={"id": BOT, "username": "shequn", "bot": True})
    await adapter.events(dispatch("GUILD_MEMBER_UPDATE", member))
    assert Capability.DELETE not in capabilities_of(adapter, GENERAL)
    # a channel overwrite that lets the bot's member manage messages in #general
    channel = next(c for c in guild_create()["d"]["channels"] if c["id"] == GENERAL)
    await adapter.events(dispatch("CHANNEL_UPDATE", {**channel, "guild_id": GUILD,
        "permission_overwrites": [{"id": BOT, "type": 1, "allow": str(MANAGE_MESSAGES),
                                   "deny": "0"}]}))  # fmt: skip
    assert Capability.DELETE in capabilities_of(adapter, GENERAL)


async def test_the_outbox_calls_where_the_bot_may_and_asks_a_person_where_not(
    sqlite_store: Store,
) -> None:
    store = sqlite_store
    transport = Recording()
    adapter = await connected(transport, guild_create())
    transport.calls.clear()
    here = plan_one(store, adapter, GENERAL, "delete", T0, message_id="1551597209387008000")
    there = plan_one(store, adapter, WELCOME, "delete", T0, message_id="1551597209387008001")
    ban = plan_one(store, adapter, GENERAL, "ban", T0, member_id="1016745541297135636")
    assert [action(store, a).status for a in (here, there, ban)] == [
        "planned", "human_task", "human_task"]  # fmt: skip
    assert tasks(store) == [(WELCOME, "delete"), (GENERAL, "ban")]
    assert await carry_out(store, adapter, now=T0) == 1
    assert transport.calls == [("DELETE", f"/channels/{GENERAL}/messages/1551597209387008000")]


async def test_a_403_teaches_only_where_the_gateway_has_not_said() -> None:
    transport = Recording()
    adapter = await connected(transport, guild_create())
    refusal = Forbidden("Discord: the bot lacks the KICK_MEMBERS permission (50013)")
    # the guild is known and says KICK_MEMBERS: a 403 is the role order, about one member
    assert adapter.learn_refusal(GENERAL, Capability.KICK, refusal) is False
    assert Capability.KICK in capabilities_of(adapter, GENERAL)
    # a channel-level right the gateway says it has, refused: the channel loses it ...
    assert adapter.learn_refusal(GENERAL, Capability.DELETE, refusal) is True
    assert Capability.DELETE not in capabilities_of(adapter, GENERAL)
    # ... until the gateway next says something about the guild's roles
    role = next(r for r in guild_create()["d"]["roles"] if r["id"] == BOT_ROLE)
    await adapter.events(dispatch("GUILD_ROLE_UPDATE", {"guild_id": GUILD, "role": role}))
    assert Capability.DELETE in capabilities_of(adapter, GENERAL)
    # a guild the gateway never described: the adapter-wide set, less what a 403 taught
    elsewhere = "999000111222333444"
    assert capabilities_of(adapter, elsewhere) == adapter.capabilities
    assert adapter.learn_refusal(elsewhere, Capability.MUTE, refusal) is True
    assert capabilities_of(adapter, elsewhere) == adapter.capabilities - {Capability.MUTE}
    assert adapter.learn_refusal(elsewhere, Capability.BAN, TimeoutError("slow")) is False
