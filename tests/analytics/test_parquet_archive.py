"""``export_archive``: the archive as Parquet parts, whole or not at all."""

from __future__ import annotations

from pathlib import Path

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

    def dies_after_two(*args: object, **kw: object):  # type: ignore[no-untyped-def]
        for i, part in enumerate(real(*args, **kw)):  # type: ignore[arg-type]
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
