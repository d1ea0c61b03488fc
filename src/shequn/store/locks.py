"""Short transaction locks on a name, for read-then-write steps that must not interleave.

A check-in reads "not checked in today" and then writes the check-in; a points spend
reads the balance and then writes the debit. Two such transactions on the same member
at the same moment (two groups of a set handled by two workers) would both read
before either writes, and the member would be credited twice.

PostgreSQL: ``pg_advisory_xact_lock(class, key)``, held until the transaction ends.
The two-``int4`` form is a key space apart from the workers' group leases, which use
the one-``bigint`` form.

SQLite has one writer per database, so the lock on any name is the database's write
lock: :func:`begin_writing` takes it now (``BEGIN IMMEDIATE``). Without it the read
would not even be in the transaction: Python's ``sqlite3`` opens a transaction only at
the first INSERT/UPDATE/DELETE, so the read sees the database as it is at that moment
and another connection may commit in between.
"""

from __future__ import annotations

import sqlite3
from hashlib import blake2b
from typing import cast

from sqlalchemy import Connection, text

__all__ = ["MEMBER", "begin_writing", "lock"]

#: Lock classes (the first key): one per kind of name, so names never collide.
MEMBER = 1


def lock(conn: Connection, kind: int, *name: str) -> None:
    """Wait for, and hold until the transaction ends, the lock on ``name``."""
    if conn.dialect.name == "sqlite":
        begin_writing(conn)
        return
    digest = blake2b("\x1f".join(name).encode("utf-8"), digest_size=4).digest()
    key = int.from_bytes(digest, "big", signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": kind, "k": key})


def begin_writing(conn: Connection) -> None:
    """SQLite: unless the transaction already writes, start it as a writer (waiting, up
    to the busy timeout, for the write lock), so that what it reads from here on stays
    true until it commits.

    A transaction that only read holds a snapshot; if another connection commits
    before it writes, its first write fails at once with "database is locked" (the busy
    timeout does not apply: waiting cannot make the snapshot current). A ``SAVEPOINT``
    opens such a transaction, which is why the archive's engine calls this before each
    one (see :mod:`shequn.store.engine`).
    """
    dbapi = cast(sqlite3.Connection, conn.connection.dbapi_connection)
    if not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")
