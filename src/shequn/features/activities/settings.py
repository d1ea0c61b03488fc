"""Settings of the activities (``[groups.activities]`` in shequn.toml).

Frozen dataclasses with typed fields: ``botconfig`` converts the TOML table with
msgspec, so a wrong type or a failed ``Meta`` constraint names the exact key
(``groups[0].activities.polls.default_minutes``). Nested tables are nested dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = [
    "ActivitySettings",
    "ChainSettings",
    "EventSettings",
    "IcebreakSettings",
    "LotterySettings",
    "PollSettings",
]

NonNeg = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


@dataclass(frozen=True, slots=True)
class PollSettings:
    """Polls and votes (投票)."""

    enabled: bool = True
    anyone_may_start: bool = False  # False: operators (and ``operators``) only
    default_minutes: NonNeg = 1440  # deadline when the command names none; 0: no deadline
    max_options: Annotated[int, msgspec.Meta(ge=2, le=26)] = 10
    confirm_votes: bool = True  # reply to each vote (anonymous ones without the choice)


@dataclass(frozen=True, slots=True)
class ChainSettings:
    """Chains (接龙): sign-up, story and red-packet chains."""

    enabled: bool = True
    anyone_may_start: bool = True  # a 接龙 is classically started by any member
    duplicates: Literal["refuse", "replace", "allow"] = "refuse"  # same member twice
    default_minutes: NonNeg = 0  # 0: open until the starter closes it
    max_entries: Positive = 500


@dataclass(frozen=True, slots=True)
class LotterySettings:
    """Lotteries (抽奖) tied to activity, drawn verifiably."""

    enabled: bool = True
    keyword: str = "参与抽奖"  # what members send to enter, unless the command names one
    active_days: NonNeg = 7  # entrants must have spoken in the last N days; 0: no rule
    min_points: NonNeg = 0  # entrants need at least this many check-in points
    default_minutes: NonNeg = 60  # drawn at this deadline; 0: only by command
    default_winners: Positive = 1

    def __post_init__(self) -> None:
        if not self.keyword.strip():
            raise ValueError("keyword must not be empty")


@dataclass(frozen=True, slots=True)
class EventSettings:
    """Events with sign-up (线上分享 / 线下聚会)."""

    enabled: bool = True
    remind_minutes: tuple[NonNeg, ...] = (1440, 60)  # reminders this long before start
    attend_before_minutes: NonNeg = 30  # attendance check-in opens this long before start
    attend_after_minutes: NonNeg = 180  # ... and closes this long after it
    min_city_members: Positive = 3  # a city with this many members is worth a sub-group


@dataclass(frozen=True, slots=True)
class IcebreakSettings:
    """Ice-breakers: a self-introduction prompt for newcomers, tracked done / not done."""

    enabled: bool = True
    prompt: str = ""  # {name} = newcomer; empty: the built-in text in the group's language
    min_chars: Positive = 15  # the first message this long counts as the introduction
    window_hours: Annotated[float, msgspec.Meta(gt=0)] = 72.0
    thank: bool = True  # thank the newcomer when the introduction is in


@dataclass(frozen=True, slots=True)
class ActivitySettings:
    enabled: bool = True
    timezone: str = "Asia/Shanghai"  # event times are read and shown here
    operators: tuple[str, ...] = ()  # platform ids who may run activities besides admins
    polls: PollSettings = field(default_factory=PollSettings)
    chains: ChainSettings = field(default_factory=ChainSettings)
    lottery: LotterySettings = field(default_factory=LotterySettings)
    events: EventSettings = field(default_factory=EventSettings)
    icebreak: IcebreakSettings = field(default_factory=IcebreakSettings)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
