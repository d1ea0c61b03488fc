"""The event archive (migration 0001): groups, members, messages and what happened in them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shequn.store.schema.base import metadata

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("platform_id", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("kind", String(64), nullable=False, default=""),
    UniqueConstraint("platform", "platform_id"),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("platform_id", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("is_bot", Boolean, nullable=False, default=False),
    # Staff of the community (exporting account, group creator, admins, bots): their
    # messages count as operator content (PGC) rather than member content (UGC).
    Column("is_operator", Boolean, nullable=False, default=False),
    UniqueConstraint("platform", "platform_id"),
)

member_names = Table(
    "member_names",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("first_ts", Float, nullable=True),
    UniqueConstraint("member_id", "name"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("platform_id", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=True),
    Column("ts", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("reply_to", String(128), nullable=True),
    Column("forwarded", Boolean, nullable=False, default=False),
    Column("edited", Boolean, nullable=False, default=False),
    Column("n_mentions", SmallInteger, nullable=False, default=0),
    Column("import_id", Integer, nullable=True),
    # The natural key's index also serves "messages of group X" and the reply joins.
    UniqueConstraint("group_id", "platform_id"),
    # Deliberately no other index: one on member_id took 40% of the insert time of a
    # 1M-message import (members post in random order), one on (group_id, ts) another
    # 8%, and analytics read the whole table anyway. Features that browse by member
    # or time range add their index in their own migration.
)

mentions = Table(
    "mentions",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("message_pid", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    UniqueConstraint("group_id", "message_pid", "member_id"),
)

membership_events = Table(
    "membership_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("platform_id", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("action", String(8), nullable=False),  # join | leave | kick
    Column("method", String(16), nullable=False, default="unknown"),
    Column("actor_id", Integer, ForeignKey("members.id"), nullable=True),
    Column("import_id", Integer, nullable=True),
    UniqueConstraint("group_id", "platform_id"),
    Index(None, "member_id"),
)

reactions = Table(
    "reactions",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("message_pid", String(128), nullable=False),
    Column("emoji", String(128), nullable=False),
    # 0 when the source gives only a count per emoji (DiscordChatExporter, Slack users
    # lists are resolved to real members).
    Column("member_id", Integer, nullable=False, default=0),
    Column("count", Integer, nullable=False, default=1),
    UniqueConstraint("group_id", "message_pid", "emoji", "member_id"),
)

renames = Table(
    "renames",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("platform_id", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("old_name", Text, nullable=False),
    Column("new_name", Text, nullable=False),
    UniqueConstraint("group_id", "platform_id"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("format", String(32), nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("status", String(16), nullable=False),  # running | done | failed | interrupted
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("n_events", Integer, nullable=False, default=0),
    Column("n_new", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    # The process running an import (migration 0007): a later import on the same host
    # marks rows of processes that no longer exist as interrupted (kill -9, power cut).
    Column("host", String(255), nullable=True),
    Column("pid", Integer, nullable=True),
)
