"""Console users, sessions, roles, group sets and the console audit log (migration 0006).

Groups in a set are named by the platform's own ids (``platform`` + ``group_id``), the
same keys the bot tables use, so a set can list a group before its first export is
imported and survives re-imports that renumber the archive.
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
)

from shequn.store.schema.base import metadata

__all__ = [
    "console_audit",
    "console_group_set_members",
    "console_group_sets",
    "console_sessions",
    "console_user_group_sets",
    "console_users",
]

console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id, never the password
    Column("role", String(16), nullable=False),  # owner|manager|recruiter|partner|viewer
    Column("lang", String(8), nullable=True),  # zh | en; null = from the browser
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name"),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    # Only the SHA-256 of the cookie's token is kept: a copy of the database does not
    # let anyone sign in.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("ip", String(64), nullable=False, default=""),
    Index(None, "user_id"),
)

console_group_sets = Table(
    "console_group_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name"),
)

console_group_set_members = Table(
    "console_group_set_members",
    metadata,
    Column("group_set_id", Integer, ForeignKey("console_group_sets.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),  # the platform's own group id
    UniqueConstraint("group_set_id", "platform", "group_id"),
)

console_user_group_sets = Table(
    "console_user_group_sets",
    metadata,
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("group_set_id", Integer, ForeignKey("console_group_sets.id"), nullable=False),
    UniqueConstraint("user_id", "group_set_id"),
)

console_audit = Table(
    "console_audit",
    metadata,
    # One row per change made in the console (and per sign-in attempt, which the
    # login rate limit counts). Names are copied so the log outlives renames.
    Column("id", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("user_name", String(64), nullable=False, default=""),
    Column("action", String(64), nullable=False),  # login | undo | alert.resolve | ...
    Column("target", String(255), nullable=False, default=""),
    Column("platform", String(32), nullable=True),  # the group it concerns, if any
    Column("group_id", String(255), nullable=True),
    Column("before", Text, nullable=False, default="{}"),  # JSON
    Column("after", Text, nullable=False, default="{}"),  # JSON
    Column("ip", String(64), nullable=False, default=""),
    Index(None, "action", "ts"),
)
