"""The moderation transcript on QQ: dispatches → the real adapter → the real Pipeline →
OpenAPI calls on a loopback fake, or human tasks where QQ gives the bot no API.

In a guild channel an ad is recalled and answered with a warning (a passive reply
to the ad), a second one recalled and its poster muted guild-wide. In a QQ group the
same ads cannot be recalled nor their poster muted: those become human tasks, and
the warning still goes out as a passive reply (``msg_id`` + ``msg_seq``) within the
five-minute window.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from bot_transcript import Clock, audit, params, rows, stand_in_moderate
from test_qqbot_rest import (
    GROUP,
    GROUP_OPENID,
    FakeQQApi,
    api,
    channel_message,
    group_message,
    make_adapter,
)

from shequn.botconfig import GroupSettings
from shequn.events import Event
from shequn.pipeline import Pipeline
from shequn.platforms.port import Platform
from shequn.platforms.qqbot import QQBotAdapter
from shequn.store import Store, schema

__all__ = ["api"]  # the fixture, imported for its side effect

AD = "优惠多多 加微信 abc123"
T0 = 1_790_000_000.0


async def transcript(
    store: Store, adapter: QQBotAdapter, clock: Clock, payloads: list[dict[str, Any]]
) -> None:
    pipeline = Pipeline(store, stand_in_moderate, lambda _p, _g: GroupSettings(), clock)

    async def handle(event: Event, platform: Platform) -> None:
        await pipeline.handle(event, platform)

    for payload in payloads:
        clock.advance(1)
        await adapter.deliver(payload, handle)


async def test_an_ad_in_a_guild_channel_is_recalled_warned_and_muted(
    store: Store, api: tuple[FakeQQApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0)
    adapter = make_adapter(base, clock)
    ads = [channel_message("A1", T0 + 1, f"<@!6158788878435714165> {AD}"),
           channel_message("A2", T0 + 2, AD)]  # fmt: skip
    await transcript(store, adapter, clock, [channel_message("A0", T0, "大家好"), *ads])
    warn = "@abc 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。"
    assert fake.acts() == [
        ("DELETE", "/channels/100010/messages/A1", None),
        ("POST", "/channels/100010/messages", {"content": warn, "msg_id": "A1"}),
        ("DELETE", "/channels/100010/messages/A2", None),
        ("PATCH", "/guilds/18700000000001/members/1234/mute", {"mute_seconds": "3600"}),
        (
            "POST",
            "/channels/100010/messages",  # a passive reply: within the window, free
            {
                "content": "@abc 因发布广告（第 2 次违规）被禁言 1 小时。如有误判，可发送「申诉 理由」。",
                "msg_id": "A2",
            },
        ),
    ]
    assert audit(store) == [
        ("delete", "done", "strike.ad", params(message_id="A1")),
        ("send", "done", "strike.ad", params(text=warn)),
        ("delete", "done", "strike.ad", params(message_id="A2")),
        ("mute", "done", "strike.ad", params(seconds=3600)),
        ("send", "done", "strike.ad",
         params(text="@abc 因发布广告（第 2 次违规）被禁言 1 小时。如有误判，可发送「申诉 理由」。",
                after=next(r.id for r in rows(store, schema.bot_actions) if r.kind == "mute"))),
    ]  # fmt: skip
    assert rows(store, schema.human_tasks) == []
    await adapter.aclose()


async def test_the_same_ad_in_a_qq_group_becomes_human_tasks_and_a_passive_warning(
    store: Store, api: tuple[FakeQQApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0)
    adapter = make_adapter(base, clock)
    await transcript(store, adapter, clock, [group_message("G1", T0 + 1, f" {AD}"),
                                             group_message("G2", T0 + 2, f" {AD}")])  # fmt: skip
    member = "E4F4AEA33253A2797FB897C50B81D7ED"
    warn = f"@{member} 请勿发布广告，这是第 1 次违规，再犯将被禁言或移出。如有误判，可发送「申诉 理由」。"
    # the only call QQ allows: the warning, answering the ad within the window
    assert fake.acts() == [
        ("POST", f"/v2/groups/{GROUP_OPENID}/messages",
         {"content": warn, "msg_type": 0, "msg_id": "G1", "msg_seq": 1}),
    ]  # fmt: skip
    assert [(kind, status) for kind, status, _, _ in audit(store)] == [
        ("delete", "human_task"),
        ("send", "done"),
        ("delete", "human_task"),
        ("mute", "human_task"),
    ]
    tasks = [(t.group_id, t.member_id, t.kind, t.status) for t in rows(store, schema.human_tasks)]
    assert tasks == [
        (GROUP, member, "delete", "open"),
        (GROUP, member, "delete", "open"),
        (GROUP, member, "mute", "open"),
    ]
    texts = [t.text for t in rows(store, schema.human_tasks)]
    assert "message_id=G1" in texts[0] and "seconds=3600" in texts[2]
    errors = [r.error for r in rows(store, schema.bot_actions) if r.status == "human_task"]
    assert errors and all("qqbot: no " in e and "by API here" in e for e in errors)
    await adapter.aclose()


async def test_a_warning_after_the_window_is_a_human_task_in_a_qq_group(
    store: Store, api: tuple[FakeQQApi, str]
) -> None:
    fake, base = api
    clock = Clock(T0 + 600)  # the ad reaches the bot ten minutes late (a redelivery)
    adapter = make_adapter(base, clock)
    await transcript(store, adapter, clock, [group_message("G1", T0, f" {AD}")])
    assert fake.acts() == []
    sends = [r for r in rows(store, schema.bot_actions) if r.kind == "send"]
    assert [(r.status, "passive-reply window" in r.error) for r in sends] == [("human_task", True)]
    await adapter.aclose()
