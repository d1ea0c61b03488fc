"""SQLite transactions that read and then write, with another connection writing meanwhile.

Python's ``sqlite3`` begins a transaction only at the first INSERT/UPDATE/DELETE. A
``SAVEPOINT`` issued before that opens a *deferred* transaction whose first read takes
a snapshot; if another connection then commits, the first write fails at once with
"database is locked" (the busy timeout does not help). That is how a tick job (each
part in a savepoint) failed under live load. And a read before the first write is not
in the transaction at all, so a read-then-write step (check-in: "not checked in
today?", then the check-in) could interleave with another connection's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text

from shequn.store import Store
from shequn.store.locks import MEMBER, lock


@pytest.fixture
def table(sqlite_store: Store) -> Store:
    with sqlite_store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    return sqlite_store


def _in_thread(
    store: Store, work: Callable[[Connection], None]
) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    """Run ``work`` in its own transaction on another thread; ``started`` is set just
    before the transaction begins, and any error is collected."""
    started, errors = threading.Event(), []

    def run() -> None:
        try:
            with store.engine.connect() as conn:
                started.set()
                with conn.begin():
                    work(conn)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, started, errors


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_a_savepoint_that_reads_then_writes_survives_a_concurrent_commit(table: Store) -> None:
    with table.engine.begin() as conn, conn.begin_nested():
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        other, started, errors = _in_thread(
            table, lambda c: c.execute(text("INSERT INTO t VALUES (2)"))
        )
        assert started.wait(10)
        time.sleep(0.3)  # the other connection commits now, or waits for this one
        conn.execute(text("INSERT INTO t VALUES (3)"))  # failed: "database is locked"
    other.join(15)
    assert errors == []
    assert _count(table) == 3


def test_a_locked_read_then_write_does_not_interleave_on_sqlite(table: Store) -> None:
    def insert_unless_seen(conn: Connection) -> None:
        lock(conn, MEMBER, "g1", "alice")
        if conn.execute(text("SELECT count(*) FROM t WHERE x = 7")).scalar_one() == 0:
            conn.execute(text("INSERT INTO t VALUES (7)"))

    with table.engine.begin() as conn:
        lock(conn, MEMBER, "g1", "alice")
        assert conn.execute(text("SELECT count(*) FROM t WHERE x = 7")).scalar_one() == 0
        other, started, errors = _in_thread(table, insert_unless_seen)
        assert started.wait(10)
        time.sleep(0.3)  # without the lock the other has read "not there" by now
        conn.execute(text("INSERT INTO t VALUES (7)"))
    other.join(15)
    assert errors == []
    with table.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t WHERE x = 7")).scalar_one() == 1


def test_a_transaction_a_savepoint_opened_commits_and_rolls_back_whole(table: Store) -> None:
    with table.engine.begin() as conn:
        with conn.begin_nested():  # opens the transaction (BEGIN IMMEDIATE, then SAVEPOINT)
            conn.execute(text("INSERT INTO t VALUES (2)"))
        with pytest.raises(RuntimeError), conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (3)"))
            raise RuntimeError("undo this savepoint only")
    assert _count(table) == 2
    with pytest.raises(RuntimeError), table.engine.begin() as conn:
        with conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (4)"))
        raise RuntimeError("undo the whole transaction")
    assert _count(table) == 2
