"""FAQ auto-reply: the questions it saw and per-entry hit statistics (migration 0005).

The queue humans work from stays ``open_questions`` (the question watch's table); a
row here adds what the FAQ knew about the same message: its text, the best entry and
score, and whether the bot answered it. Suggestions of new entries are clustered from
the rows the bot did not answer.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from shequn.store.schema.base import metadata

__all__ = ["faq_entry_stats", "faq_questions"]

faq_questions = Table(
    "faq_questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("ts", Float, nullable=False),
    Column("entry_id", String(255), nullable=True),  # best entry, even below the threshold
    Column("score", Float, nullable=True),  # None: no bank was consulted
    # answered (by the bot) | repeat (pointed at an earlier answer) | missed (below the
    # threshold: queued for humans) | unmatched (no bank) | unhelpful (member said 没用)
    Column("outcome", String(16), nullable=False),
    Column("answered_by", String(255), nullable=True),  # "bot" or the human's member id
    Column("answered_at", Float, nullable=True),
    UniqueConstraint("platform", "group_id", "message_id"),
    Index(None, "platform", "group_id", "outcome"),
)

faq_entry_stats = Table(
    "faq_entry_stats",
    metadata,
    # Counters per entry per group, updated in the event's transaction.
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("entry_id", String(255), nullable=False),
    Column("hits", Integer, nullable=False, default=0),  # matched at or above the threshold
    Column("answered", Integer, nullable=False, default=0),  # answers sent
    Column("repeats", Integer, nullable=False, default=0),  # pointed at an earlier answer
    Column("unhelpful", Integer, nullable=False, default=0),  # 没用 / 👎 after an answer
    Column("last_hit", Float, nullable=True),
    UniqueConstraint("platform", "group_id", "entry_id"),
)
