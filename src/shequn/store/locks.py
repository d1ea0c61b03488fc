"""Short transaction locks on a name, for read-then-write steps that must not interleave.

A check-in reads "not checked in today" and then writes the check-in; a points spend
reads the balance and then writes the debit. Two such transactions on the same member
at the same moment (two groups of a set handled by two workers) would both read
before either writes, and the member would be credited twice.

PostgreSQL: ``pg_advisory_xact_lock(class, key)``, held until the transaction ends.
The two-``int4`` form is a key space apart from the workers' group leases, which use
the one-``bigint`` form. SQLite needs nothing: a database has one writer at a time,
a transaction that read before another's commit cannot write after it (it gets
``SQLITE_BUSY`` and is retried), and the bot's event transaction writes before its
handlers run.
"""

from __future__ import annotations

from hashlib import blake2b

from sqlalchemy import Connection, text

__all__ = ["MEMBER", "lock"]

#: Lock classes (the first key): one per kind of name, so names never collide.
MEMBER = 1


def lock(conn: Connection, kind: int, *name: str) -> None:
    """Wait for, and hold until the transaction ends, the lock on ``name``."""
    if conn.dialect.name != "postgresql":
        return
    digest = blake2b("\x1f".join(name).encode("utf-8"), digest_size=4).digest()
    key = int.from_bytes(digest, "big", signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": kind, "k": key})
