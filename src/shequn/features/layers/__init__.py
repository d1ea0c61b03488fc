"""Member layers in action (用户分层, playbook §4.2; issue 4): live, with hysteresis.

A feature handler of the live bot (priority 60) and a tick job:

* :mod:`.counters` — the handler adds each event to per-member rolling counters
  (daily buckets + running totals, a few indexed upserts: O(1) per event);
* :mod:`.evaluate` — the tick slides each group's window (the analytics' last
  ``layer_window_days`` active days), re-evaluates groups with changed members with
  the analytics' own rules (:func:`shequn.analytics.layers.assign_layers`), keeps a
  layer through ``grace_days`` before demoting, and writes ``layer_history``;
* :mod:`.honours` — announcement, card title (``SET_CARD``) and bonus points on a
  promotion;
* :mod:`.handler` — ``我的等级`` / ``/level``, staff ``分层统计``, and
  :func:`layer_lookup` (the Pipeline's ``layer_of`` for the gate's layer mode).
"""

from __future__ import annotations

from shequn.features.layers.handler import (
    LEVELS,
    commands,
    handle,
    layer_level,
    layer_lookup,
    observe,
    refresh,
    tick,
)
from shequn.features.layers.settings import LAYER_KEYS, LayerSettings

__all__ = [
    "LAYER_KEYS",
    "LEVELS",
    "LayerSettings",
    "commands",
    "handle",
    "layer_level",
    "layer_lookup",
    "observe",
    "refresh",
    "tick",
]
