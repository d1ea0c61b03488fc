"""Activities in the groups (事件驱动): polls, chains (接龙), lotteries, events, ice-breakers.

A feature handler of the live bot (priority 35) and a tick job. Each activity keeps
its own tables (:mod:`shequn.store.schema.activities`); all it says is planned with
``ctx.plan`` and carried out after the commit, like every other feature. The modules:

* :mod:`.polls` — ``/poll`` / ``发起投票``, ``投1``, ``投票结果``, deadline close;
* :mod:`.chains` — ``#接龙``, ``接龙 内容`` and numbered reposts, edits, close;
* :mod:`.lottery` and :mod:`.draw` — eligibility by activity and points, a committed
  secret and a recomputable draw (``shequn activity verify-draw``);
* :mod:`.events` and :mod:`.cities` — sign-up with capacity and waiting list,
  reminders, attendance; city sub-groups from members' stated cities;
* :mod:`.icebreak` — self-introduction prompts, tracked done / not done.
"""

from __future__ import annotations

from shequn.features.activities.cities import city_of, suggest_city_groups
from shequn.features.activities.draw import (
    DrawCheck,
    commitment,
    draw_seed,
    pick_winners,
    verify_draw,
)
from shequn.features.activities.handler import handle, tick
from shequn.features.activities.settings import (
    ActivitySettings,
    ChainSettings,
    EventSettings,
    IcebreakSettings,
    LotterySettings,
    PollSettings,
)

__all__ = [
    "ActivitySettings",
    "ChainSettings",
    "DrawCheck",
    "EventSettings",
    "IcebreakSettings",
    "LotterySettings",
    "PollSettings",
    "city_of",
    "commitment",
    "draw_seed",
    "handle",
    "pick_winners",
    "suggest_city_groups",
    "tick",
    "verify_draw",
]
