"""blocklist: members removed for ads in one group, kept out of the deployment's
other groups (全局黑名单); layer_members: an index to find a member's groups

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-22 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocklist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("member_name", sa.String(255), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("strike_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("swept_at", sa.Float(), nullable=True),
        sa.Column("lifted_at", sa.Float(), nullable=True),
        sa.Column("lifted_by", sa.String(255), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index(
        op.f("ix_blocklist_platform_member_id_status"),
        "blocklist",
        ["platform", "member_id", "status"],
        unique=False,
    )
    op.create_index(op.f("ix_blocklist_action_id"), "blocklist", ["action_id"], unique=False)
    op.create_index(
        op.f("ix_layer_members_platform_member_id"),
        "layer_members",
        ["platform", "member_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_layer_members_platform_member_id"), table_name="layer_members")
    op.drop_index(op.f("ix_blocklist_action_id"), table_name="blocklist")
    op.drop_index(op.f("ix_blocklist_platform_member_id_status"), table_name="blocklist")
    op.drop_table("blocklist")
