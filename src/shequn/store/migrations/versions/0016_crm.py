"""member CRM: notes, identities, segments, orders

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_index("ix_member_notes_platform_member_id", "member_notes", ["platform", "member_id"])
    op.create_table(
        "member_profiles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "member_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "profile_id", sa.Integer(),
            sa.ForeignKey("member_profiles.id", name="fk_member_identities_profile_id_member_profiles"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.UniqueConstraint(
            "platform", "member_id", name="uq_member_identities_platform_member_id"
        ),
    )  # fmt: skip
    op.create_index("ix_member_identities_profile_id", "member_identities", ["profile_id"])
    op.create_table(
        "crm_segments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("name", name="uq_crm_segments_name"),
    )
    op.create_table(
        "crm_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column(
            "segment_id", sa.Integer(),
            sa.ForeignKey("crm_segments.id", name="fk_crm_campaigns_segment_id_crm_segments"),
            nullable=True,
        ),
        sa.Column("mass_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )  # fmt: skip
    op.create_table(
        "crm_coupons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id", sa.Integer(),
            sa.ForeignKey("crm_campaigns.id", name="fk_crm_coupons_campaign_id_crm_campaigns"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.UniqueConstraint(
            "campaign_id", "platform", "member_id",
            name="uq_crm_coupons_campaign_id_platform_member_id",
        ),
    )  # fmt: skip
    op.create_index("ix_crm_coupons_code", "crm_coupons", ["code"])
    op.create_index("ix_crm_coupons_platform_member_id", "crm_coupons", ["platform", "member_id"])
    op.create_table(
        "crm_shops",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("name", name="uq_crm_shops_name"),
    )
    op.create_table(
        "crm_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("coupon_code", sa.String(64), nullable=True),
        sa.Column(
            "campaign_id", sa.Integer(),
            sa.ForeignKey("crm_campaigns.id", name="fk_crm_orders_campaign_id_crm_campaigns"),
            nullable=True,
        ),
        sa.Column("ordered_at", sa.Float(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("shop", "external_id", name="uq_crm_orders_shop_external_id"),
    )  # fmt: skip
    op.create_index("ix_crm_orders_platform_member_id", "crm_orders", ["platform", "member_id"])
    op.create_index("ix_crm_orders_campaign_id", "crm_orders", ["campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_crm_orders_campaign_id", table_name="crm_orders")
    op.drop_index("ix_crm_orders_platform_member_id", table_name="crm_orders")
    op.drop_table("crm_orders")
    op.drop_table("crm_shops")
    op.drop_index("ix_crm_coupons_platform_member_id", table_name="crm_coupons")
    op.drop_index("ix_crm_coupons_code", table_name="crm_coupons")
    op.drop_table("crm_coupons")
    op.drop_table("crm_campaigns")
    op.drop_table("crm_segments")
    op.drop_index("ix_member_identities_profile_id", table_name="member_identities")
    op.drop_table("member_identities")
    op.drop_table("member_profiles")
    op.drop_index("ix_member_notes_platform_member_id", table_name="member_notes")
    op.drop_table("member_notes")
