"""QQ bot dispatches from the official documentation replayed → internal events."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shequn.events import GroupSeen, MemberRef, MessageKind, MessagePosted
from shequn.platforms.port import translate_or_skip
from shequn.platforms.qqbot import Routes, split_group, translate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qqbot"
PAYLOADS: dict[str, dict[str, Any]] = {
    f["name"]: f["payload"]
    for f in json.loads((FIXTURES / "dispatches.json").read_text(encoding="utf-8"))
}
NOW = 1_790_000_000.0


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def skip_or(payload: dict[str, Any], routes: Routes) -> list[Any]:
    """What the adapter does: translate, or skip a malformed payload with a warning."""
    return translate_or_skip("qqbot", lambda raw: translate(raw, routes, now=NOW), payload)


def run(*names: str, routes: Routes | None = None) -> list[Any]:
    routes = routes or Routes()
    out: list[Any] = []
    for name in names:
        out += skip_or(PAYLOADS[name], routes)
    return out


def test_a_group_at_message_is_posted_in_the_group_by_openid() -> None:
    [ev] = run("group_at_message")
    assert ev == MessagePosted(
        platform="qqbot",
        group_id="group:C9F778FE6ADF9D1D1DBE395BF744A33A",
        message_id="ROBOT1.0_eBIyWnxpmSu6uLQ7u7fU0eGloKGYg4eEa737vRyKnMCgyZjKi7JLYkQ9B0VapbiY",
        ts=datetime(2023, 11, 6, 5, 37, 18, tzinfo=UTC).timestamp(),
        sender=MemberRef("E4F4AEA33253A2797FB897C50B81D7ED"),  # no nickname is ever told
        text="123",  # the @bot is taken out by QQ, the space it leaves by shequn
    )


def test_a_group_image_is_an_image_with_its_url() -> None:
    [ev] = run("group_at_message_image")
    assert ev.kind == MessageKind.IMAGE
    assert ev.media == ("https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=EhQ3B0E5F6A2C",)


def test_guild_messages_are_posted_in_their_channel() -> None:
    routes = Routes()
    plain, mention, admin, image = run(
        "ready", "at_message", "at_message_mention", "message_create_admin",
        "message_create_image", routes=routes,
    )  # fmt: skip
    assert plain == MessagePosted(
        "qqbot", "channel:100010", "0812345677890abcdef", ts("2021-05-20T15:14:58+08:00"),
        MemberRef("1234", "abc"), "ndnnd",
    )  # fmt: skip
    # the bot's own mention is how one talks to it: what was said is "签到"
    assert mention.text == "签到 <@!5678>"
    assert mention.sender == MemberRef("1234", "小阿")
    assert mention.mentions == (MemberRef("5678", "def"),)
    assert admin.sender == MemberRef("4321", "mod", is_operator=True)  # role 2: 管理员
    assert admin.kind == MessageKind.LINK
    assert (image.kind, image.media) == (
        MessageKind.IMAGE, ("https://gchat.qpic.cn/qmeetpic/0/0-0-A1B2/0",),
    )  # fmt: skip
    assert routes.self_id == "6158788878435714165"
    assert routes.channel_guild == {"100010": "18700000000001"}


def test_the_bot_joining_a_group_makes_the_group_known_and_nothing_else_does() -> None:
    assert run("group_add_robot") == [
        GroupSeen("qqbot", "group:C9F778FE6ADF9D1D1DBE395BF744A33A", "", 1699240248.0, "qq_group")
    ]
    # the bot leaving, one-to-one chats, gateway housekeeping: no group event
    assert run("group_del_robot", "c2c_message", "hello", "validation") == []
    assert run("channel_create") == [
        GroupSeen("qqbot", "channel:100011", "闲聊", None, "qq_channel")
    ]


def test_guild_members_without_a_known_home_channel_are_not_placed() -> None:
    # the adapter looks the home channel up first (test_qqbot_rest); pure translation
    # without one drops the join rather than guessing a channel
    assert run("guild_member_add") == []
    routes = Routes(home_channels={"200000000": "200000101"})
    [ev] = run("guild_member_add", routes=routes)
    assert ev.group_id == "channel:200000101" and ev.member.is_bot


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("group_openid"),
        lambda d: d.update(timestamp="yesterday"),
        lambda d: d.update(author="E4F4"),
    ],
)
def test_a_malformed_payload_is_skipped_with_a_warning(
    mutate: Any, caplog: pytest.LogCaptureFixture
) -> None:
    payload = copy.deepcopy(PAYLOADS["group_at_message"])
    mutate(payload["d"])
    with caplog.at_level(logging.WARNING):
        assert skip_or(payload, Routes()) == []
    assert "qqbot: skipped a malformed payload" in caplog.text


def test_group_ids_say_their_kind() -> None:
    assert split_group("group:ABC") == ("group", "ABC")
    assert split_group("channel:100010") == ("channel", "100010")
    for bad in ("100010", "guild:1", "group:", ""):
        with pytest.raises(ValueError):
            split_group(bad)
