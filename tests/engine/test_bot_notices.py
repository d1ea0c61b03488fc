"""The early-warning channel (人工预警): alerts and tasks posted to the operators' group,
once each, a few per tick, with a link to the console."""

from __future__ import annotations

import json

from bot_transcript import GROUP, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

ALICE = user("alice", "Alice")
OPS = GroupSettings(alert_group="ops:-100777")


def posted(ops: FakePlatform) -> list[str]:
    out = [str(c.args["text"]) for c in ops.calls if c.name == "send"]
    assert all(c.args["group_id"] == "-100777" for c in ops.calls)
    ops.calls.clear()
    return out


async def test_an_uncertain_message_is_posted_to_the_operators_once(store: Store) -> None:
    chat = make_chat(store, OPS, console_url="https://console.example/")
    ops = FakePlatform(name="ops")
    chat.pipeline.attach(ops)
    await chat.say(ALICE, "maybe buy this")
    await chat.pipeline.tick()
    (alert,) = rows(store, schema.alerts)
    (text,) = posted(ops)
    lines = text.split("\n")
    assert lines[0] == f"⚠️ 人工预警 · {GROUP} · 无法确定的消息"
    assert lines[1:3] == ["成员: alice", "ad 0.55: maybe buy this"]
    assert lines[3].startswith("建议: ")
    (group,) = [r for r in rows(store, schema.groups) if r.platform_id == GROUP]
    assert lines[4] == f"处理: https://console.example/groups/{group.id}/context?m=m1"
    assert chat.take() == []  # nothing in the group itself
    await chat.pipeline.tick()
    assert posted(ops) == []  # once
    assert rows(store, schema.alerts)[0].notified_at is not None
    assert alert.status == "open"  # posting does not close it: a person does


async def test_a_burst_is_posted_a_few_per_tick(store: Store) -> None:
    chat = make_chat(store, OPS)
    ops = FakePlatform(name="ops")
    chat.pipeline.attach(ops)
    for i in range(10):
        await chat.say(user(f"u{i}"), f"maybe {i}")
    await chat.pipeline.tick()
    assert [t.split("\n")[2] for t in posted(ops)] == [f"ad 0.55: maybe {i}" for i in range(10)]


async def test_a_burst_beyond_ten_a_tick_ends_in_one_digest(store: Store) -> None:
    chat = make_chat(store, OPS, console_url="https://c.example")
    ops = FakePlatform(name="ops")
    chat.pipeline.attach(ops)
    for i in range(13):
        await chat.say(user(f"u{i}"), f"maybe {i}")
    chat.group = "g2"
    for i in range(2):
        await chat.say(user(f"v{i}"), f"maybe {i}")
    await chat.pipeline.tick()
    said = posted(ops)
    assert len(said) == 10  # never more than ten messages a tick
    assert [t.split("\n")[2] for t in said[:9]] == [f"ad 0.55: maybe {i}" for i in range(9)]
    ids = {r.platform_id: r.id for r in rows(store, schema.groups)}
    assert said[9].split("\n") == [
        "📋 另有 6 条预警和待办，合并为一条：",
        f"· {GROUP}: 无法确定的消息 4 → https://c.example/groups/{ids[GROUP]}#queue",
        f"· g2: 无法确定的消息 2 → https://c.example/groups/{ids['g2']}#queue",
    ]
    assert all(a.notified_at is not None for a in rows(store, schema.alerts))
    (digest,) = [r for r in rows(store, schema.bot_actions) if r.reason == "notice.digest"]
    assert json.loads(digest.evidence) == {"alert": [10, 11, 12, 13, 14, 15]}
    await chat.pipeline.tick()
    assert posted(ops) == []  # all of them told once; the queue keeps them open
    assert {a.status for a in rows(store, schema.alerts)} == {"open"}


async def test_without_a_channel_or_its_platform_nothing_is_posted(store: Store) -> None:
    chat = make_chat(store)  # no alert_group: the console's queue only
    await chat.say(ALICE, "maybe buy this")
    await chat.pipeline.tick()
    assert chat.take() == []
    assert rows(store, schema.alerts)[0].notified_at is not None

    later = make_chat(store, OPS)
    later.group = "g2"
    await later.say(ALICE, "maybe buy that")
    await later.pipeline.tick()  # the operators' platform is not attached yet: kept
    assert [a.notified_at for a in rows(store, schema.alerts)][1] is None
    ops = FakePlatform(name="ops")
    later.pipeline.attach(ops)
    await later.pipeline.tick()
    assert len(posted(ops)) == 1


async def test_old_alerts_are_not_posted_and_tasks_are(store: Store) -> None:
    from shequn.platforms.port import Capability

    no_kick = FakePlatform(capabilities=frozenset(Capability) - {Capability.KICK})
    chat = make_chat(store, OPS, platform=no_kick, console_url="https://c.example")
    ops = FakePlatform(name="ops")
    chat.pipeline.attach(ops)
    await chat.say(ALICE, "maybe old")
    chat.clock.advance(2 * 86400)
    for _ in range(3):
        await chat.say(ALICE, "优惠多多 加微信 abc123")  # the 3rd strike: kick, by hand here
    await chat.pipeline.tick()
    (text,) = posted(ops)
    assert text.startswith(f"📋 待人工处理 · {GROUP} · 移出成员")
    assert "member=alice" in text and text.endswith("#queue")
