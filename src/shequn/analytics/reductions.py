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
4-week activity, first and last event; ads from the messages' ``ad`` column) and
the small counts of :mod:`.query_counts` (message kinds, weekday × hour and daily
talk, member content per sender and group).
PageRank runs on the driver (:func:`shequn.analytics.kol.pagerank`, a sparse power
iteration) over the engine's edge table: edges are member-sized, and one sparse
product per round beats one engine job per round by orders of magnitude
(:func:`shequn.analytics.query_more.pagerank` stays for graphs that outgrow one
machine). The ad flags, buyers' intent signals and the keyword sample read message
texts: :mod:`.query_texts` on an engine (the flags stay there), the Polars
functions of :mod:`.ads`, :mod:`.buyers` and :mod:`.keywords` on ``"polars"``.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from shequn.analytics import ads, buyers, health, keywords, kol, query, retention, stats
from shequn.analytics import query_counts as qc
from shequn.analytics import query_more as qm
from shequn.analytics import query_texts as qt
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
    counts: qc.Counts  #: the heatmap's, daily, kind and UGC counts (:mod:`.query_counts`)
    intent: pl.DataFrame  #: :func:`.buyers.scored_messages` (the few messages with a signal)
    sample: pl.DataFrame  #: :func:`.keywords.keyword_sample`


def reduce(
    f: Frames,
    s: AnalyticsSettings,
    *,
    engine: ReportEngine,
    spark: Any = None,
    parquet: Path | None = None,
) -> Reduced:
    """The report's reductions of ``f`` on ``engine`` (the ad flags too: :func:`.ads.ad_flags`
    on Polars, :func:`.query_texts.ad_messages` on an engine, where they stay).

    With ``parquet`` (an export, :mod:`.parquet_archive`; ``f`` its
    :func:`~.parquet_archive.frames`) the engine reads the messages from its files."""
    if parquet is not None:
        if engine not in query.ENGINES:
            raise ValueError(f"an exported archive is reduced on {' or '.join(query.ENGINES)}")
        con = query.connect(engine, spark=spark)
        return _on(con, query.parquet_tables(con, parquet, now=f.now), f, s)
    if engine == "polars":
        return _polars(f, s)
    if engine in query.ENGINES:
        return _engine(f, s, engine, spark)
    raise ValueError(f"unknown engine {engine!r} (known: {', '.join(REPORT_ENGINES)})")


def _polars(f: Frames, s: AnalyticsSettings) -> Reduced:
    ad = ads.ad_flags(f, s)
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
        counts=qc.polars_counts(f),
        intent=buyers.scored_messages(f, s),
        sample=keywords.keyword_sample(f, s),
    )


def _engine(f: Frames, s: AnalyticsSettings, engine: query.Engine, spark: Any) -> Reduced:
    con = query.connect(engine, spark=spark)
    if engine == "duckdb":
        return _on(con, query.in_memory_tables(query.query_frames(f, texts=True)), f, s)
    with tempfile.TemporaryDirectory(prefix="shequn-report-") as folder:
        paths = query.export_parquet(f, Path(folder), texts=True)
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

    # the parts that read texts, on the engine: only intent hits and the sample return
    texts = t["messages"]
    regex: qt.RegexEngine = "spark" if con.name == "pyspark" else "duckdb"
    sample = rows(qt.keyword_sample(texts, con, s))
    intent = rows(qt.intent_rows(texts, s, buyers.since(f, s), regex))
    # the ad flags, read by the weekly series and the group figures: the flagged
    # messages are kept once on DuckDB (a temporary table; Ibis' Spark backend has none)
    duckdb = regex == "duckdb"
    keep = functools.partial(con.create_table, "ad_hits", temp=True) if duckdb else None
    with_ad = {**t, "messages": qt.ad_messages(texts, s, regex, keep=keep)}
    stay = s.invite_stay_days
    since = qm.active_day_window(t, s.layer_window_days)
    weeks = max(s.health_weeks, 8)
    weekly = con.to_pyarrow(qm.weekly_health(with_ad, f.now, weeks)).to_pylist()
    return Reduced(
        known=rows(qm.known_pairs(t)),
        window=rows(query.member_stats(t, since=since, stay_days=stay)),
        overall=rows(query.member_stats(t, by_group=False, stay_days=stay)),
        ranks=kol.pagerank(rows(qm.interaction_edges(t)), alpha=s.pagerank_alpha),
        joins=rows(query.join_times(t)),
        weekly=qm.weekly_series(weekly, weeks),
        figures=rows(qm.group_activity(with_ad, f.now)),
        counts=qc.counts(t, rows),
        intent=intent,
        sample=sample,
    )
