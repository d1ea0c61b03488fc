"""The query layer gives identical rows on DuckDB and on Spark, and agrees with the
Polars analytics, on real exports (Telegram threads, Ubuntu IRC days, a QQ group and
a Discord server)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shequn.actions.imports import import_file
from shequn.analytics import query, stats
from shequn.analytics.frame import Frames, load
from shequn.analytics.retention import retention
from shequn.store import open_store

# PySpark's py4j gateway leaves sockets for the garbage collector, and pandas 3 warns
# about a keyword PySpark/Ibis still pass: both are theirs, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:The .future.infer_string. option is deprecated"),
]
REPO = Path(__file__).resolve().parents[2]
EXPORTS = [
    *sorted((REPO / "examples" / "sample").glob("*.json")),
    *sorted((REPO / "examples" / "sample").glob("*.raw.txt")),
    REPO / "tests" / "fixtures" / "qq" / "qq_group_export.txt",
]


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Frames:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('q') / 'archive.db'}")
    # the Discord export brings reactions, which the others lack
    for path in [*EXPORTS, data_dir / "formats" / "discordchatexporter_sample.json"]:
        import_file(store, path)
    f = load(store)
    store.close()
    return f


@pytest.fixture(scope="module")
def parquet(frames: Frames, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return query.export_parquet(frames, tmp_path_factory.mktemp("parquet"))


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (scripts/test.sh installs openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _rows(con: Any, parquet: dict[str, Path], frames: Frames) -> dict[str, list[dict[str, Any]]]:
    t = query.tables(con, parquet)
    return {
        "daily": query.daily_activity(t).to_pyarrow().to_pylist(),
        "members": query.member_activity(t).to_pyarrow().to_pylist(),
        "retention": query.retention(t, frames.now).to_pyarrow().to_pylist(),
        "member_stats": query.member_stats(t).to_pyarrow().to_pylist(),
    }


def test_duckdb_and_spark_give_identical_rows(
    frames: Frames, parquet: dict[str, Path], spark: Any
) -> None:
    embedded = _rows(query.connect("duckdb"), parquet, frames)
    distributed = _rows(query.connect("spark", spark=spark), parquet, frames)
    assert {k: len(v) for k, v in embedded.items()} == {k: len(v) for k, v in distributed.items()}
    assert len(embedded["members"]) > 100 and len(embedded["retention"]) >= 3
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
