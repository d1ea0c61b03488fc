"""Settings of content plans, mass messages and topics (``[groups.content]`` in shequn.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = ["ContentSettings"]


@dataclass(frozen=True, slots=True)
class ContentSettings:
    enabled: bool = True
    # A plan without a time zone of its own is read in this one (the group's zone).
    timezone: str = "Asia/Shanghai"
    # An occurrence found later than this (the bot was down) is recorded as missed,
    # not posted: a "good morning" at 3 pm does more harm than good.
    late_minutes: Annotated[int, msgspec.Meta(ge=0)] = 120
    # Mass messages (群发) on this group's platform: average messages per second over
    # all groups of the platform, and at most this many bursts' worth (10 s) at once.
    mass_per_second: Annotated[float, msgspec.Meta(gt=0, le=100)] = 1.0
    # Mass messages one group receives per local calendar day; the rest wait a day.
    mass_daily_cap: Annotated[int, msgspec.Meta(ge=1)] = 3
    # Topic calendar: participation is counted over this many minutes after the topic.
    topic_watch_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 60

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
