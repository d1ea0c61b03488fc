"""``translate`` on raw events captured from a real Synapse (tests/e2e/capture_fixtures.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendError

from shequn.events import (
    GroupSeen,
    JoinMethod,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.platforms.matrix import MatrixAdapter, MatrixError, _call, translate
from shequn.platforms.port import Adapter, Capability, PlatformError, Unsupported

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "matrix"


def raw(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def one(name: str, **kw: Any) -> Any:
    event = raw(name)
    got = translate(event["room_id"], event, **kw)
    assert len(got) == 1, got
    return got[0]


def test_chinese_message() -> None:
    event = raw("message_zh")
    got = one("message_zh", names={"@alice:localhost": "alice"})
    assert got == MessagePosted(
        "matrix",
        event["room_id"],
        event["event_id"],
        event["origin_server_ts"] / 1000,
        MemberRef("@alice:localhost", "alice"),
        "大家好，今天签到了吗？",
        MessageKind.TEXT,
    )


def test_english_message_without_names() -> None:
    got = one("message_en")
    assert got.text == "Hi all!"
    assert got.sender == MemberRef("@bob:localhost")


def test_reply_strips_the_quoted_fallback_and_keeps_mentions() -> None:
    got = one("reply")
    assert got.reply_to == raw("message_zh")["event_id"]
    assert got.text == "签到了 @alice"
    assert got.mentions == (MemberRef("@alice:localhost"),)


def test_edit_is_the_original_message_with_the_new_text() -> None:
    got = one("edit")
    assert got.message_id == raw("message_zh")["event_id"]
    assert got.text == "大家好，今天都签到了吗？"
    assert got.edited is True


def test_image() -> None:
    got = one("image")
    assert (got.kind, got.text, got.media) == (
        MessageKind.IMAGE,
        "photo.jpg",
        ("mxc://localhost/abc",),
    )


def test_own_messages_are_marked_as_the_bot() -> None:
    got = one("message_en", own_id="@bob:localhost")
    assert got.sender.is_bot and got.sender.is_operator


def test_reaction() -> None:
    got = one("reaction", names={"@bob:localhost": "bob"})
    assert got == ReactionAdded(
        "matrix",
        raw("reaction")["room_id"],
        raw("message_zh")["event_id"],
        "👍",
        member=MemberRef("@bob:localhost", "bob"),
    )


def test_join_by_invitation_names_the_inviter() -> None:
    got = one("join_invited", names={"@owner:localhost": "owner"})
    assert isinstance(got, MemberJoined)
    assert got.member == MemberRef("@bob:localhost", "bob")
    assert got.inviter == MemberRef("@owner:localhost", "owner")
    assert got.method is JoinMethod.INVITED
    assert got.event_id == raw("join_invited")["event_id"]


def test_join_of_a_public_room() -> None:
    got = one("join_public")
    assert isinstance(got, MemberJoined)
    assert (got.member.platform_id, got.inviter, got.method) == (
        "@alice:localhost",
        None,
        JoinMethod.UNKNOWN,
    )


def test_leave_on_their_own() -> None:
    got = one("leave")
    assert got == MemberLeft(
        "matrix",
        raw("leave")["room_id"],
        raw("leave")["event_id"],
        raw("leave")["origin_server_ts"] / 1000,
        MemberRef("@bob:localhost", "bob"),
    )


@pytest.mark.parametrize(
    ("name", "target"), [("kick", "@alice:localhost"), ("ban", "@carol:localhost")]
)
def test_kick_and_ban_name_who_removed(name: str, target: str) -> None:
    got = one(name)
    assert isinstance(got, MemberLeft)
    assert got.member.platform_id == target
    assert got.removed_by == MemberRef("@owner:localhost")
    assert got.kicked is True


def test_display_name_change() -> None:
    got = one("rename")
    assert isinstance(got, MemberRenamed)
    assert (got.member.platform_id, got.old_name, got.new_name) == (
        "@alice:localhost",
        "alice",
        "Alice 小爱",
    )


def test_knock_is_a_join_request_keyed_by_the_user() -> None:
    got = one("knock")
    assert isinstance(got, JoinRequested)
    assert got.request_id == "@dave:localhost"
    assert got.answer == "想加入，朋友推荐"


def test_room_rename() -> None:
    got = one("room_name")
    assert got == GroupSeen("matrix", raw("room_name")["room_id"], "shequn 群", got.ts, kind="room")


@pytest.mark.parametrize("name", ["redaction", "redacted_message", "invite", "topic", "create"])
def test_events_without_a_shequn_meaning(name: str) -> None:
    event = raw(name)
    assert translate(event["room_id"], event) == []


def test_unknown_and_malformed_events() -> None:
    assert translate("!r:hs", {"type": "m.typing", "content": {}}) == []
    assert (
        translate("!r:hs", {"type": "org.example.custom", "sender": "@a:hs", "event_id": "$x"})
        == []
    )
    avatar_only = raw("rename")
    avatar_only["content"] = dict(avatar_only["unsigned"]["prev_content"], avatar_url="mxc://x/y")
    assert translate(avatar_only["room_id"], avatar_only) == []


def test_adapter_shape_and_unsupported_card() -> None:
    adapter = MatrixAdapter("http://127.0.0.1:1", "@bot:localhost", access_token="t")
    assert isinstance(adapter, Adapter)
    assert Capability.SET_CARD not in adapter.capabilities
    assert {Capability.MUTE, Capability.KICK, Capability.APPROVE_JOIN} <= adapter.capabilities
    with pytest.raises(ValueError):
        MatrixAdapter("http://127.0.0.1:1", "@bot:localhost")


async def test_set_card_raises_unsupported() -> None:
    adapter = MatrixAdapter("http://127.0.0.1:1", "@bot:localhost", access_token="t")
    with pytest.raises(Unsupported):
        await adapter.set_card("!r:hs", "@a:hs", "card")
    await adapter.stop()


async def test_rate_limit_becomes_retry_after() -> None:
    async def limited() -> RoomSendError:
        return RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", retry_after_ms=1500)

    with pytest.raises(PlatformError) as err:
        await _call("send", limited())
    assert isinstance(err.value, MatrixError)
    assert (err.value.errcode, err.value.retry_after) == ("M_LIMIT_EXCEEDED", 1.5)


async def test_stop_ends_a_loop_that_is_waiting_out_a_dead_server() -> None:
    # Port 1 on loopback refuses at once: the loop backs off and must still stop promptly.
    adapter = MatrixAdapter("http://127.0.0.1:1", "@bot:localhost", access_token="t")
    loop = asyncio.create_task(adapter.start(_ignore))
    await asyncio.sleep(0.5)
    assert not loop.done()
    await asyncio.wait_for(adapter.stop(), 5)
    await asyncio.wait_for(loop, 1)


async def _ignore(event: Any, platform: Any) -> None:
    return None
