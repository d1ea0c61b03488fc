"""Member layers kept live, with history (migration 0008).

Member and group ids are the platform's own strings, like the other feature tables.
Days are ``YYYY-MM-DD`` in the layers' time zone, so they compare as strings.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from shequn.store.schema.base import metadata

__all__ = [
    "layer_days",
    "layer_group_days",
    "layer_groups",
    "layer_history",
    "layer_members",
    "layer_reach",
]

layer_days = Table(
    "layer_days",
    metadata,
    # One row per member per day with anything counted: the buckets the rolling window
    # is made of. When the window slides past a day, its counts leave the totals.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),
    Column("messages", Integer, nullable=False, default=0),
    Column("forwards", Integer, nullable=False, default=0),
    Column("replies", Integer, nullable=False, default=0),  # replies received
    Column("mentions", Integer, nullable=False, default=0),  # mentions received
    Column("reactions", Integer, nullable=False, default=0),  # reactions received
    Column("invites", Integer, nullable=False, default=0),  # members they brought in
    Column("invites_stayed", Integer, nullable=False, default=0),
    UniqueConstraint("platform", "group_id", "member_id", "day"),
    Index(None, "platform", "group_id", "day"),
)

layer_reach = Table(
    "layer_reach",
    metadata,
    # Who replied to or mentioned whom, and the last day they did: reach is the number
    # of distinct sources whose last day is inside the window.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),  # the one reached
    Column("source_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),
    UniqueConstraint("platform", "group_id", "member_id", "source_id"),
    Index(None, "platform", "group_id", "day"),
)

layer_group_days = Table(
    "layer_group_days",
    metadata,
    # The group's active days (a message that day): the window is the last N of them.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),
    UniqueConstraint("platform", "group_id", "day"),
)

layer_groups = Table(
    "layer_groups",
    metadata,
    # The window start the members' totals are counted from ("" = all days).
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("window_start", String(10), nullable=False, default=""),
    Column("evaluated_at", Float, nullable=True),
    UniqueConstraint("platform", "group_id"),
)

layer_members = Table(
    "layer_members",
    metadata,
    # The current layer and the rolling totals of each known member of a group.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, default=""),  # last display name / card
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("layer", String(32), nullable=False, default="bystander"),  # held (hysteresis)
    Column("computed", String(32), nullable=False, default="bystander"),  # rules today
    Column("best", String(32), nullable=False, default="bystander"),  # best ever held
    Column("since", Float, nullable=False),  # when ``layer`` was entered
    Column("failing_since", Float, nullable=True),  # rules below ``layer`` since then
    Column("reasons", Text, nullable=False, default="[]"),  # JSON list, group language
    Column("card", String(255), nullable=True),  # the card the bot last set
    Column("messages", Integer, nullable=False, default=0),
    Column("active_days", Integer, nullable=False, default=0),
    Column("forwards", Integer, nullable=False, default=0),
    Column("replies", Integer, nullable=False, default=0),
    Column("mentions", Integer, nullable=False, default=0),
    Column("reach", Integer, nullable=False, default=0),
    Column("reactions", Integer, nullable=False, default=0),
    Column("invites", Integer, nullable=False, default=0),
    Column("invites_stayed", Integer, nullable=False, default=0),
    Column("checkins", Integer, nullable=False, default=0),
    Column("activities", Integer, nullable=False, default=0),
    Column("dirty", Boolean, nullable=False, default=False),  # changed since evaluated
    UniqueConstraint("platform", "group_id", "member_id"),
    Index(None, "platform", "group_id", "dirty"),
    # migration 0025: the groups a member is known in (the blocklist's sweep)
    Index(None, "platform", "member_id"),
)

layer_history = Table(
    "layer_history",
    metadata,
    # Every change of a member's held layer, with the reasons at that moment.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("from_layer", String(32), nullable=False),
    Column("to_layer", String(32), nullable=False),
    Column("ts", Float, nullable=False),
    Column("reasons", Text, nullable=False, default="[]"),
    Index(None, "platform", "group_id", "member_id"),
)
