"""Fixtures for the analytics tests (helpers live in ``handmade.py`` and
``real_exports.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from handmade import Chat
from real_exports import exports

from shequn.actions.imports import import_file
from shequn.analytics.frame import Frames, load
from shequn.store import Store, open_store


@pytest.fixture
def chat() -> Chat:
    """An empty hand-made archive to fill with events."""
    return Chat()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session (2 cores) for every Spark test: starting one costs seconds."""
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


@pytest.fixture(scope="session")
def real_archive(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Store]:
    """The real exports of ``real_exports.py`` imported once into a SQLite archive."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('real') / 'archive.db'}")
    for path in exports(data_dir):
        import_file(store, path)
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_frames(real_archive: Store) -> Frames:
    """:func:`load` of ``real_archive`` (tests must not change it)."""
    return load(real_archive)
