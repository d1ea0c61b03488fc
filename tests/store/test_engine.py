"""Opening archives: URL rules, migrations to head on both backends, idempotent re-open."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from shequn.store import Store, open_store, resolve_url
from shequn.store.engine import _alembic_config
from shequn.store.schema import metadata


def test_url_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHEQUN_DB", raising=False)
    assert resolve_url(None) == "sqlite:///shequn.db"
    assert resolve_url("data/x.db") == "sqlite:///data/x.db"
    assert resolve_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("SHEQUN_DB", "/tmp/y.db")
    assert resolve_url(None) == "sqlite:////tmp/y.db"
    assert resolve_url("sqlite:///z.db") == "sqlite:///z.db"  # --db beats the env


def test_migrated_schema_matches_the_tables(store: Store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= names
    assert "alembic_version" in names
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_reopen_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_store(url).close()
    st = open_store(url)  # second open: already at head, nothing to do
    with st.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    st.close()


def test_sqlite_is_tuned_for_a_single_writer(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_migrations_produce_exactly_the_declared_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from shequn.store.schema.search import FTS_PREFIX

    # the search index's engine-specific parts (an FTS5 table, a GIN expression index)
    # cannot be declared on MetaData; they share one prefix and are left out
    def declared(name: str | None, type_: str, parent: object) -> bool:
        return not (name or "").startswith(FTS_PREFIX)

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": declared})
        diff = compare_metadata(context, metadata)
    assert diff == [], "schema.py and the Alembic migrations disagree: add a migration"
