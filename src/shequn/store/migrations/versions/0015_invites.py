"""invite links / 群活码 and fission campaigns

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, other: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{other}.id"], name=f"fk_{table}_{column}_{other}")


def upgrade() -> None:
    op.create_table(
        "invite_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("reserve", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("code", name="uq_invite_codes_code"),
    )
    op.create_table(
        "invite_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("qr_url", sa.Text(), nullable=False),
        sa.Column("invite_key", sa.String(255), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _fk("invite_targets", "code_id", "invite_codes"),
        sa.UniqueConstraint(
            "code_id", "platform", "group_id", name="uq_invite_targets_code_id_platform_group_id"
        ),
    )
    op.create_index(
        "ix_invite_targets_platform_invite_key", "invite_targets", ["platform", "invite_key"]
    )
    op.create_table(
        "invite_visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        _fk("invite_visits", "code_id", "invite_codes"),
    )
    op.create_index("ix_invite_visits_code_id_ts", "invite_visits", ["code_id", "ts"])
    op.create_table(
        "invite_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("stay_days", sa.Float(), nullable=True),
        sa.Column("tiers", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.Float(), nullable=False),
        sa.Column("ends_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        _fk("invite_campaigns", "code_id", "invite_codes"),
    )
    op.create_table(
        "invite_referrers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("invite_key", sa.String(255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        _fk("invite_referrers", "campaign_id", "invite_campaigns"),
        sa.UniqueConstraint(
            "campaign_id", "platform", "member_id",
            name="uq_invite_referrers_campaign_id_platform_member_id",
        ),
        sa.UniqueConstraint("ref", name="uq_invite_referrers_ref"),
    )  # fmt: skip
    op.create_index(
        "ix_invite_referrers_platform_invite_key", "invite_referrers", ["platform", "invite_key"]
    )
    op.create_table(
        "invite_joins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("invite", sa.Text(), nullable=True),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("inviter_id", sa.String(255), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("referrer_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("left_at", sa.Float(), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.UniqueConstraint("platform", "event_key", name="uq_invite_joins_platform_event_key"),
    )
    op.create_index(
        "ix_invite_joins_platform_group_id_member_id",
        "invite_joins", ["platform", "group_id", "member_id"],
    )  # fmt: skip
    op.create_index("ix_invite_joins_campaign_id_status", "invite_joins", ["campaign_id", "status"])
    op.create_table(
        "invite_rewards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("reward", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.Float(), nullable=False),
        _fk("invite_rewards", "campaign_id", "invite_campaigns"),
        _fk("invite_rewards", "referrer_id", "invite_referrers"),
        sa.UniqueConstraint(
            "campaign_id", "referrer_id", "threshold",
            name="uq_invite_rewards_campaign_id_referrer_id_threshold",
        ),
    )  # fmt: skip
    op.create_table(
        "invite_seeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("marked_at", sa.Float(), nullable=False),
        sa.Column("marked_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("platform", "member_id", name="uq_invite_seeds_platform_member_id"),
    )


def downgrade() -> None:
    op.drop_table("invite_seeds")
    op.drop_table("invite_rewards")
    op.drop_index("ix_invite_joins_campaign_id_status", table_name="invite_joins")
    op.drop_index("ix_invite_joins_platform_group_id_member_id", table_name="invite_joins")
    op.drop_table("invite_joins")
    op.drop_index("ix_invite_referrers_platform_invite_key", table_name="invite_referrers")
    op.drop_table("invite_referrers")
    op.drop_table("invite_campaigns")
    op.drop_index("ix_invite_visits_code_id_ts", table_name="invite_visits")
    op.drop_table("invite_visits")
    op.drop_index("ix_invite_targets_platform_invite_key", table_name="invite_targets")
    op.drop_table("invite_targets")
    op.drop_table("invite_codes")
