"""Invite links / 群活码 with per-link attribution, and fission (裂变) campaigns.

:func:`handle` sees each event (joins and leaves, to attribute and qualify invites);
:func:`tick` settles what time decides (an invite qualifies after the invitee stayed
N days; rewards at thresholds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shequn.features.invites.settings import InvitesSettings

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = ["InvitesSettings", "handle", "tick"]


async def handle(ctx: Context) -> bool:
    return False


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> list[int]:
    return []
