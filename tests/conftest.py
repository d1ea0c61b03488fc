"""Shared fixtures: the real data folder and an archive on every configured backend.

``store`` runs each test on SQLite and, when ``SHEQUN_TEST_PG_URL`` points at a real
PostgreSQL (``.ci/run`` starts one), on PostgreSQL too, in a fresh schema per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shequn.store import Store, open_store, resolve_url

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SHEQUN_TEST_PG_URL")


def _shared_data() -> Path:
    env = os.environ.get("SHEQUN_SHARED_DATA")
    if env:
        return Path(env)
    for base in (REPO.parent / "shared" / "data", REPO / "shared" / "data"):
        if base.is_dir():
            return base
    raise RuntimeError("the shared data folder (../shared/data) is missing; set SHEQUN_SHARED_DATA")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data``: the real exports, chat logs and labelled sets."""
    return _shared_data()


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_backends())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated archive: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        st = open_store(f"sqlite:///{tmp_path / 'archive.db'}")
        yield st
        st.close()
        return
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    st = open_store(url)
    try:
        yield st
    finally:
        st.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only, for tests about SQLite itself or that do not touch storage rules."""
    st = open_store(f"sqlite:///{tmp_path / 'archive.db'}")
    yield st
    st.close()
