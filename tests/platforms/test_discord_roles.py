"""Discord role grants for layers and honours: a layer change → planned role calls → REST.

The guild is the documented "Discord Testers" GUILD_CREATE of tests/fixtures/discord
(its roles: Moderators, 粉丝, and the bot's managed role ``shequn``, which carries
MANAGE_ROLES); the REST side is the adapter's transport seam, recording each request
and answering ``GET /guilds/{id}/roles`` with the guild's roles in Discord's shape.
What is asserted is the exact request Discord gets, and the outbox rows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec
import pytest
from sqlalchemy import select

from shequn.actions.moderation import carry_out
from shequn.features.layers.evaluate import Change
from shequn.features.layers.honours import honour
from shequn.features.layers.settings import LayerRoles, LayerSettings
from shequn.platforms.discord import DiscordAdapter, Response
from shequn.platforms.port import Capability, FakePlatform, capabilities_of
from shequn.store import Store, schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discord"
FRAMES: dict[str, dict[str, Any]] = {
    f["name"]: f["frame"]
    for f in json.loads((FIXTURES / "gateway.json").read_text(encoding="utf-8"))
}
GUILD, GENERAL = "197038439483310086", "41771983423143937"
MODS, FANS, BOT_ROLE = "1016700371520000001", "1016700371520000002", "1016712054424424449"
ALICE = "1016745541297135636"
T0 = 1_790_000_000.0
ROLES = LayerSettings(roles=LayerRoles(opinion_leader="Moderators", active="粉丝"))


class RolesApi:
    """The REST seam: records (method, path, reason); serves the fixture guild's roles."""

    def __init__(self, roles: list[dict[str, Any]]) -> None:
        self.roles = roles
        self.calls: list[tuple[str, str, str | None]] = []
        self.errors: dict[tuple[str, str], tuple[int, Any]] = {}

    async def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str]
    ) -> Response:
        reason = headers.get("X-Audit-Log-Reason")
        self.calls.append((method, path, unquote(reason) if reason else None))
        if (method, path) in self.errors:
            status, body = self.errors[(method, path)]
            return Response(status, {}, body)
        if method == "GET" and path == f"/guilds/{GUILD}/roles":
            return Response(200, {}, self.roles)
        if method == "POST":  # the announcement
            return Response(200, {}, {"id": "99001", "channel_id": GENERAL})
        return Response(200, {}, []) if method == "GET" else Response(204, {}, None)

    async def aclose(self) -> None:
        return None


def guild_create(bot_permissions: int | None = None) -> dict[str, Any]:
    frame = copy.deepcopy(FRAMES["guild_create"])
    if bot_permissions is not None:
        for r in frame["d"]["roles"]:
            if r["id"] == BOT_ROLE:
                r["permissions"] = str(bot_permissions)
    return frame


async def connected(api: RolesApi, frame: dict[str, Any]) -> DiscordAdapter:
    adapter = DiscordAdapter("token", transport=api, slash_commands=False,
                             check_audit_log=False, track_invites=False, clock=lambda: T0)  # fmt: skip
    for f in (FRAMES["ready"], frame):
        await adapter.events(copy.deepcopy(f))
    return adapter


def change(old: str, new: str) -> Change:
    return Change(ALICE, "小梅", old, new, best_before=old, reasons=(), card=None)


def planned(store: Store, platform: Any, c: Change, s: LayerSettings = ROLES) -> list[int]:
    with store.engine.begin() as conn:
        return honour(conn, platform, GENERAL, c, s, lang="zh", name_format="", now=T0)


def outbox(store: Store) -> list[tuple[str, str, str]]:
    t = schema.bot_actions
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.id)).all()
    return [(r.kind, json.loads(r.params).get("role", ""), r.status) for r in rows]


def open_tasks(store: Store) -> list[tuple[str, str]]:
    h = schema.human_tasks
    with store.engine.connect() as conn:
        rows = conn.execute(select(h).where(h.c.status == "open").order_by(h.c.id)).all()
    return [(r.kind, r.text) for r in rows]


