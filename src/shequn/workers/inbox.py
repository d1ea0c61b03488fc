"""The inbox: every received event, persisted before the platform is acknowledged.

A row is keyed by the event's natural key (:func:`shequn.pipeline.event_key`), so a
platform that redelivers (the receiver restarted before its acknowledgement got
through) inserts nothing new. Workers read the pending rows of the groups they lease,
oldest first, and the pipeline marks a row done in the transaction that claims the
event in ``processed_events``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import BigInteger, Connection, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRenamed,
    MessagePosted,
    ReactionAdded,
)
from shequn.pipeline import event_key
from shequn.store import schema

__all__ = [
    "EVENT_TYPES",
    "Row",
    "decode",
    "fail",
    "lease_key",
    "mark_done",
    "pending",
    "put",
    "retry_later",
]

EVENT_TYPES: dict[str, type[Any]] = {
    t.__name__: t
    for t in (
        MessagePosted,
        MemberJoined,
        MemberLeft,
        MemberRenamed,
        JoinRequested,
        ReactionAdded,
        GroupSeen,
        DirectMessage,
    )
}
_ENCODER = msgspec.json.Encoder()
_DECODERS = {name: msgspec.json.Decoder(t) for name, t in EVENT_TYPES.items()}


def lease_key(platform: str, group_id: str) -> int:
    """The signed 64-bit advisory-lock key of a group (stable across processes)."""
    digest = hashlib.blake2b(f"{platform}\x00{group_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def put(conn: Connection, platform: str, event: Event, now: float) -> bool:
    """Persist ``event`` as a pending row; ``False`` when its key is already there."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    t = schema.inbox
    stmt = (
        insert(t)
        .values(
            platform=platform,
            group_id=event.group_id,
            event_key=event_key(event),
            lease_key=lease_key(platform, event.group_id),
            kind=type(event).__name__,
            payload=_ENCODER.encode(event).decode(),
            received_at=now,
            status="pending",
            attempts=0,
        )
        .on_conflict_do_nothing()
        .returning(t.c.id)
    )
    return conn.execute(stmt).first() is not None


def decode(kind: str, payload: str) -> Event:
    """The event a row holds (``msgspec.DecodeError`` / ``KeyError`` on a bad row)."""
    event: Event = _DECODERS[kind].decode(payload)
    return event


Row = Any  # a Row of ``inbox``: id, platform, group_id, event_key, kind, payload ...


def _one_of(conn: Connection, column: Any, keys: Sequence[int]) -> Any:
    if conn.dialect.name == "postgresql":  # one array parameter, not thousands
        return column == any_(bindparam("keys", list(keys), type_=ARRAY(BigInteger)))
    return column.in_(list(keys))


def pending(conn: Connection, keys: Sequence[int], limit: int) -> list[Row]:
    """Pending rows of the groups with these lease keys, oldest first."""
    if not keys:
        return []
    t = schema.inbox
    q = (
        select(
            t.c.id,
            t.c.platform,
            t.c.group_id,
            t.c.event_key,
            t.c.lease_key,
            t.c.kind,
            t.c.payload,
            t.c.received_at,
            t.c.attempts,
        )
        .where(t.c.status == "pending", _one_of(conn, t.c.lease_key, keys))
        .order_by(t.c.id)
        .limit(limit)
    )
    return list(conn.execute(q).all())


def mark_done(conn: Connection, platform: str, key: str, now: float) -> None:
    """Mark the row of ``key`` done (called inside the pipeline's event transaction)."""
    t = schema.inbox
    conn.execute(
        update(t)
        .where(t.c.platform == platform, t.c.event_key == key, t.c.status == "pending")
        .values(status="done", done_at=now)
    )


def retry_later(conn: Connection, row_id: int, error: str) -> None:
    """Count a failed attempt on a row; it stays pending (its group backs off)."""
    t = schema.inbox
    conn.execute(
        update(t).where(t.c.id == row_id).values(attempts=t.c.attempts + 1, error=error[:2000])
    )


def fail(conn: Connection, row_id: int, error: str, now: float) -> None:
    """Give up on a row that keeps failing: its group moves on, a human looks at it."""
    t = schema.inbox
    conn.execute(
        update(t)
        .where(t.c.id == row_id)
        .values(status="failed", error=error[:2000], done_at=now, attempts=t.c.attempts + 1)
    )
