"""Polls, chains (接龙), lotteries, events with sign-up and ice-breakers (migration 0004).

Platform ids are the platform's own strings, as in the bot tables. Every activity is
keyed by the message that started it (``UniqueConstraint(platform, group_id,
message_id)``), so a redelivered command never starts it twice; the per-member tables
are unique per member (or per message) for the same reason.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from shequn.store.schema.base import metadata

__all__ = [
    "activity_events",
    "chain_entries",
    "chains",
    "event_signups",
    "icebreakers",
    "lotteries",
    "lottery_entries",
    "poll_votes",
    "polls",
]

polls = Table(
    "polls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),  # the command that started it
    Column("starter_id", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("options", Text, nullable=False),  # JSON list of option texts
    Column("multiple", Boolean, nullable=False, default=False),
    Column("anonymous", Boolean, nullable=False, default=False),
    # Anonymous polls key votes by HMAC(salt, member); the salt is dropped at close,
    # after which not even the database links a voter to a choice.
    Column("salt", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("deadline", Float, nullable=True),
    Column("status", String(16), nullable=False),  # open | closed
    Column("closed_at", Float, nullable=True),
    UniqueConstraint("platform", "group_id", "message_id"),
)

poll_votes = Table(
    "poll_votes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("poll_id", Integer, ForeignKey("polls.id"), nullable=False),
    Column("voter", String(255), nullable=False),  # member id, or its HMAC if anonymous
    Column("name", String(255), nullable=False, default=""),  # "" when anonymous
    Column("option", Integer, nullable=False),  # 0-based index into polls.options
    Column("ts", Float, nullable=False),
    UniqueConstraint("poll_id", "voter", "option"),
)

chains = Table(
    "chains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("starter_id", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("deadline", Float, nullable=True),
    Column("status", String(16), nullable=False),  # open | closed
    Column("closed_at", Float, nullable=True),
    # signup | story | redpacket (migration 0019): how entries are checked and listed.
    Column("kind", String(16), nullable=False, default="signup", server_default=text("'signup'")),
    UniqueConstraint("platform", "group_id", "message_id"),
)

chain_entries = Table(
    "chain_entries",
    metadata,
    # One entry per message: an edit of that message updates (or withdraws) the entry.
    Column("id", Integer, primary_key=True),
    Column("chain_id", Integer, ForeignKey("chains.id"), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("ts", Float, nullable=False),
    Column("status", String(16), nullable=False),  # in | withdrawn
    UniqueConstraint("chain_id", "message_id"),
)

lotteries = Table(
    "lotteries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("starter_id", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("keyword", String(64), nullable=False),
    Column("winners", Integer, nullable=False),
    Column("active_days", Integer, nullable=False),
    Column("min_points", Integer, nullable=False),
    # The draw's commitment: sha256(secret) is announced at creation, the secret at
    # the draw; seed = sha256("<id>:<close_ref>:<secret>").
    Column("secret", String(64), nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("deadline", Float, nullable=True),
    Column("status", String(16), nullable=False),  # open | drawn
    Column("close_ref", String(160), nullable=True),  # message id of the close, or deadline:<ts>
    Column("seed", String(64), nullable=True),
    Column("entrants", Text, nullable=True),  # JSON: the sorted member ids at the draw
    Column("result", Text, nullable=True),  # JSON: the winners, in order
    Column("drawn_at", Float, nullable=True),
    UniqueConstraint("platform", "group_id", "message_id"),
)

lottery_entries = Table(
    "lottery_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("lottery_id", Integer, ForeignKey("lotteries.id"), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("message_id", String(128), nullable=False),
    Column("ts", Float, nullable=False),
    Column("rank", Integer, nullable=True),  # 1, 2, ... for the winners
    UniqueConstraint("lottery_id", "member_id"),
)

activity_events = Table(
    "activity_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("organiser_id", String(255), nullable=False),
    Column("title", Text, nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("city", String(64), nullable=False, default=""),  # "" when online
    Column("online", Boolean, nullable=False, default=False),
    Column("capacity", Integer, nullable=False, default=0),  # 0: no limit
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # open | cancelled
    UniqueConstraint("platform", "group_id", "message_id"),
)

event_signups = Table(
    "event_signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("activity_events.id"), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # going | waiting | cancelled
    Column("ts", Float, nullable=False),  # when the current status began: queue order
    Column("attended_at", Float, nullable=True),
    UniqueConstraint("event_id", "member_id"),
)

icebreakers = Table(
    "icebreakers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("joined_at", Float, nullable=False),
    Column("deadline", Float, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | missed | left
    # When the prompt went out: at once, or once the entry gate let them in (tick).
    Column("prompted_at", Float, nullable=True),
    Column("message_id", String(128), nullable=True),  # the introduction
    Column("intro", Text, nullable=True),
    Column("done_at", Float, nullable=True),
    UniqueConstraint("platform", "group_id", "member_id"),
    Index(None, "status"),
)
