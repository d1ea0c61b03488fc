"""The member CRM: tags (migration 0013); notes, identities, segments, campaigns, orders (0016).

Members are named by ``platform`` + the platform's own member id, like the other
feature tables. A tag has a ``category`` (``""`` for a free tag; ``city``,
``interest``, ``work``, ``consumption``… or a WeCom tag group's name) and a
``source``: ``console`` for an operator's tag, ``wecom`` for one synced from WeCom's
corporate tags, ``import`` for a CSV import. A sync replaces only its own source's
tags, so an operator's tags survive it.
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
    "crm_campaigns",
    "crm_coupons",
    "crm_orders",
    "crm_segments",
    "crm_shops",
    "member_identities",
    "member_notes",
    "member_profiles",
    "member_tags",
]

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

# -- the CRM proper (migration 0016) ---------------------------------------------------

member_notes = Table(
    "member_notes",
    metadata,
    # An operator's free-text note on one account (shown on every linked account's page).
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    Index(None, "platform", "member_id"),
)

member_profiles = Table(
    "member_profiles",
    metadata,
    # One person known under several accounts (merged identities). An account belongs
    # to at most one profile; a profile with fewer than two accounts is deleted.
    Column("id", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
)

member_identities = Table(
    "member_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("profile_id", Integer, ForeignKey("member_profiles.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    UniqueConstraint("platform", "member_id"),
    Index(None, "profile_id"),
)

crm_segments = Table(
    "crm_segments",
    metadata,
    # A saved segment: a name and its filter (JSON of ``features.crm.segments.Filter``).
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("filter", Text, nullable=False, default="{}"),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("name"),
)

crm_campaigns = Table(
    "crm_campaigns",
    metadata,
    # A promotion / coupon batch sent to a segment: the unit of the campaign funnel.
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("code", String(64), nullable=False, default=""),  # shared code; "" = one per member
    Column("segment_id", Integer, ForeignKey("crm_segments.id"), nullable=True),
    Column("mass_id", Integer, nullable=True),  # content_mass.id of the announcement
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
)

crm_coupons = Table(
    "crm_coupons",
    metadata,
    # One coupon per member per campaign: who received which code, and when.
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("crm_campaigns.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("code", String(64), nullable=False),
    Column("sent_at", Float, nullable=False),
    UniqueConstraint("campaign_id", "platform", "member_id"),
    Index(None, "code"),
    Index(None, "platform", "member_id"),
)

crm_shops = Table(
    "crm_shops",
    metadata,
    # A shop that reports orders through the webhook; only the token's SHA-256 is kept.
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name"),
)

crm_orders = Table(
    "crm_orders",
    metadata,
    # An order by a member. ``shop`` + ``external_id`` (the shop's own order id) make a
    # webhook or import replay find the order instead of recording it twice.
    Column("id", Integer, primary_key=True),
    Column("shop", String(64), nullable=False, default=""),
    Column("external_id", String(128), nullable=True),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("amount_cents", Integer, nullable=False, default=0),
    Column("currency", String(8), nullable=False, default="CNY"),
    Column("item", Text, nullable=False, default=""),
    Column("coupon_code", String(64), nullable=True),
    Column("campaign_id", Integer, ForeignKey("crm_campaigns.id"), nullable=True),
    Column("ordered_at", Float, nullable=False),
    Column("source", String(16), nullable=False),  # manual | csv | webhook
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    UniqueConstraint("shop", "external_id"),
    Index(None, "platform", "member_id"),
    Index(None, "campaign_id"),
)
