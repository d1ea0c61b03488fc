"""The query layer gives identical rows on DuckDB and on Spark, and agrees with the
Polars analytics, on real exports (Telegram threads, Ubuntu IRC days, a QQ group and
a Discord server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from real_exports import SPARK_WARNINGS

from shequn.analytics import ads, health, kol, query, stats
from shequn.analytics import query_more as qm
from shequn.analytics.frame import Frames
from shequn.analytics.retention import join_times, retention
from shequn.analytics.settings import AnalyticsSettings

pytestmark = SPARK_WARNINGS
#: Weeks of health trend compared: enough to reach back over the whole sample (2005-2024),
#: so every group has weeks, not only the one active in the last 12.
WEEKS = 1100
#: Active days of the layers' window: small enough to cut the sample's longer groups.
WINDOW_DAYS = 3


@pytest.fixture(scope="module")
def frames(real_frames: Frames) -> Frames:
    return real_frames


@pytest.fixture(scope="module")
def parquet(frames: Frames, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ad = ads.ad_flags(frames, AnalyticsSettings())
    return query.export_parquet(frames, tmp_path_factory.mktemp("parquet"), ad=ad)


def _rows(con: Any, parquet: dict[str, Path], frames: Frames) -> dict[str, list[dict[str, Any]]]:
    t = query.tables(con, parquet)
    return {
        "daily": query.daily_activity(t).to_pyarrow().to_pylist(),
        "members": query.member_activity(t).to_pyarrow().to_pylist(),
        "retention": query.retention(t, frames.now).to_pyarrow().to_pylist(),
        # windowed on the sample's longest group only: the other groups' rows are the
        # whole-archive member stats, so one Spark run covers both (it is the slowest)
        "member_stats": query.member_stats(t, since=qm.active_day_window(t, WINDOW_DAYS))
        .to_pyarrow()
        .to_pylist(),
        "window": qm.active_day_window(t, WINDOW_DAYS).to_pyarrow().to_pylist(),
        "known_pairs": qm.known_pairs(t).to_pyarrow().to_pylist(),
        "edges": qm.interaction_edges(t).to_pyarrow().to_pylist(),
        "weekly_health": qm.weekly_health(t, frames.now, WEEKS).to_pyarrow().to_pylist(),
    }


@pytest.mark.xdist_group("spark")  # one worker, one Spark session for both
def test_duckdb_and_spark_give_identical_rows(
    frames: Frames, parquet: dict[str, Path], spark: Any
) -> None:
    embedded = _rows(query.connect("duckdb"), parquet, frames)
    distributed = _rows(query.connect("spark", spark=spark), parquet, frames)
    assert {k: len(v) for k, v in embedded.items()} == {k: len(v) for k, v in distributed.items()}
    assert len(embedded["members"]) > 100 and len(embedded["retention"]) >= 3
    assert embedded["window"] and len(embedded["weekly_health"]) > 10
    assert any(not r["present"] for r in embedded["known_pairs"])
    for name in embedded:
        assert embedded[name] == distributed[name], name


def test_the_query_layer_agrees_with_the_polars_analytics(
    frames: Frames, parquet: dict[str, Path]
) -> None:
    rows = _rows(query.connect("duckdb"), parquet, frames)
    speech = frames.messages.filter(frames.messages["speech"])
    assert sum(r["messages"] for r in rows["daily"]) == speech.height
    assert (
        len(rows["members"])
        == speech.filter(speech["member_id"].is_not_null())
        .select("group_id", "member_id")
        .unique()
        .height
    )
    overall = retention(frames)["overall"]
    for n in query.HORIZONS:
        old = sum(r[f"old_d{n}"] for r in rows["retention"])
        assert old == overall["eligible"][f"d{n}"]
        for what in ("present", "speaking"):
            hits = sum(r[f"{what}_d{n}"] for r in rows["retention"])
            assert round(hits / old, 4) == overall[what][f"d{n}"]


def test_member_stats_are_the_polars_member_stats_row_for_row(
    frames: Frames, parquet: dict[str, Path]
) -> None:
    rows = query.member_stats(query.tables(query.connect("duckdb"), parquet))
    polars = stats.member_stats(frames, by_group=True).sort("group_id", "member_id")
    columns = ["group_id", "member_id", *stats.COUNTS, "first_ts", "last_ts", "joined_ts"]
    expected = polars.select(columns).to_dicts()
    assert rows.to_pyarrow().to_pylist() == expected
    # the sample has every kind of count, so no column is trivially zero on both sides
    for column in stats.COUNTS:
        assert any(r[column] for r in expected), column


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="known: duckdb, spark"):
        query.connect("bigquery")  # type: ignore[arg-type]


def test_known_pairs_edges_and_health_weeks_are_the_polars_ones_row_for_row(
    frames: Frames, parquet: dict[str, Path]
) -> None:
    t = query.tables(query.connect("duckdb"), parquet)
    pairs = stats.known_pairs(frames).sort("group_id", "member_id").to_dicts()
    assert qm.known_pairs(t).to_pyarrow().to_pylist() == pairs
    # IRC joins and parts share a second: the tie follows archive order on both sides
    assert sum(not r["present"] for r in pairs) > 10 and any(r["last_spoke"] for r in pairs)
    edges = kol.interaction_edges(frames).sort("source", "target").to_dicts()
    assert qm.interaction_edges(t).to_pyarrow().to_pylist() == edges
    assert len(edges) > 100 and any(r["weight"] > 1 for r in edges)
    ad = ads.ad_flags(frames, AnalyticsSettings())
    for weeks in (12, WEEKS):
        expected = health._weekly(
            frames.messages.with_columns(ad), join_times(frames), frames.now, weeks
        )
        rows = qm.weekly_health(t, frames.now, weeks).to_pyarrow().to_pylist()
        assert qm.weekly_series(rows, weeks) == expected
    assert len(expected) >= 5 and any(sum(g["newcomers"]) for g in expected.values())
    assert any(0 < s < 1 for g in expected.values() for s in g["ad_share"])


def test_pagerank_in_rounds_of_join_and_sum_is_the_polars_pagerank(
    frames: Frames, parquet: dict[str, Path]
) -> None:
    con = query.connect("duckdb")
    rows = qm.pagerank(con, qm.interaction_edges(query.tables(con, parquet)))
    got = rows.to_pyarrow().to_pylist()
    expected = kol.pagerank(kol.interaction_edges(frames)).sort("member_id").to_dicts()
    assert [r["member_id"] for r in got] == [r["member_id"] for r in expected]
    assert (
        max(abs(a["pagerank"] - b["pagerank"]) for a, b in zip(got, expected, strict=True)) < 1e-9
    )
    assert abs(sum(r["pagerank"] for r in got) - 1) < 1e-9


def test_the_layers_window_and_its_member_stats_are_the_polars_ones(
    frames: Frames, parquet: dict[str, Path]
) -> None:
    t = query.tables(query.connect("duckdb"), parquet)
    columns = ["group_id", "member_id", *stats.COUNTS, "first_ts", "last_ts", "joined_ts"]
    for days in (1, WINDOW_DAYS, AnalyticsSettings().layer_window_days):
        since = stats.active_day_window(frames, days)
        assert (
            qm.active_day_window(t, days).to_pyarrow().to_pylist()
            == since.sort("group_id").to_dicts()
        )
        expected = (
            stats.member_stats(frames, by_group=True, since=since)
            .sort("group_id", "member_id")
            .select(columns)
            .to_dicts()
        )
        rows = query.member_stats(t, since=qm.active_day_window(t, days))
        assert rows.to_pyarrow().to_pylist() == expected, days
        if days == WINDOW_DAYS:  # the window bites: fewer messages than in the whole archive
            whole = stats.member_stats(frames, by_group=True)["messages"].sum()
            assert 0 < sum(r["messages"] for r in expected) < whole
