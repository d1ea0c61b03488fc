"""Settings of the daily check-in (签到/打卡): keywords, points, tiers, make-ups."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["SCOPES", "CheckinSettings", "Reward", "Tier"]

#: Where a check-in counts: the group alone, or every group of its group set.
SCOPES = ("group", "set")


@dataclass(frozen=True, slots=True)
class Tier:
    """A reward for a streak of ``days``: ``bonus`` points and a title, announced once."""

    days: int
    bonus: int
    title: str

    def __post_init__(self) -> None:
        if self.days <= 0:
            raise ValueError("days: must be positive")


@dataclass(frozen=True, slots=True)
class Reward:
    """Something the operator offers for points (兑换); an operator hands it out."""

    name: str
    cost: int
    stock: int = -1  # how many may be redeemed in all (cancelled ones return); -1: no limit


@dataclass(frozen=True, slots=True)
class CheckinSettings:
    enabled: bool = True
    # "group": each group counts alone; "set": one check-in a day, one streak, one
    # points balance and one board across the group set (see :mod:`.scope`).
    scope: str = "group"
    group_set: str = ""  # with scope "set": the set's name ("": the group's own set)
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
    # Points for other behaviours (0: none), each once per thing and at most
    # ``behaviour_cap`` per behaviour per member per day (against farming).
    helpful_points: int = 5  # to the author of a message thanked in a reply or with 👍
    vote_points: int = 2  # a member's first vote in a poll
    chain_points: int = 2  # a member's first entry in a chain (接龙)
    attend_points: int = 20  # attendance checked in at an event
    behaviour_cap: int = 20
    thanks_words: tuple[str, ...] = ("谢谢", "感谢", "多谢", "thanks", "thank you", "thx")
    me_keywords: tuple[str, ...] = ("我的积分", "/me", "/points")
    redeem_keywords: tuple[str, ...] = ("兑换", "/redeem")  # alone: the catalogue
    rewards: tuple[Reward, ...] = ()  # the operator's catalogue
    weekly_top: int = 10  # the last week's top N announced and recorded on Mondays; 0: off
    weekly_bonus: tuple[int, ...] = (50, 30, 20)  # extra points for places 1, 2, 3, ...
    weekly_hour: int = 9  # local hour on Monday after which last week is announced
    # A title put in front of the weekly winners' group cards (``【本周之星】``; "": off),
    # taken off last week's holders when the week changes; a human task where the
    # platform cannot set cards.
    weekly_title: str = ""
    weekly_title_places: int = 1  # places 1..N get the title

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        if self.scope not in SCOPES:
            raise ValueError(f"scope: expected one of {', '.join(SCOPES)}, got {self.scope!r}")
        if self.group_set and self.scope != "set":
            raise ValueError('group_set: only with scope = "set"')
        if self.weekly_title != self.weekly_title.strip() or len(self.weekly_title) > 20:
            raise ValueError("weekly_title: at most 20 characters, no spaces around")
        for name in ("points", "makeup_cost", "makeup_per_month", "daily_cap", "helpful_points",
                     "vote_points", "chain_points", "attend_points", "behaviour_cap",
                     "weekly_top", "weekly_title_places"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative")
        if not -1 <= self.remind_hour <= 23:
            raise ValueError("remind_hour: must be between 0 and 23, or -1 for off")
        if not 0 <= self.weekly_hour <= 23:
            raise ValueError("weekly_hour: must be between 0 and 23")
        if any(b < 0 for b in self.weekly_bonus):
            raise ValueError("weekly_bonus: must not be negative")
        names = [r.name.casefold() for r in self.rewards]
        if any(not n.strip() for n in names) or len(set(names)) != len(names):
            raise ValueError("rewards: names must be non-empty and distinct")
        if any(r.cost <= 0 or r.stock < -1 for r in self.rewards):
            raise ValueError("rewards: a reward costs at least 1 point; stock is -1 or more")
        days = [t.days for t in self.tiers]
        if len(set(days)) != len(days):
            raise ValueError("tier days must be distinct")
