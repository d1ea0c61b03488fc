"""When people talk: the weekday × hour heatmap and daily message counts.

Both count speech (every message but service messages) from anyone but bots, in
the settings' time zone, so that an operator plans posts (playbook §2.3: morning
news at 9–10, a video at 13–14) for the hours members are really there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from shequn.analytics.frame import Frames

__all__ = ["daily_counts", "heatmap"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _talk(f: Frames) -> pl.DataFrame:
    return f.messages.filter(pl.col("speech") & ~pl.col("is_bot"))


def heatmap(f: Frames) -> dict[str, Any]:
    """``{tz, weekday_hour: 7×24 counts (Monday first), peak: {weekday, hour}}``.

    ``peak.weekday`` is 0 for Monday (the row index); ties go to the earliest cell.
    ``peak`` is null when there are no messages.
    """
    grid = [[0] * 24 for _ in range(7)]
    cells = _talk(f).group_by("weekday", "hour").len()
    for wd, hour, n in cells.iter_rows():
        grid[wd - 1][hour] = n
    best = max(((n, -d, -h) for d, row in enumerate(grid) for h, n in enumerate(row)), default=None)
    peak = None
    if best is not None and best[0] > 0:
        peak = {"weekday": -best[1], "hour": -best[2], "weekday_name": WEEKDAYS[-best[1]]}
    return {"tz": f.tz, "weekday_hour": grid, "peak": peak}


def daily_counts(f: Frames) -> list[list[Any]]:
    """``[["YYYY-MM-DD", n], ...]`` from the first to the last day with messages, zeros
    included (a chart must show the silent days)."""
    days = _talk(f).group_by("day").len().sort("day")
    if days.height == 0:
        return []
    counts = dict(days.iter_rows())
    first, last = days["day"][0], days["day"][-1]
    out: list[list[Any]] = []
    d = first
    while d <= last:
        out.append([d.isoformat(), counts.get(d, 0)])
        d += timedelta(days=1)
    return out
