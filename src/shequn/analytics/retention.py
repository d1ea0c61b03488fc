"""Retention by join cohort (留存, playbook §3.5).

The unit is a member in a group (a member who joins two groups is two entries);
staff and bots are left out. Definitions, for N in 1, 7, 30 days:

* **join time**: the earliest join event of the member in the group; without one
  (exports that start after the member joined), their first message there.
* **present at dN**: no leave or kick at or after joining and at or before join + N
  days.
* **speaking at dN**: a message in (join, join + N days] — after the joining moment,
  so a member known only from their first message must have written again.
* A cohort is the ISO week (in the settings' zone) of the join time. Its dN share is
  null until the whole week is N days old at ``now``, so a young cohort is never
  compared on a partial count; ``overall`` counts each entry N days old at ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from shequn.analytics.frame import DAY, Frames, local_time
from shequn.analytics.texts import tr

__all__ = ["HORIZONS", "join_times", "retention"]

HORIZONS = (1, 7, 30)


def join_times(f: Frames) -> pl.DataFrame:
    """Per member and group (staff and bots excluded): ``join_ts``, ``basis`` ("event" or
    "message"), ``left_ts`` (first leave/kick at or after joining, or null) and
    ``next_ts`` (first message after joining, or null)."""
    staff = f.members.filter(pl.col("is_bot") | pl.col("is_operator")).select("member_id")
    keys = ["group_id", "member_id"]
    joined = (
        f.memberships.filter(pl.col("action") == "join")
        .group_by(keys)
        .agg(pl.col("ts").min().alias("event_ts"))
    )
    speech = f.messages.filter(pl.col("speech") & pl.col("member_id").is_not_null()).select(
        "group_id", "member_id", "ts"
    )
    first = speech.group_by(keys).agg(pl.col("ts").min().alias("first_ts"))
    pairs = (
        joined.join(first, on=keys, how="full", coalesce=True)
        .join(staff, on="member_id", how="anti")
        .select(
            *keys,
            pl.coalesce("event_ts", "first_ts").alias("join_ts"),
            pl.when(pl.col("event_ts").is_not_null())
            .then(pl.lit("event"))
            .otherwise(pl.lit("message"))
            .alias("basis"),
        )
        .sort("join_ts")
    )
    leaves = (
        f.memberships.filter(pl.col("action").is_in(["leave", "kick"]))
        .select(*keys, pl.col("ts").alias("left_ts"))
        .sort("left_ts")
    )
    pairs = pairs.join_asof(
        leaves,
        left_on="join_ts",
        right_on="left_ts",
        by=keys,
        strategy="forward",
        check_sortedness=False,  # both sides sorted above; Polars cannot check with `by`
    )
    later = speech.select(*keys, pl.col("ts").alias("next_ts")).sort("next_ts")
    return pairs.join_asof(
        later,
        left_on="join_ts",
        right_on="next_ts",
        by=keys,
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )


def _flags(now: float) -> list[pl.Expr]:
    out: list[pl.Expr] = []
    for n in HORIZONS:
        horizon = pl.col("join_ts") + n * DAY
        out.append(
            (pl.col("left_ts").is_null() | (pl.col("left_ts") > horizon)).alias(f"present_d{n}")
        )
        out.append(
            (pl.col("next_ts").is_not_null() & (pl.col("next_ts") <= horizon)).alias(
                f"speaking_d{n}"
            )
        )
        out.append((horizon <= now).alias(f"old_d{n}"))
    return out


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _week_end(start: date, tz: ZoneInfo) -> float:
    end = start + timedelta(days=7)
    return datetime(end.year, end.month, end.day, tzinfo=tz).timestamp()


def retention(f: Frames, *, lang: str = "en", pairs: pl.DataFrame | None = None) -> dict[str, Any]:
    """The report's ``retention`` object: weekly ``cohorts``, ``overall`` and ``basis_note``."""
    if pairs is None:
        pairs = join_times(f)
    tz = ZoneInfo(f.tz)
    local = local_time(pl.col("join_ts"), f.tz)
    p = pairs.with_columns(
        *_flags(f.now),
        (local.dt.date() - pl.duration(days=local.dt.weekday() - 1)).alias("week_start"),
        local.dt.iso_year().alias("iso_year"),
        local.dt.week().alias("iso_week"),
    )
    sums = [pl.len().alias("joined")]
    for n in HORIZONS:
        sums += [pl.col(f"present_d{n}").sum(), pl.col(f"speaking_d{n}").sum()]
    cohorts: list[dict[str, Any]] = []
    for r in (
        p.group_by("week_start", "iso_year", "iso_week")
        .agg(sums)
        .sort("week_start")
        .iter_rows(named=True)
    ):
        end = _week_end(r["week_start"], tz)
        present: dict[str, float | None] = {}
        speaking: dict[str, float | None] = {}
        for n in HORIZONS:
            ripe = end + n * DAY <= f.now
            present[f"d{n}"] = _share(r[f"present_d{n}"], r["joined"]) if ripe else None
            speaking[f"d{n}"] = _share(r[f"speaking_d{n}"], r["joined"]) if ripe else None
        cohorts.append(
            {
                "week": f"{r['iso_year']}-W{r['iso_week']:02d}",
                "start": r["week_start"].isoformat(),
                "joined": r["joined"],
                "present": present,
                "speaking": speaking,
            }
        )
    overall: dict[str, Any] = {"present": {}, "speaking": {}, "eligible": {}}
    for n in HORIZONS:
        old = p.filter(f"old_d{n}")
        overall["eligible"][f"d{n}"] = old.height
        overall["present"][f"d{n}"] = _share(int(old[f"present_d{n}"].sum()), old.height)
        overall["speaking"][f"d{n}"] = _share(int(old[f"speaking_d{n}"].sum()), old.height)
    events = int((p["basis"] == "event").sum())
    return {
        "cohorts": cohorts,
        "overall": overall,
        "basis_note": tr("basis", lang, events=events, first=p.height - events),
        "basis": {"event": events, "message": p.height - events},
    }
