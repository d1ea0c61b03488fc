"""The report's small per-message counts (heatmap, daily, kinds, UGC per sender) on the
query layer: identical rows on DuckDB and Spark, equal to the Polars reference, in the
settings' time zone; and once reduced, the report is assembled without the messages."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from handmade import Chat, at
from polars.testing import assert_frame_equal
from real_exports import SPARK_WARNINGS

from shequn.analytics import _assemble, query
from shequn.analytics import query_counts as qc
from shequn.analytics.frame import Frames, load
from shequn.analytics.reductions import reduce
from shequn.analytics.settings import AnalyticsSettings
from shequn.store import Store

pytestmark = SPARK_WARNINGS
EXPRESSIONS = {
    "kinds": qc.kind_counts,
    "cells": qc.talk_cells,
    "days": qc.talk_days,
    "ugc": qc.ugc_counts,
}


@pytest.fixture(scope="module")
def frames(real_frames: Frames) -> Frames:
    return real_frames


def _duckdb_counts(f: Frames) -> qc.Counts:
    con = query.connect("duckdb")
    ids = {"group_id": f.messages.schema["group_id"], "member_id": f.members.schema["member_id"]}

    def rows(expr: Any) -> pl.DataFrame:
        df = pl.from_arrow(con.to_pyarrow(expr))
        assert isinstance(df, pl.DataFrame)
        return df.with_columns(pl.col(c).cast(d) for c, d in ids.items() if c in df.columns)

    return qc.counts(query.in_memory_tables(query.query_frames(f)), rows)


def _assert_counts_equal(got: qc.Counts, expected: qc.Counts) -> None:
    for name in ("kinds", "cells", "days", "ugc"):
        assert_frame_equal(getattr(got, name), getattr(expected, name), check_exact=True)


def test_duckdb_counts_are_the_polars_ones(frames: Frames) -> None:
    expected = qc.polars_counts(frames)
    _assert_counts_equal(_duckdb_counts(frames), expected)
    speech = frames.messages.filter(pl.col("speech"))
    # every part is non-trivial on the sample: several kinds, days, hours, senders
    assert expected.kinds["messages"].sum() == frames.messages.height
    assert expected.kinds.height >= 2 and "system" in expected.kinds["kind"].to_list()
    assert expected.cells.height > 24 and expected.days.height > 10
    assert expected.days["day"].dtype == pl.Date
    assert (
        expected.ugc["messages"].sum()
        == speech.filter(pl.col("ugc") & pl.col("member_id").is_not_null()).height
    )
    assert expected.ugc.height > 100 and expected.ugc["messages"].max() > 1  # type: ignore[operator]


def _zoned(chat: Chat, store: Store, tz: str) -> Frames:
    chat.group("g", "G")
    chat.say("g", "u1", at(0, 5))  # Mon 05:00 in Shanghai = Sun 21:00 UTC = Sun 13:00 in LA
    chat.say("g", "u2", at(0, 9, 30))  # Mon 09:30 = Mon 01:30 UTC = Sun 17:30 in LA
    chat.say("g", "bot1", at(0, 10))  # bots are not talk
    chat.write(store)
    return load(store, tz=tz)


@pytest.mark.parametrize(
    ("tz", "cells", "days"),
    [
        ("Asia/Shanghai", [(1, 5, 1), (1, 9, 1)], [("2024-01-01", 2)]),
        ("UTC", [(1, 1, 1), (7, 21, 1)], [("2023-12-31", 1), ("2024-01-01", 1)]),
        ("America/Los_Angeles", [(7, 13, 1), (7, 17, 1)], [("2023-12-31", 2)]),
    ],
)
def test_counts_are_in_the_settings_zone_on_the_engine(
    store: Store, chat: Chat, tz: str, cells: list[tuple[int, int, int]], days: list[Any]
) -> None:
    f = _zoned(chat, store, tz)
    got = _duckdb_counts(f)
    _assert_counts_equal(got, qc.polars_counts(f))
    assert got.cells.rows() == cells
    assert [(d.isoformat(), n) for d, n in got.days.rows()] == days


@pytest.mark.xdist_group("spark")  # one worker, one Spark session for all Spark tests
def test_duckdb_and_spark_give_identical_count_rows(
    frames: Frames, spark: Any, tmp_path: Path
) -> None:
    paths = query.export_parquet(frames, tmp_path / "parquet")
    got: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for engine in query.ENGINES:
        t = query.tables(query.connect(engine, spark=spark), paths)
        got[engine] = {k: fn(t).to_pyarrow().to_pylist() for k, fn in EXPRESSIONS.items()}
    assert all(got["duckdb"].values())
    assert got["duckdb"] == got["spark"]


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_the_report_is_assembled_without_message_sized_frames(frames: Frames, engine: Any) -> None:
    s = AnalyticsSettings()
    reduced = reduce(frames, s, engine=engine)
    full = _assemble(frames, s, reduced, top=20, lang="en")
    bare = dataclasses.replace(
        frames,
        messages=frames.messages.clear(),
        mentions=frames.mentions.clear(),
        reactions=frames.reactions.clear(),
        text=frames.text.clear(),
    )
    without = _assemble(bare, s, reduced, top=20, lang="en")
    full["meta"].pop("generated_at")  # the clock moves on
    without["meta"].pop("generated_at")
    assert full == without
    # the counts that used to read the messages are there, not empty on both sides
    assert full["messages"]["total"] == frames.messages.height and full["messages"]["daily"]
    assert full["heatmap"]["peak"] is not None and full["concentration"]["speakers"] > 100
    assert full["ugc"]["member_messages"] > 0 and full["members"] and full["lurkers"]
    assert full["buyers"] and full["groups"] and full["health"]
