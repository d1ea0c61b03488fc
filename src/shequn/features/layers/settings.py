"""Settings of the live member layers (``[groups.layers]`` in shequn.toml).

Only what the *live* feature adds lives here: hysteresis, honours and commands. The
layer rules and their thresholds are the analytics' (:class:`AnalyticsSettings`), so
the layer a member sees in the group is the one the batch report gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = [
    "LAYER_KEYS",
    "LayerActions",
    "LayerBonus",
    "LayerChannels",
    "LayerRoles",
    "LayerSettings",
    "LayerTemplates",
    "LayerTitles",
]

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


class _TextPerLayer:
    """A text per layer ("": none): no text may be only blanks; ``of(layer)`` reads it."""

    __slots__ = ()
    _WHAT: ClassVar[str] = "a text"

    def __post_init__(self) -> None:
        for key in LAYER_KEYS:
            text = getattr(self, key)
            if text and not text.strip():
                raise ValueError(f"{key}: {self._WHAT} must not be only blanks")

    def of(self, layer: str) -> str:
        return str(getattr(self, layer))


@dataclass(frozen=True, slots=True)
class LayerTitles(_TextPerLayer):
    """Card prefix per layer (set with ``SET_CARD`` where the platform can); "": none."""

    _WHAT: ClassVar[str] = "a prefix"

    opinion_leader: Prefix = "【核心】"
    co_opinion_leader: Prefix = "【骨干】"
    spreader: Prefix = ""
    active: Prefix = ""
    participant: Prefix = ""
    bystander: Prefix = ""

    def prefixes(self) -> tuple[str, ...]:
        return tuple(p for p in (self.of(k) for k in LAYER_KEYS) if p)


RoleName = Annotated[str, msgspec.Meta(max_length=100)]  # Discord's limit for role names


@dataclass(frozen=True, slots=True)
class LayerRoles(_TextPerLayer):
    """Server role per layer (Discord: the role's name), granted on entering the layer and
    taken back on leaving it; "": none. Where the platform has no roles, a task."""

    _WHAT: ClassVar[str] = "a role name"

    opinion_leader: RoleName = ""
    co_opinion_leader: RoleName = ""
    spreader: RoleName = ""
    active: RoleName = ""
    participant: RoleName = ""
    bystander: RoleName = ""


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


Channel = Literal["group", "direct"]
Template = Annotated[str, msgspec.Meta(max_length=1000)]


@dataclass(frozen=True, slots=True)
class LayerChannels:
    """Where each layer's playbook message goes: the group (public, by name) or a
    direct message (a task for a person where the platform cannot send one)."""

    opinion_leader: Channel = "direct"
    co_opinion_leader: Channel = "direct"
    spreader: Channel = "group"  # thank spreaders publicly
    active: Channel = "direct"  # the ambassador invitation is personal
    participant: Channel = "group"  # thank them by name
    bystander: Channel = "group"  # a welcome and an ice-breaker

    def of(self, layer: str) -> str:
        return str(getattr(self, layer))


@dataclass(frozen=True, slots=True)
class LayerTemplates:
    """Each layer's message (``{name}``: the member, ``{layer}``: the layer); "": built in."""

    opinion_leader: Template = ""
    co_opinion_leader: Template = ""
    spreader: Template = ""
    active: Template = ""
    participant: Template = ""
    bystander: Template = ""

    def of(self, layer: str) -> str:
        return str(getattr(self, layer))


@dataclass(frozen=True, slots=True)
class LayerActions:
    """Layers in action: the playbook action per layer, suggested in the console."""

    #: A member is "new in a layer" (and suggested) this many days after entering it.
    within_days: Annotated[float, msgspec.Meta(gt=0)] = 14.0
    #: Activity before and after an action is compared over this many days each.
    followup_days: Annotated[int, msgspec.Meta(ge=1)] = 7
    #: Grant the layer's card title (``titles``) with the action where it has one.
    grant_titles: bool = True
    channels: LayerChannels = field(default_factory=LayerChannels)
    templates: LayerTemplates = field(default_factory=LayerTemplates)


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
    #: Server roles per layer (``roles = {active = "活跃成员"}``; Discord).
    roles: LayerRoles = field(default_factory=LayerRoles)
    bonus: LayerBonus = field(default_factory=LayerBonus)
    #: Most promotion points one member earns per day.
    bonus_daily_cap: NonNeg = 200
    #: Time zone of a "day" (active days, the daily cap); the analytics' default.
    timezone: str = "Asia/Shanghai"
    level_keywords: tuple[str, ...] = ("我的等级", "/level")
    #: Staff-only (operators and ``exempt``): counts per layer.
    stats_keywords: tuple[str, ...] = ("分层统计", "/layers")
    #: The playbook action per layer, suggested to operators (console, one click).
    actions: LayerActions = field(default_factory=LayerActions)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
