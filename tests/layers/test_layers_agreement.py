"""The live layers agree with the batch report on a real export replayed as live events.

The bundled Telegram exports (``examples/sample/*.json``, 11 threads of a public tech
group, ~930 messages) go through the Telegram importer into events and through the
real Pipeline one by one, the clock at each event's time; one tick at the end. Then
the batch analytics run over the archive the pipeline wrote, and each member's rule
layer (``computed``, before hysteresis) is compared with the batch layer.

Tolerance: none. All 46 members get the same layer; their counters agree except
where the two differ by design:

* a message that an earlier handler stops (a moderation strike, a check-in or
  activity command, a gate answer) is archived but not counted live. The stand-in
  moderator lets every text through, but the flood watch deletes one member's
  burst of 7 forwards as spam: 7 messages fewer live, the same layer;
* hysteresis: the *held* layer may be above the rules for ``grace_days``; on one
  replay with one tick at the end nobody can fall, so held equals computed here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot_transcript import Clock, make_pipeline, rows

from shequn.analytics import load
from shequn.analytics.layer_texts import LAYERS
from shequn.analytics.layers import assign_layers
from shequn.analytics.settings import AnalyticsSettings
from shequn.analytics.stats import active_day_window, known_pairs, member_stats
from shequn.botconfig import GroupSettings
from shequn.events import Event
from shequn.features.layers import LAYER_KEYS
from shequn.features.moderation.verdict import Verdict
from shequn.importers.base import Source
from shequn.importers.telegram import TelegramImporter
from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample"


def allow_all(text: str, kind: str, mentions: int, allow: object = None) -> Verdict:
    return Verdict(text, "ok", 0.99)


def export_events() -> list[Event]:
    events: list[Event] = []
    for path in sorted(SAMPLE.glob("*.json")):
        events += TelegramImporter().read(Source(path=path))
    return sorted(events, key=lambda e: getattr(e, "ts", None) or 0.0)


def batch_pairs(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """``(group, member) -> {layer, counts...}`` by platform ids, as the report computes it."""
    s = AnalyticsSettings()
    f = load(store, tz=s.tz)
    since = active_day_window(f, s.layer_window_days)
    window = member_stats(f, by_group=True, since=since, known=known_pairs(f))
    pairs = assign_layers(window, f.members, s)
    gids = dict(f.groups.select("group_id", "platform_id").iter_rows())
    mids = dict(f.members.select("member_id", "platform_id").iter_rows())
    return {
        (gids[r["group_id"]], mids[r["member_id"]]): {**r, "layer": LAYERS[r["layer"]]}
        for r in pairs.iter_rows(named=True)
    }


#: Live counter -> batch column.
COUNTS = {
    "messages": "messages",
    "active_days": "active_days",
    "reach": "reach",
    "replies": "replies_received",
    "mentions": "mentions_received",
    "forwards": "forwards",
}


def test_the_layer_tuple_is_the_analytics_one() -> None:
    assert LAYER_KEYS == LAYERS


async def test_live_layers_agree_with_the_batch_report(store: Store) -> None:
    events = export_events()
    assert len(events) > 900
    clock = Clock(0.0)
    pipeline = make_pipeline(store, GroupSettings(), clock, moderate=allow_all)
    platform = FakePlatform(name="telegram")
    for ev in events:
        clock.now = getattr(ev, "ts", None) or clock.now
        await pipeline.handle(ev, platform)
    await pipeline.tick(clock.now)

    batch = batch_pairs(store)
    live = {(r.group_id, r.member_id): r for r in rows(store, schema.layer_members)}
    assert live.keys() == batch.keys()
    assert len(batch) == 46  # one group (the threads are one supergroup), 46 members
    layers = {k: (b["layer"], live[k].computed) for k, b in batch.items()}
    assert {b for b, _ in layers.values()} >= {"opinion_leader", "participant", "active"}
    assert {k: v for k, v in layers.items() if v[0] != v[1]} == {}
    assert all(r.layer == r.computed for r in live.values())

    # The counters agree too, except for messages moderation removed: the flood watch
    # takes one member's burst of 7 forwards for spam and deletes them, which stops the
    # handlers (no layer credit for spam); the archive, and so the report, keeps them.
    struck: dict[str, int] = {}
    for strike in rows(store, schema.strikes):
        struck[strike.member_id] = struck.get(strike.member_id, 0) + 1
    assert struck == {"user900000006": 7}
    for key, b in batch.items():
        lost = struck.get(key[1], 0)
        got = {c: getattr(live[key], c) for c in COUNTS}
        want = {c: b[col] for c, col in COUNTS.items()}
        want["messages"] -= lost
        want["forwards"] -= lost
        assert got == want, key
