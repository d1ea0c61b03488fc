"""One query layer, two engines: the heavy aggregations as Ibis expressions.

The same expression runs embedded on DuckDB (the default, in-process, nothing to set
up) and unchanged on Apache Spark (``engine="spark"``: a local session here, a
cluster in production — see ``docs/scale-out.md``) when the archive outgrows one
machine. ``tests/analytics/test_query_engines.py`` checks both engines give identical
rows on real exports, and that the DuckDB figures agree with the Polars analytics
of :func:`shequn.analytics.analyse`.

The inputs are the frames :func:`shequn.analytics.frame.load` reads, written as Parquet
(:func:`export_parquet`) and read back by the engine — on a cluster from shared
storage, which is where the archive's nightly Parquet export would live.

Expressions here use only joins, filters and grouped aggregates — no as-of joins,
window frames or UDFs — so every Ibis backend runs them the same way.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

import polars as pl

from shequn.analytics.frame import DAY, Frames

__all__ = [
    "ENGINES",
    "Engine",
    "connect",
    "daily_activity",
    "export_parquet",
    "member_activity",
    "retention",
    "tables",
]

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")
HORIZONS = (1, 7, 30)


def connect(engine: Engine = "duckdb", *, spark: Any = None) -> Any:
    """An Ibis backend: in-memory DuckDB, or PySpark on ``spark`` (a local session if None)."""
    import ibis

    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        if spark is None:
            from pyspark.sql import SparkSession

            spark = (
                SparkSession.builder.master("local[2]")
                .appName("shequn")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="shequn-spark-"))
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate()
            )
        return ibis.pyspark.connect(spark)
    raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")


def export_parquet(f: Frames, folder: Path) -> dict[str, Path]:
    """Write the frames the query layer reads as Parquet files (what a cluster reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "messages": f.messages.select(
            "group_id", "member_id", "ts", "speech", "staff", "ugc",
            f.messages["day"].cast(pl.String).alias("day"),
        ),
        "members": f.members.select("member_id", "is_bot", "is_operator"),
        "memberships": f.memberships.select("group_id", "member_id", "ts", "action"),
    }  # fmt: skip
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.parquet"
        frame.write_parquet(paths[name])
    return paths


def tables(con: Any, paths: dict[str, Path]) -> dict[str, Any]:
    """The Parquet files of :func:`export_parquet` as tables of ``con``."""
    return {name: con.read_parquet(str(path), table_name=name) for name, path in paths.items()}


def daily_activity(t: dict[str, Any]) -> Any:
    """Per group and local day: messages, members who spoke, and member (UGC) messages."""
    m = t["messages"].filter(t["messages"].speech)
    return (
        m.group_by(["group_id", "day"])
        .aggregate(
            messages=m.count(),
            speakers=m.member_id.nunique(),
            ugc=m.ugc.cast("int64").sum(),
        )
        .order_by(["group_id", "day"])
    )


def member_activity(t: dict[str, Any]) -> Any:
    """Per member and group: messages, days with a message, first and last message."""
    m = t["messages"]
    m = m.filter(m.speech & m.member_id.notnull())
    return (
        m.group_by(["group_id", "member_id"])
        .aggregate(
            messages=m.count(),
            active_days=m.day.nunique(),
            first_ts=m.ts.min(),
            last_ts=m.ts.max(),
        )
        .order_by(["group_id", "member_id"])
    )


def _pairs(t: dict[str, Any]) -> Any:
    """Join time per member and group, staff and bots excluded (as ``retention.join_times``)."""
    keys = ["group_id", "member_id"]
    ms, msg, mem = t["memberships"], t["messages"], t["members"]
    joined = ms.filter(ms.action == "join").group_by(keys).aggregate(event_ts=ms.ts.min())
    speech = msg.filter(msg.speech & msg.member_id.notnull())
    first = speech.group_by(keys).aggregate(first_ts=speech.ts.min())
    both = joined.outer_join(first, keys)
    both = both.select(
        group_id=both.group_id.coalesce(both.group_id_right),
        member_id=both.member_id.coalesce(both.member_id_right),
        join_ts=both.event_ts.coalesce(both.first_ts),
    )
    staff = mem.filter(mem.is_bot | mem.is_operator).member_id
    return both.filter(~both.member_id.isin(staff))


def retention(t: dict[str, Any], now: float) -> Any:
    """Per group, for N in 1, 7, 30: entries N days old, present at dN, speaking at dN.

    The definitions of :mod:`shequn.analytics.retention` (its ``overall`` figures):
    present = no leave or kick in [join, join + N days]; speaking = a message in
    (join, join + N days]; an entry counts once it is N days old at ``now``.
    """
    keys = ["group_id", "member_id"]
    pairs = _pairs(t)
    ms, msg = t["memberships"], t["messages"]
    leaves = ms.filter(ms.action.isin(["leave", "kick"])).select(*keys, left_ts=ms.ts)
    gone = pairs.join(leaves, keys).filter(lambda r: r.left_ts >= r.join_ts)
    gone = gone.group_by(keys).aggregate(left_ts=gone.left_ts.min())
    later = msg.filter(msg.speech & msg.member_id.notnull()).select(*keys, next_ts=msg.ts)
    spoke = pairs.join(later, keys).filter(lambda r: r.next_ts > r.join_ts)
    spoke = spoke.group_by(keys).aggregate(next_ts=spoke.next_ts.min())
    rows = pairs.left_join(gone, keys).select(*keys, "join_ts", "left_ts")
    rows = rows.left_join(spoke, keys).select(*keys, "join_ts", "left_ts", "next_ts")
    metrics: dict[str, Any] = {}
    for n in HORIZONS:
        horizon = rows.join_ts + n * DAY
        old = horizon <= now
        present = rows.left_ts.isnull() | (rows.left_ts > horizon)
        speaking = rows.next_ts.notnull() & (rows.next_ts <= horizon)
        metrics[f"old_d{n}"] = old.cast("int64").sum()
        metrics[f"present_d{n}"] = (old & present).cast("int64").sum()
        metrics[f"speaking_d{n}"] = (old & speaking).cast("int64").sum()
    return rows.group_by("group_id").aggregate(entries=rows.count(), **metrics).order_by("group_id")
