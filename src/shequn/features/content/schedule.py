"""When a plan's posts fall due: pure functions of the plan, a time zone and a seed.

Times are read in the group's zone with :mod:`zoneinfo`: a 09:00 post stays at 09:00
local across daylight-saving changes (a wall time that does not exist, such as 02:30 on
the spring-forward night, moves forward by the gap; an ambiguous one takes its first
occurrence). Jitter picks a whole minute inside the window from a hash of the plan,
the group and the day, so it looks human but a restart picks the same minute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "KINDS",
    "Schedule",
    "jitter_minutes",
    "local_ts",
    "occurrences",
    "preview",
    "zone",
]

KINDS = ("once", "weekly", "after_creation", "after_join")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _hhmm(value: str, what: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what}: expected HH:MM, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A plan's timing, validated. Weekdays are 0 (Monday) to 6 (Sunday)."""

    kind: str
    at: datetime | None = None  # once: naive local date-time
    weekdays: tuple[int, ...] = ()
    start: time = time(9)
    end: time = time(9)  # exclusive; equal to ``start``: exactly at ``start``
    days: int = 0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown schedule kind {self.kind!r}")
        if self.kind == "once" and self.at is None:
            raise ValueError("a one-off post needs a date and time")
        if self.kind == "weekly" and not self.weekdays:
            raise ValueError("a weekly post needs at least one weekday")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        if self.end < self.start:
            raise ValueError("the window must end after it starts (no windows over midnight)")
        if self.kind.startswith("after_") and not 0 <= self.days <= 3650:
            raise ValueError("days must be between 0 and 3650")

    @classmethod
    def parse(
        cls,
        kind: str,
        *,
        at_local: str = "",
        weekdays: str = "",
        window_start: str = "09:00",
        window_end: str = "",
        days: int = 0,
        jitter: bool = True,
    ) -> Schedule:
        """From the stored (or submitted) strings; raises ValueError naming the field."""
        at = None
        if kind == "once":
            try:
                at = datetime.fromisoformat(at_local.strip().replace("T", " "))
            except ValueError:
                raise ValueError(
                    f"date and time: expected YYYY-MM-DD HH:MM, got {at_local!r}"
                ) from None
            at = at.replace(tzinfo=None, second=0, microsecond=0)
        try:
            wd = tuple(sorted({int(p) for p in weekdays.replace(" ", "").split(",") if p}))
        except ValueError:
            raise ValueError(f"weekdays: expected numbers 0-6, got {weekdays!r}") from None
        start = _hhmm(window_start or "09:00", "window start")
        end = _hhmm(window_end, "window end") if window_end.strip() else start
        return cls(kind, at, wd, start, end, int(days), bool(jitter))

    @classmethod
    def of(cls, row: Any) -> Schedule:
        """The schedule of a ``content_plans`` row."""
        return cls.parse(
            row.kind, at_local=row.at_local, weekdays=row.weekdays,
            window_start=row.window_start, window_end=row.window_end,
            days=row.days, jitter=row.jitter,
        )  # fmt: skip

    def window_minutes(self) -> int:
        span = datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        return int(span.total_seconds() // 60)


def jitter_minutes(seed: str, window: int) -> int:
    """A stable minute in ``[0, window)`` for ``seed`` (0 for an empty window)."""
    if window <= 0:
        return 0
    digest = hashlib.sha256(seed.encode()).digest()
    return int.from_bytes(digest[:8], "big") % window


def local_ts(day: date, at: time, tz: ZoneInfo) -> float:
    """Epoch seconds of wall time ``at`` on ``day`` in ``tz`` (DST-safe, see the module)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).timestamp()


def _on_day(s: Schedule, day: date, tz: ZoneInfo, seed: str) -> float:
    minute = jitter_minutes(f"{seed}:{day.isoformat()}", s.window_minutes()) if s.jitter else 0
    wall = datetime.combine(day, s.start) + timedelta(minutes=minute)
    return local_ts(day, wall.time(), tz)


def occurrences(
    s: Schedule,
    tz: ZoneInfo,
    start: float,
    end: float,
    seed: str,
    anchor: float | None = None,
) -> list[tuple[str, float]]:
    """``(occurrence key, due time)`` for every occurrence due in ``[start, end]``.

    ``seed`` names the plan and the group (jitter differs between groups); ``anchor`` is
    the group's creation or the member's join for the ``after_*`` kinds.
    """
    out: list[tuple[str, float]] = []
    if s.kind == "once":
        assert s.at is not None
        due = local_ts(s.at.date(), s.at.time(), tz)
        out = [("once", due)]
    elif s.kind == "weekly":
        first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, tz).date() + timedelta(days=1)
        day = first
        while day <= last:
            if day.weekday() in s.weekdays:
                out.append((day.isoformat(), _on_day(s, day, tz, seed)))
            day += timedelta(days=1)
    else:
        if anchor is None:
            return []
        day = datetime.fromtimestamp(anchor, tz).date() + timedelta(days=s.days)
        out = [(f"day{s.days}", _on_day(s, day, tz, seed))]
    return [(k, t) for k, t in out if start <= t <= end]


def preview(
    s: Schedule,
    tz: ZoneInfo,
    after: float,
    n: int,
    seed: str,
    anchor: float | None = None,
) -> list[datetime]:
    """The next ``n`` occurrences after ``after``, as aware local date-times."""
    found: list[float] = []
    lo = after
    for _ in range(60):  # 60 weeks at most: a weekly plan with one weekday fills 10 in 10
        hi = lo + 7 * 86400
        found += [t for _k, t in occurrences(s, tz, lo, hi, seed, anchor) if t > after]
        if s.kind != "weekly" or len(found) >= n:
            break
        lo = hi + 1e-6
    if s.kind != "weekly":  # a one-off or relative post: look wherever it falls
        found = [t for _k, t in occurrences(s, tz, after, float("inf"), seed, anchor) if t > after]
    found = sorted(set(found))[:n]
    return [datetime.fromtimestamp(t, tz) for t in found]
