"""The port's per-group capability function, the QQ official bot through it, and the console.

QQ: the official API gives a bot recall, mute and remove in a guild channel and none
of them in a QQ group; a 403 in a guild (not an admin there) teaches the adapter.
The console section is rendered by the console's own template environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capability_outbox import action, plan_one, tasks

from shequn.actions.moderation import carry_out
from shequn.console import groupview
from shequn.console.context import Console
from shequn.i18n import t
from shequn.platforms.port import (
    Capability,
    FakePlatform,
    GroupRights,
    PlatformError,
    capabilities_of,
    refused,
)
from shequn.platforms.qqbot import QQBotAdapter, Response
from shequn.platforms.qqbot.adapter import CHANNEL_CAPABILITIES, GROUP_CAPABILITIES
from shequn.platforms.qqbot.rest import Forbidden
from shequn.store import Store

QQ_GROUP = "group:C9F778FE6ADF9D1D1DBE395BF744A33A"
QQ_CHANNEL, OTHER_CHANNEL = "channel:100010", "channel:100020"
T0 = 1_791_000_000.0


class PerGroup(FakePlatform):
    """A fake platform whose bot may delete only in group "a"."""

    def capabilities_for(self, group_id: str) -> frozenset[Capability]:
        return self.capabilities if group_id == "a" else self.capabilities - {Capability.DELETE}


def test_capabilities_of_falls_back_and_never_exceeds_the_adapter_set() -> None:
    plain = FakePlatform(capabilities=frozenset({Capability.SEND}))
    assert capabilities_of(plain, "any") == {Capability.SEND}
    per = PerGroup()
    assert Capability.DELETE in capabilities_of(per, "a")
    assert Capability.DELETE not in capabilities_of(per, "b")
    narrow = PerGroup(capabilities=frozenset({Capability.SEND}))
    assert capabilities_of(narrow, "a") == {Capability.SEND}
    assert refused(plain, "a", Capability.SEND, PlatformError("no")) is False


def test_group_rights() -> None:
    rights = GroupRights(frozenset({Capability.SEND, Capability.DELETE, Capability.MUTE}))
    assert rights("g") == rights.declared and not rights.known("g")
    rights.refuse("g", Capability.MUTE)
    assert rights("g") == {Capability.SEND, Capability.DELETE} and rights.known("g")
    rights.learn("g", {Capability.SEND, Capability.MUTE, Capability.KICK})  # KICK not declared
    assert rights("g") == {Capability.SEND, Capability.MUTE}  # and the refusal is forgotten
    rights.forget("g")
    assert rights("g") == rights.declared


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.answers: dict[str, Response] = {}

    async def request(self, method: str, path: str, *, json: Any = None) -> Response:
        self.calls.append((method, path))
        if path in self.answers:
            return self.answers[path]
        if path.startswith("/channels/") and method == "GET":
            return Response(200, {}, {"id": path.rsplit("/", 1)[1], "guild_id": "9000"})
        return Response(204, {}, None)

    async def aclose(self) -> None:
        return None


async def test_qq_groups_and_channels_through_the_outbox(sqlite_store: Store) -> None:
    store = sqlite_store
    transport = Recording()
    adapter = QQBotAdapter("secret", "102000000", transport=transport, clock=lambda: T0)
    assert capabilities_of(adapter, QQ_GROUP) == GROUP_CAPABILITIES
    assert capabilities_of(adapter, QQ_CHANNEL) == CHANNEL_CAPABILITIES
    in_group = plan_one(store, adapter, QQ_GROUP, "delete", T0, message_id="m1")
    in_channel = plan_one(store, adapter, QQ_CHANNEL, "delete", T0, message_id="m2")
    assert action(store, in_group).status == "human_task"
    assert "no delete by API" in action(store, in_group).error
    assert await carry_out(store, adapter, now=T0) == 1
    assert transport.calls == [("DELETE", "/channels/100010/messages/m2")]
    assert action(store, in_channel).status == "done"
    # in another guild the bot is no admin: QQ answers 11282 and the adapter learns it
    transport.answers["/guilds/9000/members/u1/mute"] = Response(
        403, {}, {"code": 11282, "message": "need admin"})  # fmt: skip
    mute = plan_one(store, adapter, OTHER_CHANNEL, "mute", T0, member_id="u1", seconds=60)
    await carry_out(store, adapter, now=T0)
    assert action(store, mute).status == "planned"
    assert Capability.MUTE not in capabilities_of(adapter, OTHER_CHANNEL)
    assert Capability.MUTE in capabilities_of(adapter, QQ_CHANNEL)
    await carry_out(store, adapter, now=T0 + 10)
    assert action(store, mute).status == "human_task"
    assert tasks(store) == [(QQ_GROUP, "delete"), (OTHER_CHANNEL, "mute")]
    token = Forbidden("QQ access token refused for app 102000000")
    assert adapter.learn_refusal(QQ_CHANNEL, Capability.KICK, token) is False


def _render(caps: groupview.CapabilitySet, lang: str) -> str:
    env = Console(store=None).env  # type: ignore[arg-type]
    ctx: Mapping[str, Any] = {"t": lambda key, **kw: t(key, lang=lang, **kw),
                              "capabilities": caps}  # fmt: skip
    return env.get_template("group_capabilities.html").render(**ctx)


def test_the_console_shows_the_groups_set() -> None:
    adapter = QQBotAdapter("secret", "102000000", transport=Recording())
    live = groupview.capabilities({"qqbot": adapter}, ("qqbot", QQ_GROUP))
    assert live.source == "live"
    can = {line.capability: line.can for line in live.lines}
    assert can["send"] is True and can["delete"] is False and can["mute"] is False
    html = _render(live, "en")
    assert "What the bot can do here" in html
    delete = html.split('data-testid="cap-delete"')[1].split("</li>")[0]
    assert "not here" in delete and "becomes a task for a person" in delete
    send = html.split('data-testid="cap-send"')[1].split("</li>")[0]
    assert "by the bot" in send and "task" not in send
    assert "转为人工任务" in _render(live, "zh")
    # no live bot: what the adapter declares for that platform name, or unknown
    offline = groupview.capabilities({}, ("telegram", "-100123"))
    assert offline.source == "declared"
    assert {line.capability for line in offline.lines if not line.can} == {"role", "set_card"}
    nothing = groupview.capabilities({}, ("irc", "#shequn"))
    assert nothing.source == "unknown" and all(line.can is None for line in nothing.lines)
    assert "unknown" in _render(nothing, "en")
