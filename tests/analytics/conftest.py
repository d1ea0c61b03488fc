"""Fixtures for the analytics tests (helpers live in ``handmade.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from handmade import Chat


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
