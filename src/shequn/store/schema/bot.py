"""Live-bot state (migration 0002): processed events, strikes, the action outbox, tasks, alerts."""

from __future__ import annotations

from sqlalchemy import (
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
    # the tick forgets keys processed before the pipeline's dedupe horizon, oldest first
    Index(None, "processed_at"),
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
    Column(
        "status", String(16), nullable=False
    ),  # planned|done|failed|human_task|undone|lifted|dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("event_key", String(255), nullable=True),
    Column("strike_id", Integer, ForeignKey("strikes.id"), nullable=True),
    Column("undo_of", Integer, nullable=True),
    Column("operator", String(255), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
    # After a failed call: not tried again before this time (retry-after or back-off;
    # migration 0012).
    Column("not_before", Float, nullable=True),
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
    # migration 0023: posted to the operators' group (or passed over: no such group)
    Column("notified_at", Float, nullable=True),
    # migration 0024: the notices job's scan, every tick (open, not posted, oldest first)
    Index(None, "status", "notified_at", "created_at"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("strike_id", Integer, ForeignKey("strikes.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | accepted | rejected
    Column("created_at", Float, nullable=False),
    # migration 0023: whose it is (as other bot tables keep it: a member's erasure finds
    # it), the name they showed (the answer @-mentions it), the human task the appeal
    # opened, and the decision
    Column("platform", String(32), nullable=True),
    Column("member_id", String(255), nullable=True),
    Column("member_name", String(255), nullable=True),
    Column("via", String(8), nullable=True),  # group | dm: where the answer goes
    Column("task_id", Integer, nullable=True),
    Column("decided_by", String(255), nullable=True),
    Column("decided_at", Float, nullable=True),
    Column("note", Text, nullable=True),
    Index(None, "strike_id"),
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
    # migration 0023: posted to the operators' group (or passed over: no such group)
    Column("notified_at", Float, nullable=True),
    # migration 0024: the notices job's scan, every tick (open, not posted, oldest first)
    Index(None, "status", "notified_at", "created_at"),
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

blocklist = Table(
    "blocklist",
    metadata,
    # migration 0025: the deployment's blocklist (全局黑名单). A member the strike ladder
    # removed for ads in one group (or an operator listed) is removed from the other
    # groups of the same platform where the bot sees them, and again if they join or
    # post there. One active row per member; lifting it undoes the removals it made.
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("member_name", String(255), nullable=False, default=""),
    Column("group_id", String(255), nullable=False, default=""),  # where it was decided
    Column("rule", String(32), nullable=False, default=""),  # the strike's label; "" by hand
    Column("strike_id", Integer, nullable=True),
    Column("action_id", Integer, nullable=True),  # the kick/ban that listed them
    Column("evidence", Text, nullable=False, default="{}"),  # JSON: the strike's evidence
    Column("status", String(16), nullable=False),  # active | lifted
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=True),  # the operator; None: the bot
    # when the other groups were swept (None: the next tick sweeps them)
    Column("swept_at", Float, nullable=True),
    Column("lifted_at", Float, nullable=True),
    Column("lifted_by", String(255), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Index(None, "platform", "member_id", "status"),
    Index(None, "action_id"),
)
