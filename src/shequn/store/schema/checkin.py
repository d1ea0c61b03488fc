"""Check-ins and the points ledger (migration 0003); redemptions and awards (0019)."""

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
    # What earned it (``poll:3``, ``msg:<id>``, migration 0019): one award per thing.
    Column("ref", String(255), nullable=True),
    Index(None, "platform", "group_id", "member_id"),
)

point_redemptions = Table(
    "point_redemptions",
    metadata,
    # A reward a member bought with points (兑换, migration 0019): the points are
    # debited in the same transaction; an operator hands the reward out (``fulfilled``)
    # or refunds it (``cancelled``). One per message, so a replay never buys twice.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("reward", String(64), nullable=False),
    Column("cost", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending | fulfilled | cancelled
    Column("message_id", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("handled_at", Float, nullable=True),
    Column("handled_by", String(255), nullable=True),
    UniqueConstraint("platform", "group_id", "message_id"),
)

point_awards = Table(
    "point_awards",
    metadata,
    # The top 10 of a period (荣誉驱动, migration 0019): ``period`` is an ISO week
    # (``2026-W39``); a row per member placed, written once when the week is announced.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("period", String(16), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),
    Column("points", Integer, nullable=False),  # earned in the period
    Column("bonus", Integer, nullable=False, default=0),
    Column("ts", Float, nullable=False),
    UniqueConstraint("platform", "group_id", "period", "member_id"),
)
