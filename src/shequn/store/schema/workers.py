"""Bot workers (migrations 0010, 0018): the inbox receivers fill and the groups workers lease.

Only used when several worker processes share a PostgreSQL archive; the single-process
bot on SQLite never touches these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shequn.store.schema.base import metadata

__all__ = ["group_leases", "inbox"]

#: 64-bit ids on PostgreSQL (a billion events outgrow int4); SQLite's rowid otherwise.
_ID = BigInteger().with_variant(Integer(), "sqlite")

inbox = Table(
    "inbox",
    metadata,
    # Written by the receiver before it acknowledges the event to the platform, marked
    # done in the transaction that claims the event in processed_events.
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("event_key", String(255), nullable=False),
    # The advisory-lock key of (platform, group_id): workers select their rows by it.
    Column("lease_key", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),  # the event class: MessagePosted ...
    Column("payload", Text, nullable=False),  # the event, msgspec JSON
    Column("received_at", Float, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),  # pending|done|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("done_at", Float, nullable=True),
    UniqueConstraint("platform", "event_key"),
    Index(None, "status", "lease_key", "id"),
)

group_leases = Table(
    "group_leases",
    metadata,
    # Every group a receiver has seen. The lease itself is a PostgreSQL advisory lock
    # on ``lease_key``; ``worker`` and ``leased_at`` only say who took it last.
    Column("platform", String(32), primary_key=True),
    Column("group_id", String(255), primary_key=True),
    Column("lease_key", BigInteger, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("worker", String(64), nullable=True),
    Column("leased_at", Float, nullable=True),
    # The fencing token (migration 0018): +1 each time a worker takes the lease. A
    # worker carries out a group's calls only while this is still the epoch it got,
    # checked FOR SHARE in the transaction that marks the call done.
    Column("epoch", BigInteger, nullable=False, default=0, server_default=text("0")),
)
