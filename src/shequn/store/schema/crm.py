"""The member CRM: tags across platforms (migration 0013), and what the CRM adds later.

Members are named by ``platform`` + the platform's own member id, like the other
feature tables. A tag has a ``category`` (``""`` for a free tag; ``city``,
``interest``, ``work``, ``consumption``… or a WeCom tag group's name) and a
``source``: ``console`` for an operator's tag, ``wecom`` for one synced from WeCom's
corporate tags, ``import`` for a CSV import. A sync replaces only its own source's
tags, so an operator's tags survive it.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from shequn.store.schema.base import metadata

__all__ = ["member_tags"]

member_tags = Table(
    "member_tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("category", String(64), nullable=False, default=""),
    Column("tag", Text, nullable=False),
    Column("source", String(16), nullable=False, default="console"),
    Column("source_id", String(255), nullable=True),  # e.g. WeCom's tag id
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=True),  # console user name, or None
    UniqueConstraint("platform", "member_id", "category", "tag"),
    Index(None, "category", "tag"),
)
