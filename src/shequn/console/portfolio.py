"""The figures behind the groups portfolio and the group page, read from the archive.

Health and lifecycle stage come from :mod:`shequn.analytics.health` (the same rules
as the report) and are cached until the archive changes, since they cost one pass
over the archive. "7 days" and "30 days" end at the newest event of the archive,
as in the report, so an imported old export is judged as it was, not as "dead now".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from shequn.store import Store, schema

__all__ = ["GroupFigures", "HealthCache", "Trend", "open_escalations", "size_band", "trend_of"]


def size_band(members: int) -> str:
    """The playbook's size guidance: <30 not yet a group, >80 lively, >500 hard to run."""
    if members < 30:
        return "small"
    if members < 80:
        return "forming"
    if members <= 500:
        return "lively"
    return "large"


#: Weeks the portfolio's active-members trend shows.
TREND_WEEKS = 8


@dataclass(frozen=True, slots=True)
class Trend:
    """Weekly active members (oldest first) drawn as a small line, with its direction."""

    weeks: tuple[int, ...]
    points: str  # SVG polyline points in a 0..80 x 0..20 box
    direction: str  # up | down | flat (last 4 weeks' mean against the 4 before)

    @property
    def first(self) -> int:
        return self.weeks[0] if self.weeks else 0

    @property
    def last(self) -> int:
        return self.weeks[-1] if self.weeks else 0


def trend_of(weeks: list[int] | tuple[int, ...], *, width: int = 80, height: int = 20) -> Trend:
    """The sparkline of a weekly series; "up"/"down" when the last half moved by ≥ 10 %."""
    w = tuple(int(x) for x in weeks)
    if not w:
        return Trend((), "", "flat")
    top = max(max(w), 1)
    step = width / max(len(w) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 1 - (height - 2) * x / top:.1f}" for i, x in enumerate(w)
    )
    half = len(w) // 2
    before, after = sum(w[:half]) / max(half, 1), sum(w[half:]) / max(len(w) - half, 1)
    if half == 0 or abs(after - before) < 0.1 * max(before, 1):
        direction = "flat"
    else:
        direction = "up" if after > before else "down"
    return Trend(w, points, direction)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    id: int
    platform: str
    platform_id: str
    name: str
    members: int
    active_7d: int
    messages_7d: int
    ad_share: float  # of the last 30 days' messages
    stage: str | None
    at_risk: bool
    score: int | None
    reasons: tuple[str, ...]
    open_escalations: int = 0
    active_trend: Trend = Trend((), "", "flat")

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.platform_id)

    @property
    def band(self) -> str:
        return size_band(self.members)


def _fingerprint(conn: Connection) -> tuple[Any, ...]:
    m, e = schema.messages, schema.membership_events
    a = conn.execute(select(func.count(), func.max(m.c.id))).one()
    b = conn.execute(select(func.count(), func.max(e.c.id))).one()
    return (*a, *b)


def _compute(store: Store, lang: str) -> dict[int, dict[str, Any]]:
    from shequn.analytics import ads, health, retention, stats
    from shequn.analytics.frame import load
    from shequn.analytics.settings import AnalyticsSettings

    s = AnalyticsSettings()
    f = load(store, tz=s.tz)
    if f.groups.height == 0 or f.now is None:
        return {}
    known = stats.known_pairs(f)
    rows = health.group_health(f, ads.ad_flags(f, s), retention.join_times(f), known, s, lang=lang)
    return {int(h["group_id"]): h for h in rows}


class HealthCache:
    """Per-language health of every group, recomputed when the archive has changed.

    With a live bot the archive changes all the time; then the figures are
    recomputed at most every ``min_age`` seconds (a minute-old stage is fine).
    """

    def __init__(self, min_age: float = 60.0) -> None:
        self.min_age = min_age
        self._lock = threading.Lock()
        self._key: dict[str, tuple[Any, ...]] = {}
        self._at: dict[str, float] = {}
        self._value: dict[str, dict[int, dict[str, Any]]] = {}

    def get(self, store: Store, lang: str) -> dict[int, dict[str, Any]]:
        with store.engine.connect() as conn:
            key = _fingerprint(conn)
        with self._lock:
            fresh = time.monotonic() - self._at.get(lang, -1e18) < self.min_age
            if self._key.get(lang) != key and not (fresh and lang in self._value):
                self._value[lang] = _compute(store, lang)
                self._key[lang] = key
                self._at[lang] = time.monotonic()
            return self._value[lang]


def open_escalations(conn: Connection) -> dict[tuple[str, str], int]:
    """Open alerts plus open human tasks, per (platform, group id)."""
    out: dict[tuple[str, str], int] = {}
    for t in (schema.alerts, schema.human_tasks):
        q = (
            select(t.c.platform, t.c.group_id, func.count())
            .where(t.c.status == "open")
            .group_by(t.c.platform, t.c.group_id)
        )
        for platform, group_id, n in conn.execute(q):
            out[(platform, group_id)] = out.get((platform, group_id), 0) + int(n)
    return out


def figures(store: Store, cache: HealthCache, lang: str) -> list[GroupFigures]:
    """Every archived group with its figures: open escalations first, then at risk, then size."""
    g = schema.groups
    healths = cache.get(store, lang)
    with store.engine.connect() as conn:
        groups = conn.execute(select(g).order_by(g.c.id)).all()
        open_counts = open_escalations(conn)
    out = []
    for row in groups:
        h = healths.get(row.id, {})
        trend = h.get("trend", {})
        out.append(
            GroupFigures(
                id=row.id,
                platform=row.platform,
                platform_id=row.platform_id,
                name=row.name or row.platform_id,
                members=int(h.get("members", 0)),
                active_7d=int((trend.get("active_members") or [0])[-1]),
                messages_7d=int((trend.get("messages") or [0])[-1]),
                ad_share=float(h.get("ad_share_30d", 0.0)),
                stage=h.get("stage"),
                at_risk=bool(h.get("at_risk", False)),
                score=h.get("score"),
                reasons=tuple(h.get("reasons", ())),
                open_escalations=open_counts.get((row.platform, row.platform_id), 0),
                active_trend=trend_of((trend.get("active_members") or [])[-TREND_WEEKS:]),
            )
        )
    out.sort(key=lambda x: (-x.open_escalations, not x.at_risk, -x.members, x.id))
    return out
