"""Helpers for the layers-in-action tests: real exports replayed into the live layers."""

from __future__ import annotations

from pathlib import Path

from shequn.events import Event
from shequn.features.layers.counters import count_event
from shequn.features.layers.evaluate import evaluate_group
from shequn.importers.base import Source
from shequn.importers.telegram import TelegramImporter
from shequn.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample"
TZ = "Asia/Shanghai"


def export_events(path: Path) -> list[Event]:
    return sorted(
        TelegramImporter().read(Source(path=path)), key=lambda e: getattr(e, "ts", None) or 0.0
    )


def replay_layers(store: Store, platform: str, events: list[Event]) -> float:
    """Count ``events`` into the live layer tables (the archive must hold them already),
    each at its own time, then evaluate every group once; the last event's time."""
    last = 0.0
    groups = set()
    with store.engine.begin() as conn:
        for ev in events:
            ts = float(getattr(ev, "ts", 0.0) or last)
            last = max(last, ts)
            count_event(conn, platform, ev, ts, TZ)
            groups.add(ev.group_id)
        for g in sorted(groups):
            evaluate_group(conn, platform, g, last + 60, grace_days=14, tz=TZ, lang="zh")
    return last
