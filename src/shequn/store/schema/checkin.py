"""Check-ins and the points ledger (migration 0003)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from shequn.store.schema.base import metadata

checkins = Table(
    "checkins",
    metadata,
    # One row per member per calendar day in the group's time zone; streaks and totals
    # are computed from these rows, so a make-up only has to fill the missing day.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),  # display name, for boards
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, group-local
    Column("makeup", Boolean, nullable=False, default=False),  # filled by 补签
    Column("ts", Float, nullable=False),
    UniqueConstraint("platform", "group_id", "member_id", "day"),
)

points_ledger = Table(
    "points_ledger",
    metadata,
    # Signed entries; a member's balance is the sum. ``day`` (group-local) lets a
    # daily cap per reason be checked against farming.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("reason", String(64), nullable=False),  # checkin | checkin.tier.7 | makeup ...
    Column("day", String(10), nullable=False),
    Column("ts", Float, nullable=False),
    Index(None, "platform", "group_id", "member_id"),
)
