"""Savepoints as plain SQL (``store.engine._plain_savepoints``): the same behaviour as
SQLAlchemy's compiled ones, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.sql import expression as sql_expression

from shequn.store import Store, schema


def _alert(conn: object, n: int) -> None:
    conn.execute(  # type: ignore[attr-defined]
        schema.alerts.insert().values(
            platform="fake", group_id="g1", kind="uncertain", detail=str(n), created_at=float(n)
        )
    )


def _details(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        t = schema.alerts
        return list(conn.execute(select(t.c.detail).order_by(t.c.id)).scalars())


def test_a_failed_savepoint_rolls_back_only_its_own_work(store: Store) -> None:
    with store.engine.begin() as conn:
        _alert(conn, 1)
        with pytest.raises(KeyError), conn.begin_nested():
            _alert(conn, 2)
            raise KeyError("handler failed")
        with conn.begin_nested():  # the next one works on
            _alert(conn, 3)
            with pytest.raises(KeyError), conn.begin_nested():  # nested twice
                _alert(conn, 4)
                raise KeyError("inner")
            _alert(conn, 5)
        assert conn.execute(select(func.count()).select_from(schema.alerts)).scalar_one() == 3
    assert _details(store) == ["1", "3", "5"]


def test_an_outer_rollback_takes_released_savepoints_with_it(store: Store) -> None:
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        with conn.begin_nested():
            _alert(conn, 1)
        raise RuntimeError("the event's transaction fails")
    assert _details(store) == []


def test_savepoints_go_out_as_plain_sql(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def compiled(*_: object, **__: object) -> None:
        raise AssertionError("a savepoint clause was built")

    for clause in ("SavepointClause", "ReleaseSavepointClause", "RollbackToSavepointClause"):
        monkeypatch.setattr(getattr(sql_expression, clause), "__init__", compiled)
    with store.engine.begin() as conn:
        with conn.begin_nested():
            _alert(conn, 1)
        with pytest.raises(KeyError), conn.begin_nested():
            _alert(conn, 2)
            raise KeyError("rolled back")
    assert _details(store) == ["1"]
