"""layers: member layers kept live, with history

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "layer_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("forwards", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("invites", sa.Integer(), nullable=False),
        sa.Column("invites_stayed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_days")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "member_id",
            "day",
            name=op.f("uq_layer_days_platform_group_id_member_id_day"),
        ),
    )
    op.create_index(
        op.f("ix_layer_days_platform_group_id_day"),
        "layer_days",
        ["platform", "group_id", "day"],
        unique=False,
    )
    op.create_table(
        "layer_group_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_group_days")),
        sa.UniqueConstraint(
            "platform", "group_id", "day", name=op.f("uq_layer_group_days_platform_group_id_day")
        ),
    )
    op.create_table(
        "layer_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("window_start", sa.String(length=10), nullable=False),
        sa.Column("evaluated_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_groups")),
        sa.UniqueConstraint("platform", "group_id", name=op.f("uq_layer_groups_platform_group_id")),
    )
    op.create_table(
        "layer_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("from_layer", sa.String(length=32), nullable=False),
        sa.Column("to_layer", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_history")),
    )
    op.create_index(
        op.f("ix_layer_history_platform_group_id_member_id"),
        "layer_history",
        ["platform", "group_id", "member_id"],
        unique=False,
    )
    op.create_table(
        "layer_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("computed", sa.String(length=32), nullable=False),
        sa.Column("best", sa.String(length=32), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("failing_since", sa.Float(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("card", sa.String(length=255), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("forwards", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("invites", sa.Integer(), nullable=False),
        sa.Column("invites_stayed", sa.Integer(), nullable=False),
        sa.Column("checkins", sa.Integer(), nullable=False),
        sa.Column("activities", sa.Integer(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_members")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "member_id",
            name=op.f("uq_layer_members_platform_group_id_member_id"),
        ),
    )
    op.create_index(
        op.f("ix_layer_members_platform_group_id_dirty"),
        "layer_members",
        ["platform", "group_id", "dirty"],
        unique=False,
    )
    op.create_table(
        "layer_reach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layer_reach")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "member_id",
            "source_id",
            name=op.f("uq_layer_reach_platform_group_id_member_id_source_id"),
        ),
    )
    op.create_index(
        op.f("ix_layer_reach_platform_group_id_day"),
        "layer_reach",
        ["platform", "group_id", "day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_layer_reach_platform_group_id_day"), table_name="layer_reach")
    op.drop_table("layer_reach")
    op.drop_index(op.f("ix_layer_members_platform_group_id_dirty"), table_name="layer_members")
    op.drop_table("layer_members")
    op.drop_index(op.f("ix_layer_history_platform_group_id_member_id"), table_name="layer_history")
    op.drop_table("layer_history")
    op.drop_table("layer_groups")
    op.drop_table("layer_group_days")
    op.drop_index(op.f("ix_layer_days_platform_group_id_day"), table_name="layer_days")
    op.drop_table("layer_days")
