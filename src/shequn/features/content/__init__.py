"""Content plans (SOP): scheduled posts, topic calendar and mass messages.

Not built yet: the handler and the tick do nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = ["ContentSettings", "handle", "tick"]


@dataclass(frozen=True, slots=True)
class ContentSettings:
    enabled: bool = True


async def handle(ctx: Context) -> bool:
    return False


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    return None
