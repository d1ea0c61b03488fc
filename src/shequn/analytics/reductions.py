"""The report's per-message reductions, on Polars or on the query layer's engines.

:func:`shequn.analytics.analyse` needs a handful of tables that reduce the messages
to member- or group-sized rows; everything after them (layers, KOL percentiles,
health stages, lifecycle, tables) is rule logic on those small tables and runs on
the driver in Polars whatever the engine. :func:`reduce` computes them:

* ``engine="duckdb"`` (the default of :func:`shequn.analytics.analyse`; in-process,
  the frames handed over through Arrow, no files) or ``"spark"`` (the frames written
  as Parquet, read by the session): the Ibis expressions of :mod:`.query` and
  :mod:`.query_more`, the same on both;
* ``engine="polars"``: the Polars functions of :mod:`.stats`, :mod:`.kol`,
  :mod:`.retention` and :mod:`.health` that those expressions equal (the reference).

Computed by the engine: member stats in the layers' window and over the whole
archive, known pairs, interaction edges, retention join times, the weekly
health series and the groups' figures (message, ad and UGC counts, 30-day and
4-week activity, first and last event; ads from the messages' ``ad`` column).
PageRank runs on the driver (:func:`shequn.analytics.kol.pagerank`, a sparse power
iteration) over the engine's edge table: edges are member-sized, and one sparse
product per round beats one engine job per round by orders of magnitude
(:func:`shequn.analytics.query_more.pagerank` stays for graphs that outgrow one
machine). The ad flags themselves, buyers' intent signals and keywords read message
texts, which stay out of the query layer, and are computed in Polars.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from shequn.analytics import health, kol, query, retention, stats
from shequn.analytics import query_more as qm
from shequn.analytics.frame import Frames
from shequn.analytics.settings import AnalyticsSettings

__all__ = ["REPORT_ENGINES", "Reduced", "ReportEngine", "reduce"]

ReportEngine = Literal["polars", "duckdb", "spark"]
REPORT_ENGINES: tuple[ReportEngine, ...] = ("polars", "duckdb", "spark")


@dataclass(frozen=True, slots=True)
class Reduced:
    """The member- and group-sized tables the report's rules read."""

    known: pl.DataFrame  #: :func:`.stats.known_pairs`
    window: pl.DataFrame  #: per-group member stats in the layers' window
    overall: pl.DataFrame  #: archive-wide member stats
    ranks: pl.DataFrame  #: ``member_id, pagerank``
    joins: pl.DataFrame  #: :func:`.retention.join_times`
    weekly: dict[int, dict[str, list[Any]]]  #: the health trend series per group
    figures: pl.DataFrame  #: :func:`.health.group_figures`


def reduce(
    f: Frames, ad: pl.Series, s: AnalyticsSettings, *, engine: ReportEngine, spark: Any = None
) -> Reduced:
    """The report's reductions of ``f`` (``ad``: the messages' ad flags) on ``engine``."""
    if engine == "polars":
        return _polars(f, ad, s)
    if engine in query.ENGINES:
        return _engine(f, ad, s, engine, spark)
    raise ValueError(f"unknown engine {engine!r} (known: {', '.join(REPORT_ENGINES)})")


def _polars(f: Frames, ad: pl.Series, s: AnalyticsSettings) -> Reduced:
    known = stats.known_pairs(f)
    since = stats.active_day_window(f, s.layer_window_days)
    stay = s.invite_stay_days
    joins = retention.join_times(f)
    return Reduced(
        known=known,
        window=stats.member_stats(f, by_group=True, since=since, stay_days=stay, known=known),
        overall=stats.member_stats(f, by_group=False, stay_days=stay),
        ranks=kol.pagerank(kol.interaction_edges(f), alpha=s.pagerank_alpha),
        joins=joins,
        weekly=health._weekly(f.messages.with_columns(ad), joins, f.now, max(s.health_weeks, 8)),
        figures=health.group_figures(f, ad),
    )


def _engine(
    f: Frames, ad: pl.Series, s: AnalyticsSettings, engine: query.Engine, spark: Any
) -> Reduced:
    con = query.connect(engine, spark=spark)
    frames = query.query_frames(f, ad=ad)
    if engine == "duckdb":
        return _on(con, query.in_memory_tables(frames), f, s)
    with tempfile.TemporaryDirectory(prefix="shequn-report-") as folder:
        paths = {}
        for name, frame in frames.items():
            paths[name] = Path(folder) / f"{name}.parquet"
            frame.write_parquet(paths[name])
        return _on(con, query.tables(con, paths), f, s)


def _on(con: Any, t: dict[str, Any], f: Frames, s: AnalyticsSettings) -> Reduced:
    ids = {
        "group_id": f.messages.schema["group_id"],
        "member_id": f.members.schema["member_id"],
        "source": f.members.schema["member_id"],
        "target": f.members.schema["member_id"],
    }

    def rows(expr: Any) -> pl.DataFrame:
        df = pl.from_arrow(con.to_pyarrow(expr))
        assert isinstance(df, pl.DataFrame)
        return df.with_columns(pl.col(c).cast(d) for c, d in ids.items() if c in df.columns)

    stay = s.invite_stay_days
    since = qm.active_day_window(t, s.layer_window_days)
    weeks = max(s.health_weeks, 8)
    weekly = con.to_pyarrow(qm.weekly_health(t, f.now, weeks)).to_pylist()
    return Reduced(
        known=rows(qm.known_pairs(t)),
        window=rows(query.member_stats(t, since=since, stay_days=stay)),
        overall=rows(query.member_stats(t, by_group=False, stay_days=stay)),
        ranks=kol.pagerank(rows(qm.interaction_edges(t)), alpha=s.pagerank_alpha),
        joins=rows(query.join_times(t)),
        weekly=qm.weekly_series(weekly, weeks),
        figures=rows(qm.group_activity(t, f.now)),
    )
