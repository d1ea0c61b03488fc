"""Settings of the daily check-in (签到/打卡): keywords, points, tiers, make-ups."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CheckinSettings", "Tier"]


@dataclass(frozen=True, slots=True)
class Tier:
    """A reward for a streak of ``days``: ``bonus`` points and a title, announced once."""

    days: int
    bonus: int
    title: str


@dataclass(frozen=True, slots=True)
class CheckinSettings:
    enabled: bool = True
    timezone: str = "Asia/Shanghai"  # a "day" is a calendar day here
    keywords: tuple[str, ...] = ("签到", "打卡", "/checkin", "check in")
    makeup_keywords: tuple[str, ...] = ("补签", "/makeup")
    top_keywords: tuple[str, ...] = ("排行榜", "/top")
    points: int = 10  # per check-in
    tiers: tuple[Tier, ...] = (
        Tier(7, 50, "坚持一周"),
        Tier(21, 150, "习惯养成"),
        Tier(30, 300, "打卡达人"),
    )
    makeup_cost: int = 30  # points a make-up check-in costs
    makeup_per_month: int = 2
    daily_cap: int = 500  # most points one member earns per reason per day
    remind_hour: int = 20  # local hour after which streaks >= 3 are reminded; -1: off

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        for name in ("points", "makeup_cost", "makeup_per_month", "daily_cap"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not -1 <= self.remind_hour <= 23:
            raise ValueError("remind_hour must be between 0 and 23, or -1 for off")
        days = [t.days for t in self.tiers]
        if any(d <= 0 for d in days) or len(set(days)) != len(days):
            raise ValueError("tier days must be positive and distinct")