async def test_a_promotion_grants_the_new_layers_role_and_takes_the_old_one(store: Store) -> None:
    api = RolesApi(guild_create()["d"]["roles"])
    adapter = await connected(api, guild_create())
    assert Capability.ROLE in capabilities_of(adapter, GENERAL)
    api.calls.clear()
    planned(store, adapter, change("active", "opinion_leader"))
    assert [r for r in outbox(store) if r[0].endswith("_role")] == [
        ("grant_role", "Moderators", "planned"), ("revoke_role", "粉丝", "planned")]  # fmt: skip
    assert await carry_out(store, adapter, now=T0) == 4  # the announcement and title too
    member = f"/guilds/{GUILD}/members/{ALICE}/roles"
    assert [c for c in api.calls if "/roles" in c[1]] == [
        ("GET", f"/guilds/{GUILD}/roles", None),  # names looked up once, then cached
        ("PUT", f"{member}/{MODS}", "layers.role"),
        ("DELETE", f"{member}/{FANS}", "layers.role"),
    ]
    assert {s for _k, _r, s in outbox(store)} == {"done"}
    # a demotion back to 'active' gives the role back and takes the moderator role
    api.calls.clear()
    planned(store, adapter, change("opinion_leader", "active"))
    assert await carry_out(store, adapter, now=T0 + 1) == 2
    assert [c[:2] for c in api.calls] == [("PUT", f"{member}/{FANS}"),
                                          ("DELETE", f"{member}/{MODS}")]  # fmt: skip


async def test_a_layer_without_a_role_and_an_unconfigured_group_plan_nothing(
    sqlite_store: Store,
) -> None:
    fake = FakePlatform()
    planned(sqlite_store, fake, change("participant", "spreader"))  # neither has a role
    planned(sqlite_store, fake, change("participant", "active"), LayerSettings())  # none set
    assert [r for r in outbox(sqlite_store) if r[0].endswith("_role")] == []
    planned(sqlite_store, fake, change("participant", "active"))
    assert outbox(sqlite_store)[-1] == ("grant_role", "粉丝", "planned")
    await carry_out(sqlite_store, fake, now=T0)
    assert fake.calls[-1].name == "grant_role"


async def test_a_role_the_server_lacks_becomes_a_task_naming_it(sqlite_store: Store) -> None:
    api = RolesApi(guild_create()["d"]["roles"])
    adapter = await connected(api, guild_create())
    s = LayerSettings(roles=LayerRoles(active="活跃成员"))
    planned(sqlite_store, adapter, change("participant", "active"), s)
    await carry_out(sqlite_store, adapter, now=T0)
    # asked twice (the cache, then fresh: it may have been created meanwhile), never PUT
    assert [c[0] for c in api.calls if "/roles" in c[1]] == ["GET", "GET"]
    assert outbox(sqlite_store) == [("grant_role", "活跃成员", "human_task")]
    [(kind, text)] = open_tasks(sqlite_store)
    assert kind == "grant_role" and "role=活跃成员" in text and f"member={ALICE}" in text


async def test_without_manage_roles_the_grant_is_a_task_from_the_start(
    sqlite_store: Store,
) -> None:
    api = RolesApi(guild_create()["d"]["roles"])
    no_roles = 1099914357926 & ~(1 << 28)  # the fixture's bot role minus MANAGE_ROLES
    adapter = await connected(api, guild_create(no_roles))
    assert Capability.ROLE not in capabilities_of(adapter, GENERAL)
    planned(sqlite_store, adapter, change("participant", "active"))
    assert outbox(sqlite_store) == [("grant_role", "粉丝", "human_task")]
    assert await carry_out(sqlite_store, adapter, now=T0) == 0
    assert [c for c in api.calls if c[0] != "GET"] == []


async def test_a_role_above_the_bots_is_refused_for_that_call_only(sqlite_store: Store) -> None:
    api = RolesApi(guild_create()["d"]["roles"])
    adapter = await connected(api, guild_create())
    member = f"/guilds/{GUILD}/members/{ALICE}/roles/{MODS}"
    api.errors[("PUT", member)] = (403, {"code": 50013, "message": "Missing Permissions"})
    planned(sqlite_store, adapter, change("co_opinion_leader", "opinion_leader"))
    await carry_out(sqlite_store, adapter, now=T0)
    t = schema.bot_actions
    with sqlite_store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.kind == "grant_role")).one()
    assert row.status == "planned" and "MANAGE_ROLES" in row.error  # retried later
    # the role order is about that role: the guild keeps the right for the others
    assert Capability.ROLE in capabilities_of(adapter, GENERAL)


def test_roles_only_where_the_adapter_has_them() -> None:
    class NoRoles:  # an adapter declaring every capability, without grant_role
        name = "onebot-like"
        capabilities = frozenset(Capability)

    assert Capability.ROLE not in capabilities_of(NoRoles(), "g")  # type: ignore[arg-type]
    assert Capability.ROLE in capabilities_of(FakePlatform(), "g")


def test_roles_are_read_from_the_group_settings() -> None:
    s = msgspec.convert({"roles": {"active": "活跃成员"}}, LayerSettings)
    assert (s.roles.of("active"), s.roles.of("opinion_leader")) == ("活跃成员", "")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"roles": {"active": "  "}}, LayerSettings)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"roles": {"active": "x" * 101}}, LayerSettings)
