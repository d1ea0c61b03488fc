"""The pipeline with the real Moderator (not the stand-in): an ad is struck, chat is not."""

from __future__ import annotations

import json

import pytest
from bot_transcript import GROUP, make_chat, rows, user

from shequn.botconfig import GroupSettings
from shequn.commands.bot import moderator_callable
from shequn.pipeline import Moderate
from shequn.store import Store, schema

engine = pytest.importorskip("shequn.features.moderation.engine")


@pytest.fixture(scope="module")
def moderate() -> Moderate:
    return moderator_callable(engine.Moderator())


async def test_real_moderator_in_the_pipeline(store: Store, moderate: Moderate) -> None:
    settings = GroupSettings(allow=("coffee.example.org",))
    chat = make_chat(store, settings, moderate=moderate)
    alice = user("alice", "Alice")
    await chat.say(alice, "今天天气不错，大家早上好")
    await chat.say(alice, "菜单在 http://coffee.example.org/menu")  # allowed domain
    assert chat.take() == []
    await chat.say(alice, "兼职日结，加微信 abc12345 免费领取，点击 http://spam.cn/x")
    calls = chat.take()
    assert calls[0] == ("delete", {"group_id": GROUP, "message_id": "m3"})
    assert calls[1][0] == "send"
    (strike,) = rows(store, schema.strikes)
    reasons = json.loads(strike.evidence)["reasons"]
    assert strike.rule == "ad" and any(r[1] == "加微信" for r in reasons)
