"""Content plans, scheduled posts, mass messages and the topic calendar (migration 0009);
tracked links with their click counts (migration 0020)."""

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
    "content_links",
    "content_mass",
    "content_plan_groups",
    "content_plans",
    "content_sends",
    "content_topics",
]

content_plans = Table(
    "content_plans",
    metadata,
    # One scheduled post (内容计划 / SOP item): what to post and when, in local time.
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("image_url", Text, nullable=False, default=""),
    Column("link", Text, nullable=False, default=""),
    # once | weekly | after_creation | after_join
    Column("kind", String(16), nullable=False),
    Column("at_local", String(16), nullable=False, default=""),  # once: YYYY-MM-DD HH:MM
    Column("weekdays", String(16), nullable=False, default=""),  # weekly: "0,1,2,3,4" (Mon=0)
    Column("window_start", String(5), nullable=False, default="09:00"),
    Column("window_end", String(5), nullable=False, default="09:00"),
    Column("days", Integer, nullable=False, default=0),  # after_*: N days
    Column("timezone", String(64), nullable=False, default=""),  # "": the group's zone
    Column("jitter", Boolean, nullable=False, default=True),
    Column("status", String(16), nullable=False, default="active"),  # active | paused
    # Occurrences due before this (creation, or the last resume) are never posted.
    Column("active_from", Float, nullable=False),
    # A whole group set (its members at tick time) besides the listed groups.
    Column("group_set_id", Integer, ForeignKey("console_group_sets.id"), nullable=True),
    Column("created_by", String(255), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

content_plan_groups = Table(
    "content_plan_groups",
    metadata,
    Column("plan_id", Integer, ForeignKey("content_plans.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    UniqueConstraint("plan_id", "platform", "group_id"),
)

content_mass = Table(
    "content_mass",
    metadata,
    # A mass message (群发); its recipients are ``content_sends`` rows (source "mass").
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("image_url", Text, nullable=False, default=""),
    Column("link", Text, nullable=False, default=""),
    Column("not_before", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

content_topics = Table(
    "content_topics",
    metadata,
    # Topic calendar (话题策划): one topic a day per group, its product link, its result.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, group-local
    Column("post_at", String(5), nullable=False),  # HH:MM local
    Column("text", Text, nullable=False),
    Column("product_text", Text, nullable=False, default=""),
    Column("product_link", Text, nullable=False, default=""),
    Column("link_after_messages", Integer, nullable=False, default=10),  # K replies ...
    Column("link_at", String(5), nullable=False, default=""),  # ... or this local time
    Column("timezone", String(64), nullable=False, default=""),
    # scheduled | posted | linked | done
    Column("status", String(16), nullable=False, default="scheduled"),
    Column("posted_at", Float, nullable=True),
    Column("linked_at", Float, nullable=True),
    Column("replies", Integer, nullable=True),  # messages in the watch window
    Column("participants", Integer, nullable=True),  # distinct members who wrote them
    Column("created_by", String(255), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("platform", "group_id", "day"),
)

content_sends = Table(
    "content_sends",
    metadata,
    # One row per (plan occurrence | mass recipient) and group: the unique key makes a
    # second tick, or a tick after a restart, find the row and plan nothing again.
    Column("id", Integer, primary_key=True),
    Column("source", String(8), nullable=False),  # plan | mass
    Column("source_id", Integer, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("occurrence", String(128), nullable=False),  # local date, "once", join:<member>
    Column("due_at", Float, nullable=False),
    # queued (waiting for rate / cap) | planned (has a bot action) | missed (too late)
    Column("status", String(16), nullable=False),
    Column("action_id", Integer, nullable=True),  # bot_actions.id once planned
    Column("planned_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("source", "source_id", "platform", "group_id", "occurrence"),
    Index(None, "status", "platform"),
)

content_links = Table(
    "content_links",
    metadata,
    # A tracked link (migration 0020): the bot posts ``<public url>/l/<code>``; the
    # console's public redirect counts each visit and sends the visitor to ``target``.
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("source", String(16), nullable=False),  # topic (what posted it)
    Column("source_id", Integer, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("clicks", Integer, nullable=False, default=0),
    Column("first_click_at", Float, nullable=True),
    Column("last_click_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("code"),
    Index(None, "source", "source_id"),
)
