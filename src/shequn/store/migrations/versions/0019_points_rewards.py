"""points rewards: what earned an entry, redemptions (兑换), weekly top-10 awards, chain kinds

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-21 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=16), nullable=False, server_default=sa.text("'signup'")
            )
        )
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=255), nullable=True))
    op.create_table(
        "point_redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("reward", sa.String(length=64), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("handled_at", sa.Float(), nullable=True),
        sa.Column("handled_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_redemptions")),
        sa.UniqueConstraint(
            "platform", "group_id", "message_id",
            name=op.f("uq_point_redemptions_platform_group_id_message_id"),
        ),
    )  # fmt: skip
    op.create_table(
        "point_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("bonus", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_awards")),
        sa.UniqueConstraint(
            "platform", "group_id", "period", "member_id",
            name=op.f("uq_point_awards_platform_group_id_period_member_id"),
        ),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("point_awards")
    op.drop_table("point_redemptions")
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.drop_column("ref")
    with op.batch_alter_table("chains", schema=None) as batch_op:
        batch_op.drop_column("kind")
