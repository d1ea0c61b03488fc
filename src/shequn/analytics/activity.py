"""When people talk: the weekday × hour heatmap and daily message counts.

Both count speech (every message but service messages) from anyone but bots, in
the settings' time zone (the frames' local ``weekday``, ``hour`` and ``day``), so
that an operator plans posts (playbook §2.3: morning news at 9–10, a video at
13–14) for the hours members are really there. :func:`talk_cells` and
:func:`talk_days` count them in Polars (the reference; on an engine
:mod:`.query_counts` does), :func:`heatmap` and :func:`daily_counts` turn the
small tables into the report's JSON.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from shequn.analytics.frame import Frames

__all__ = ["daily_counts", "heatmap", "talk_cells", "talk_days"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _talk(f: Frames) -> pl.DataFrame:
    return f.messages.filter(pl.col("speech") & ~pl.col("is_bot"))


def talk_cells(f: Frames) -> pl.DataFrame:
    """``weekday`` (1 = Monday), ``hour``, ``messages``: speech by anyone but bots per
    local weekday and hour (on an engine: :func:`.query_counts.talk_cells`)."""
    return (
        _talk(f).group_by("weekday", "hour").agg(pl.len().alias("messages")).sort("weekday", "hour")
    )


def talk_days(f: Frames) -> pl.DataFrame:
    """``day`` (local date), ``messages``: speech by anyone but bots per day with any
    (on an engine: :func:`.query_counts.talk_days`)."""
    return _talk(f).group_by("day").agg(pl.len().alias("messages")).sort("day")


def heatmap(cells: pl.DataFrame, tz: str) -> dict[str, Any]:
    """``{tz, weekday_hour: 7×24 counts (Monday first), peak: {weekday, hour}}`` from
    :func:`talk_cells` (counted in the zone ``tz``).

    ``peak.weekday`` is 0 for Monday (the row index); ties go to the earliest cell.
    ``peak`` is null when there are no messages.
    """
    grid = [[0] * 24 for _ in range(7)]
    for wd, hour, n in cells.select("weekday", "hour", "messages").iter_rows():
        grid[wd - 1][hour] = n
    best = max(((n, -d, -h) for d, row in enumerate(grid) for h, n in enumerate(row)), default=None)
    peak = None
    if best is not None and best[0] > 0:
        peak = {"weekday": -best[1], "hour": -best[2], "weekday_name": WEEKDAYS[-best[1]]}
    return {"tz": tz, "weekday_hour": grid, "peak": peak}


def daily_counts(days: pl.DataFrame) -> list[list[Any]]:
    """``[["YYYY-MM-DD", n], ...]`` from :func:`talk_days`, from the first to the last day
    with messages, zeros included (a chart must show the silent days)."""
    days = days.sort("day")
    if days.height == 0:
        return []
    counts = dict(days.select("day", "messages").iter_rows())
    first, last = days["day"][0], days["day"][-1]
    out: list[list[Any]] = []
    d = first
    while d <= last:
        out.append([d.isoformat(), counts.get(d, 0)])
        d += timedelta(days=1)
    return out
