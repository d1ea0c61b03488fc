"""Member layers in action: kept live from the bot's events, with hysteresis.

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

__all__ = ["LayerSettings", "handle", "tick"]


@dataclass(frozen=True, slots=True)
class LayerSettings:
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
