"""Group settings edited in the console, group templates and FAQ banks (migration 0014).

``group_settings`` holds, per group, the console's overrides (``doc``: a JSON table in
the shape of a ``[[groups]]`` table of ``shequn.toml``, validated by the same parser)
and the toml layer the bot last published (``toml``), so the console can show where
each value comes from. ``settings_versions`` is bumped by every write: the bot looks at
one row every few seconds and reloads only when it moved. A DB FAQ bank (``faq_banks``)
belongs to a group set or to one group; each edit bumps its ``version`` so the bot's
matcher is rebuilt on the next question.
"""

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

__all__ = [
    "faq_bank_entries",
    "faq_banks",
    "group_settings",
    "group_templates",
    "settings_versions",
]

group_settings = Table(
    "group_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),  # "*" + "*": the [defaults] table
    Column("group_id", String(255), nullable=False),
    Column("doc", Text, nullable=False, default="{}"),  # console overrides (JSON)
    Column("toml", Text, nullable=True),  # the toml layer as the bot last published it
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(255), nullable=False, default=""),
    UniqueConstraint("platform", "group_id"),
)

settings_versions = Table(
    "settings_versions",
    metadata,
    Column("scope", String(32), primary_key=True),  # "groups"
    Column("version", Integer, nullable=False, default=0),
)

group_templates = Table(
    "group_templates",
    metadata,
    # A well-run group's settings, FAQ bank and content plans, to copy (复制).
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("doc", Text, nullable=False, default="{}"),  # settings (JSON, toml shape)
    Column("faq", Text, nullable=True),  # the FAQ bank's entries (JSON list) or null
    Column("plans", Text, nullable=False, default="[]"),  # content plans (JSON list)
    Column("source_platform", String(32), nullable=True),
    Column("source_group_id", String(255), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    UniqueConstraint("name"),
)

faq_banks = Table(
    "faq_banks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),  # settings name it as "db:<name>"
    # Who shares it: a group set, or one group (platform + group_id).
    Column("group_set_id", Integer, ForeignKey("console_group_sets.id"), nullable=True),
    Column("platform", String(32), nullable=True),
    Column("group_id", String(255), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("name"),
)

faq_bank_entries = Table(
    "faq_bank_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bank_id", Integer, ForeignKey("faq_banks.id"), nullable=False),
    Column("entry_key", String(255), nullable=False),  # the entry's id in the bank
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False, default=""),
    Column("variants", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("keywords", Text, nullable=False, default="[]"),  # JSON list; "re:" = regex
    Column("image", Text, nullable=False, default=""),
    Column("link", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("bank_id", "entry_key"),
    Index(None, "bank_id", "position"),
)
