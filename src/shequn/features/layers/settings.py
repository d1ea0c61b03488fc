"""Settings of the live member layers (``[groups.layers]`` in shequn.toml).

Only what the *live* feature adds lives here: hysteresis, honours and commands. The
layer rules and their thresholds are the analytics' (:class:`AnalyticsSettings`), so
the layer a member sees in the group is the one the batch report gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = ["LAYER_KEYS", "LayerBonus", "LayerSettings", "LayerTitles"]

#: Layer keys, best first; the same tuple as :data:`shequn.analytics.layer_texts.LAYERS`
#: (a test checks it), repeated here so that reading the bot's config does not load
#: the analytics (Polars).
LAYER_KEYS = (
    "opinion_leader",
    "co_opinion_leader",
    "spreader",
    "active",
    "participant",
    "bystander",
)

NonNeg = Annotated[int, msgspec.Meta(ge=0)]
Layer = Literal[
    "opinion_leader", "co_opinion_leader", "spreader", "active", "participant", "bystander"
]
Prefix = Annotated[str, msgspec.Meta(max_length=16)]


@dataclass(frozen=True, slots=True)
class LayerTitles:
    """Card prefix per layer (set with ``SET_CARD`` where the platform can); "": none."""

    opinion_leader: Prefix = "【核心】"
    co_opinion_leader: Prefix = "【骨干】"
    spreader: Prefix = ""
    active: Prefix = ""
    participant: Prefix = ""
    bystander: Prefix = ""

    def __post_init__(self) -> None:
        for key in LAYER_KEYS:
            prefix = getattr(self, key)
            if prefix and not prefix.strip():
                raise ValueError(f"{key}: a prefix must not be only blanks")

    def of(self, layer: str) -> str:
        return str(getattr(self, layer))

    def prefixes(self) -> tuple[str, ...]:
        return tuple(p for p in (self.of(k) for k in LAYER_KEYS) if p)


@dataclass(frozen=True, slots=True)
class LayerBonus:
    """Points credited on a promotion to a layer better than any held before."""

    opinion_leader: NonNeg = 100
    co_opinion_leader: NonNeg = 50
    spreader: NonNeg = 30
    active: NonNeg = 20
    participant: NonNeg = 0
    bystander: NonNeg = 0

    def of(self, layer: str) -> int:
        return int(getattr(self, layer))


@dataclass(frozen=True, slots=True)
class LayerSettings:
    """Member layers kept live: hysteresis, announcements, titles, points, commands."""

    enabled: bool = True
    #: A member keeps a layer this many days after its rule stopped holding
    #: (Discourse keeps TL3 through a grace period before it demotes).
    grace_days: Annotated[float, msgspec.Meta(ge=0)] = 14.0
    #: Promotions to these layers are announced in the group.
    announce: tuple[Layer, ...] = ("opinion_leader", "co_opinion_leader")
    titles: LayerTitles = field(default_factory=LayerTitles)
    bonus: LayerBonus = field(default_factory=LayerBonus)
    #: Most promotion points one member earns per day.
    bonus_daily_cap: NonNeg = 200
    #: Time zone of a "day" (active days, the daily cap); the analytics' default.
    timezone: str = "Asia/Shanghai"
    level_keywords: tuple[str, ...] = ("我的等级", "/level")
    #: Staff-only (operators and ``exempt``): counts per layer.
    stats_keywords: tuple[str, ...] = ("分层统计", "/layers")

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
