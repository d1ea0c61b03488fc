"""Content plans (SOP): scheduled posts, mass messages (群发) and the topic calendar.

One tick job (:func:`tick`) plans everything that falls due through the bot's outbox:
plan occurrences (:mod:`.posting`), queued mass messages under rate limits and daily
caps (:mod:`.mass`) and the day's topics (:mod:`.topics`). Where a platform cannot
post by API, the outbox turns the post into a human task with its text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shequn.features.content.mass import create_mass, release_mass, report, summary
from shequn.features.content.plans import PlanInput, create_plan, set_status, update_plan
from shequn.features.content.posting import plan_due_posts
from shequn.features.content.schedule import Schedule, occurrences, preview
from shequn.features.content.settings import ContentSettings
from shequn.features.content.topics import add_topic, run_topics

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = [
    "ContentSettings",
    "PlanInput",
    "Schedule",
    "add_topic",
    "create_mass",
    "create_plan",
    "handle",
    "occurrences",
    "preview",
    "report",
    "set_status",
    "summary",
    "tick",
    "update_plan",
]


async def handle(ctx: Context) -> bool:
    """Nothing per event: participation is read back from the archive by the tick."""
    return False


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> list[int]:
    """Plan due posts, release mass messages, run topics; the new action ids."""
    return (
        plan_due_posts(conn, platforms, settings_for, now)
        + release_mass(conn, platforms, settings_for, now)
        + run_topics(conn, platforms, settings_for, now)
    )
