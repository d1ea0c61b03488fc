"""The archive's tables: one row per thing that happened, keyed by platform natural keys.

Every table that an importer or adapter writes has a unique constraint on the source's
own identity (``platform`` + platform id, or ``group_id`` + platform id), so writing
the same export twice, or two exports that overlap, inserts each fact once.

Times are UTC epoch seconds in a float column (see :mod:`shequn.events` for why).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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
    Column("status", String(16), nullable=False),  # done | failed
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=True),
    Column("n_events", Integer, nullable=False, default=0),
    Column("n_new", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
)

# -- the bot engine (migration 0002) --------------------------------------------------
# Live-bot state. Platform ids are kept as the platform's own strings (not archive ids):
# these rows are written before, and independently of, the archive's identity caches,
# and a human reading a task wants the id the platform shows.

processed_events = Table(
    "processed_events",
    metadata,
    # Written in the same transaction as the archive rows and every decision the
    # event led to: a redelivered event finds its key and is not acted on again.
    Column("platform", String(32), nullable=False),
    Column("event_key", String(255), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("ts", Float, nullable=False),
    Column("processed_at", Float, nullable=False),
    UniqueConstraint("platform", "event_key"),
)

strikes = Table(
    "strikes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("rule", String(32), nullable=False),  # the verdict label: ad | spam | abuse ...
    Column("message_id", String(128), nullable=True),
    Column("evidence", Text, nullable=False, default="{}"),  # JSON: text, reasons, score
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("status", String(16), nullable=False, default="active"),  # active | revoked
    Column("revoked_by", String(255), nullable=True),
    Column("revoked_at", Float, nullable=True),
    Index(None, "platform", "group_id", "member_id"),
)

bot_actions = Table(
    "bot_actions",
    metadata,
    # The audit trail and the outbox at once: a row is written (planned) before the
    # platform call and marked done after it, so a restart retries what was decided.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=True),
    # send | delete | mute | kick | ban | unban | strike_removed
    Column("kind", String(16), nullable=False),
    Column("params", Text, nullable=False, default="{}"),  # JSON arguments of the call
    Column("reason", String(64), nullable=False, default=""),  # strike | gate.fail | undo ...
    Column("evidence", Text, nullable=False, default="{}"),
    Column("status", String(16), nullable=False),  # planned|done|failed|human_task|undone|lifted
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("event_key", String(255), nullable=True),
    Column("strike_id", Integer, ForeignKey("strikes.id"), nullable=True),
    Column("undo_of", Integer, nullable=True),
    Column("operator", String(255), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
    Index(None, "status"),
)

human_tasks = Table(
    "human_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=True),
    Column("kind", String(32), nullable=False),  # kick | mute | approve | appeal | ...
    Column("text", Text, nullable=False, default=""),  # what to do, for a person
    Column("action_id", Integer, nullable=True),
    Column("status", String(16), nullable=False, default="open"),  # open | done | expired
    Column("created_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("strike_id", Integer, ForeignKey("strikes.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | accepted | rejected
    Column("created_at", Float, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=True),
    Column("kind", String(16), nullable=False),  # uncertain | question | quarrel
    Column("message_ids", Text, nullable=False, default="[]"),  # JSON: the context
    Column("detail", Text, nullable=False, default=""),
    Column("suggestion_zh", Text, nullable=False, default=""),
    Column("suggestion_en", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),  # open | done
    Column("created_at", Float, nullable=False),
)

open_questions = Table(
    "open_questions",
    metadata,
    # Questions waiting for an answer; tick() turns the old ones into alerts.
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("ts", Float, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | answered | alerted
    UniqueConstraint("platform", "group_id", "message_id"),
)

gate_entries = Table(
    "gate_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("mode", String(16), nullable=False),  # invite_code | quiz | captcha | manual | layer
    Column("challenge", Text, nullable=False, default="{}"),  # JSON: expected answers
    Column("progress", Integer, nullable=False, default=0),  # questions answered so far
    Column("correct", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False),  # pending | passed | failed | expired
    Column("joined_at", Float, nullable=False),
    Column("deadline", Float, nullable=True),
    Column("decided_at", Float, nullable=True),
    Index(None, "platform", "group_id", "member_id"),
)

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
