"""Shared bits of the activity transcripts: people, settings, reading what was said."""

from __future__ import annotations

from typing import Any

from bot_transcript import Chat, make_chat, user

from shequn.botconfig import GroupSettings
from shequn.features.activities import ActivitySettings
from shequn.store import Store

ADMIN = user("boss", "Boss", is_operator=True)
ALICE, BOB, CAROL = user("alice", "Alice"), user("bob", "Bob"), user("carol", "Carol")
DAVE, ERIN, FRANK = user("dave", "Dave"), user("erin", "Erin"), user("frank", "Frank")


def chat_with(store: Store, language: str = "zh", **activities: Any) -> Chat:
    settings = GroupSettings(language=language, activities=ActivitySettings(**activities))
    return make_chat(store, settings)


def said(chat: Chat) -> list[str]:
    """Texts sent since the last call (replies and announcements alike)."""
    return [args["text"] for name, args in chat.take() if name == "send"]


def replies(chat: Chat) -> list[tuple[str | None, str]]:
    """(reply_to, text) of the sends since the last call."""
    return [(args["reply_to"], args["text"]) for name, args in chat.take() if name == "send"]


async def tick(chat: Chat, at: float) -> list[str]:
    """Run the bot's periodic tick at ``at`` and return what it sent."""
    chat.clock.now = at
    await chat.pipeline.tick(at)
    return said(chat)
