"""Shared fixtures: the real data folder and an archive on every configured backend.

``store`` runs each test on SQLite and, when ``SHEQUN_TEST_PG_URL`` points at a real
PostgreSQL (``.ci/run`` starts one), on PostgreSQL too, in a fresh database per test.
The migrations run once per session into a template (a SQLite file, a PostgreSQL
template database) that each test's database is copied from: migrating took 1–3 s
per test, copying takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shequn import secrets
from shequn.actions.moderation import forget_pacing
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


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Secrets a test's configuration remembered (for redaction) end with the test: with
    several tests per process, a token like "secret" would redact the next test's text."""
    yield
    secrets.forget_all()


@pytest.fixture(autouse=True)
def _forget_pacing() -> Iterator[None]:
    """A platform paused after a 429 stays paused for the process; tests share fake
    platform names and fake clocks, so each test starts with no pause."""
    yield
    forget_pacing()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``../shared/data``: the real exports, chat logs and labelled sets."""
    return _shared_data()


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite archive that tests copy."""
    path = tmp_path_factory.mktemp("template") / "archive.db"
    open_store(f"sqlite:///{path}").close()
    return path


def _pg_url(name: str) -> str:
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a migrated, empty PostgreSQL database that tests' databases copy."""
    assert PG_URL is not None
    name = f"t_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    open_store(_pg_url(name)).close()  # no connection may stay open on a template
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _sqlite_copy(template: Path, tmp_path: Path) -> Store:
    path = tmp_path / "archive.db"
    shutil.copyfile(template, path)
    return open_store(f"sqlite:///{path}")


@pytest.fixture(params=_backends())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated archive: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        st = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
        yield st
        st.close()
        return
    assert PG_URL is not None
    template = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    st = open_store(_pg_url(name))
    try:
        yield st
    finally:
        st.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[Store]:
    """SQLite only, for tests about SQLite itself or that do not touch storage rules."""
    st = _sqlite_copy(sqlite_template, tmp_path)
    yield st
    st.close()
