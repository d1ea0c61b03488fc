"""Invite links / 群活码 with attribution, and fission campaigns (migration 0015).

- ``invite_codes``: one public 活码 (``/j/<code>``) over a set of groups;
- ``invite_targets``: the groups of a code in roll-over order, each with the platform's
  own invite link (or QR image) and ``invite_key``, the normalised link/code a join
  names in ``MemberJoined.invite`` (per-link attribution);
- ``invite_visits``: each visit of the public page (and which group it was sent to);
- ``invite_joins``: every attributed join: through which code/target, brought by whom
  (a campaign referrer or the platform's own inviter), and for campaigns its standing
  (``pending`` → ``qualified`` | ``flagged`` | ``left`` | ``gate_failed``);
- ``invite_campaigns`` / ``invite_referrers`` / ``invite_rewards``: fission campaigns,
  each member's personal code, and rewards granted at thresholds (unique per referrer
  and threshold: granted exactly once, whatever restarts);
- ``invite_seeds``: seed users (种子用户), the first members or marked by an operator.
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
    "invite_campaigns",
    "invite_codes",
    "invite_joins",
    "invite_referrers",
    "invite_rewards",
    "invite_seeds",
    "invite_targets",
    "invite_visits",
]

invite_codes = Table(
    "invite_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False),  # the public part of /j/<code>
    Column("name", Text, nullable=False, default=""),
    Column("cap", Integer, nullable=False, default=480),  # members per group before roll-over
    Column("reserve", Integer, nullable=False, default=10),  # places kept for racing joins
    Column("status", String(16), nullable=False, default="active"),  # active | paused
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
    UniqueConstraint("code"),
)

invite_targets = Table(
    "invite_targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_id", Integer, ForeignKey("invite_codes.id"), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("link", Text, nullable=False, default=""),  # what the visitor is sent to / shown
    Column("qr_url", Text, nullable=False, default=""),  # a QR image (WeChat/QQ groups)
    Column("invite_key", String(255), nullable=True),  # normalised link/code joins name
    Column("cap", Integer, nullable=True),  # overrides the code's cap for this group
    Column("size", Integer, nullable=True),  # operator-entered size (no join events)
    Column("status", String(16), nullable=False, default="open"),  # open | full | archived
    UniqueConstraint("code_id", "platform", "group_id"),
    Index(None, "platform", "invite_key"),
)

invite_visits = Table(
    "invite_visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_id", Integer, ForeignKey("invite_codes.id"), nullable=False),
    Column("target_id", Integer, nullable=True),  # None: every group was full
    Column("ref", String(64), nullable=True),  # a referrer's personal code (?r=)
    Column("ts", Float, nullable=False),
    Index(None, "code_id", "ts"),
)

invite_campaigns = Table(
    "invite_campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("code_id", Integer, ForeignKey("invite_codes.id"), nullable=True),
    Column("stay_days", Float, nullable=True),  # None: each group's InvitesSettings.stay_days
    Column("tiers", Text, nullable=False, default="[]"),  # JSON [{n, reward, points}]
    Column("status", String(16), nullable=False, default="active"),  # active | ended
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(255), nullable=False, default=""),
)

invite_referrers = Table(
    "invite_referrers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("invite_campaigns.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("group_id", String(255), nullable=False, default=""),  # where points are credited
    Column("ref", String(64), nullable=False),  # personal code: /j/<code>?r=<ref>
    Column("invite_key", String(255), nullable=True),  # a personal platform link, if any
    Column("created_at", Float, nullable=False),
    UniqueConstraint("campaign_id", "platform", "member_id"),
    UniqueConstraint("ref"),
    Index(None, "platform", "invite_key"),
)

invite_joins = Table(
    "invite_joins",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_key", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", String(255), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("ts", Float, nullable=False),
    Column("invite", Text, nullable=True),  # what the platform said, as it said it
    Column("code_id", Integer, nullable=True),
    Column("target_id", Integer, nullable=True),
    Column("inviter_id", String(255), nullable=True),  # who brought them (platform id)
    Column("campaign_id", Integer, nullable=True),
    Column("referrer_id", Integer, nullable=True),
    # pending | qualified | flagged | left | gate_failed (campaign joins); "" otherwise
    Column("status", String(16), nullable=False, default=""),
    Column("reason", String(64), nullable=False, default=""),  # why flagged / not counted
    Column("left_at", Float, nullable=True),
    Column("decided_at", Float, nullable=True),
    UniqueConstraint("platform", "event_key"),
    Index(None, "platform", "group_id", "member_id"),
    Index(None, "campaign_id", "status"),
)

invite_rewards = Table(
    "invite_rewards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_id", Integer, ForeignKey("invite_campaigns.id"), nullable=False),
    Column("referrer_id", Integer, ForeignKey("invite_referrers.id"), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("reward", Text, nullable=False, default=""),
    Column("points", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # credited | to_hand_out | handed_out
    Column("granted_at", Float, nullable=False),
    UniqueConstraint("campaign_id", "referrer_id", "threshold"),
)

invite_seeds = Table(
    "invite_seeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("member_id", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("source", String(16), nullable=False),  # first | operator
    Column("marked_at", Float, nullable=False),
    Column("marked_by", String(255), nullable=False, default=""),
    UniqueConstraint("platform", "member_id"),
)
