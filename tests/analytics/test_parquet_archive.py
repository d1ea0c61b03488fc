"""``export_archive``: the archive as Parquet parts, whole or not at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from shequn.actions.imports import import_file
from shequn.analytics import fetch
from shequn.analytics.frame import load
from shequn.analytics.parquet_archive import export_archive, read_manifest, table_paths
from shequn.store import Store

REPO = Path(__file__).resolve().parents[2]
EXPORTS = [
    *sorted((REPO / "examples" / "sample").glob("*.json")),
    REPO / "tests" / "fixtures" / "qq" / "qq_group_export.txt",
]


def _filled(store: Store) -> Store:
    for export in EXPORTS:
        import_file(store, export)
    return store


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


def test_the_parts_hold_exactly_the_frames_load_reads(store: Store, tmp_path: Path) -> None:
    """Small parts (50 messages) on SQLite and PostgreSQL: every message, mention and
    reaction once, with the same derived columns as the in-memory frames."""
    _filled(store)
    f = load(store, tz="Asia/Shanghai")
    out = tmp_path / "export"
    manifest = export_archive(store, out, tz="Asia/Shanghai", size=50)
    assert manifest.parts["messages"] > 3
    assert manifest.rows["messages"] == f.messages.height
    assert (manifest.newest, manifest.oldest) == (f.end, f.start)
    assert read_manifest(out) == manifest
    paths = table_paths(out)
    messages = pl.read_parquet(paths["messages"])
    expected = f.messages.with_columns(f.text)
    assert _sorted(messages.select(expected.columns)).equals(_sorted(expected))
    for name in ("mentions", "reactions", "memberships", "members", "groups", "names"):
        got = pl.read_parquet(paths[name])
        want = getattr(f, name)
        assert _sorted(got.select(want.columns)).equals(_sorted(want)), name


def test_an_export_that_dies_halfway_leaves_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filled(store)
    real = fetch.fetch_chunks

    def dies_after_two(*args: Any, **kw: Any) -> Iterator[pl.DataFrame]:
        for i, part in enumerate(real(*args, **kw)):
            if i == 2:
                raise OSError("disk full")
            yield part

    monkeypatch.setattr(fetch, "fetch_chunks", dies_after_two)
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(OSError, match="disk full"):
        export_archive(store, out / "nightly", size=50)
    assert list(out.iterdir()) == []  # no folder, no partial parts

    monkeypatch.setattr(fetch, "fetch_chunks", real)
    export_archive(store, out / "nightly", size=50)
    with pytest.raises(FileExistsError, match="--replace"):
        export_archive(store, out / "nightly")
    again = export_archive(store, out / "nightly", replace=True)
    assert again.parts["messages"] == 1
    assert [p.name for p in out.iterdir()] == ["nightly"]


def test_an_empty_archive_exports_readable_empty_parts(store: Store, tmp_path: Path) -> None:
    manifest = export_archive(store, tmp_path / "export")
    assert manifest.rows["messages"] == 0 and manifest.newest is None
    assert pl.read_parquet(table_paths(tmp_path / "export")["messages"]).height == 0


def test_a_folder_that_is_no_export_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="export-parquet"):
        read_manifest(tmp_path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    from shequn.store import open_store

    folder = tmp_path_factory.mktemp("parquet-report")
    store = _filled(open_store(f"sqlite:///{folder / 'archive.db'}"))
    export_archive(store, folder / "export", size=100)
    return store, folder / "export"


@pytest.mark.parametrize("now", [None, 1_650_000_000.0])  # all, or 217 of 939 messages
def test_the_report_of_an_export_is_the_report_of_the_archive(
    exported: tuple[Store, Path], now: float | None
) -> None:
    """On DuckDB from the files, with only member- and group-sized tables in this
    process, the whole report equals the Polars one read from the database (also as of
    an earlier time, cut on the engine)."""
    from test_report_engines import differences

    from shequn.analytics import analyse

    store, folder = exported
    from_db = analyse(store, engine="polars", now=now)
    from_files = analyse(None, engine="duckdb", parquet=folder, now=now)
    assert from_db["messages"]["total"] > 0
    from_db["meta"].pop("generated_at")
    from_files["meta"].pop("generated_at")
    assert differences(from_db, from_files) == []


def test_an_export_in_another_time_zone_is_refused(exported: tuple[Store, Path]) -> None:
    from shequn.analytics import AnalyticsSettings, analyse

    with pytest.raises(ValueError, match="--tz UTC"):
        analyse(None, AnalyticsSettings(tz="UTC"), engine="duckdb", parquet=exported[1])


@pytest.mark.xdist_group("spark")  # the one Spark session of the suite
@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
@pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.filterwarnings("ignore:The .future.infer_string. option is deprecated")
def test_spark_reads_the_export_too(exported: tuple[Store, Path], spark: object) -> None:
    """What a cluster does: Spark reads the parts (a glob per table) itself."""
    from test_report_engines import differences

    from shequn.analytics import analyse

    store, folder = exported
    from_db = analyse(store, engine="polars")
    on_spark = analyse(None, engine="spark", spark=spark, parquet=folder)
    from_db["meta"].pop("generated_at")
    on_spark["meta"].pop("generated_at")
    assert differences(from_db, on_spark) == []


def test_the_cli_exports_and_reports_from_the_files(
    exported: tuple[Store, Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from shequn import i18n
    from shequn.cli import build_app

    store, _ = exported
    runner = CliRunner()
    folder = tmp_path / "nightly"
    done = runner.invoke(build_app(), ["export-parquet", str(folder), "--db", store.url])
    assert done.exit_code == 0, done.output
    assert "939 messages" in done.output.replace(",", "")
    again = runner.invoke(build_app(), ["export-parquet", str(folder), "--db", store.url])
    assert again.exit_code == 2 and "--replace" in again.output
    report = tmp_path / "report.json"
    made = runner.invoke(
        build_app(),
        ["report", "--parquet", str(folder), "-o", str(tmp_path / "r.html"), "--json", str(report)],
    )
    assert made.exit_code == 0, made.output
    assert json.loads(report.read_text("utf-8"))["messages"]["total"] == 939
    wrong = runner.invoke(build_app(), ["report", "--parquet", str(tmp_path)])
    assert wrong.exit_code == 2 and "export-parquet" in wrong.output
    was = i18n.get_lang()
    i18n.set_lang("zh")
    try:
        zh = runner.invoke(build_app(), ["export-parquet", "--help"], env={"COLUMNS": "200"})
    finally:
        i18n.set_lang(was)
    assert "Parquet" in zh.output and "分批" in zh.output
