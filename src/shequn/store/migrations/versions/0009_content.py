"""content: content plans, scheduled posts, mass messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at_local", sa.String(length=16), nullable=False),
        sa.Column("weekdays", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.String(length=5), nullable=False),
        sa.Column("window_end", sa.String(length=5), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("jitter", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_from", sa.Float(), nullable=False),
        sa.Column("group_set_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_set_id"],
            ["console_group_sets.id"],
            name=op.f("fk_content_plans_group_set_id_console_group_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_plans")),
    )
    op.create_table(
        "content_plan_groups",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["content_plans.id"],
            name=op.f("fk_content_plan_groups_plan_id_content_plans"),
        ),
        sa.UniqueConstraint(
            "plan_id",
            "platform",
            "group_id",
            name=op.f("uq_content_plan_groups_plan_id_platform_group_id"),
        ),
    )
    op.create_table(
        "content_mass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("not_before", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_mass")),
    )
    op.create_table(
        "content_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("post_at", sa.String(length=5), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("product_text", sa.Text(), nullable=False),
        sa.Column("product_link", sa.Text(), nullable=False),
        sa.Column("link_after_messages", sa.Integer(), nullable=False),
        sa.Column("link_at", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("posted_at", sa.Float(), nullable=True),
        sa.Column("linked_at", sa.Float(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_topics")),
        sa.UniqueConstraint(
            "platform", "group_id", "day", name=op.f("uq_content_topics_platform_group_id_day")
        ),
    )
    op.create_table(
        "content_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("occurrence", sa.String(length=128), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("planned_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_sends")),
        sa.UniqueConstraint(
            "source",
            "source_id",
            "platform",
            "group_id",
            "occurrence",
            name=op.f("uq_content_sends_source_source_id_platform_group_id_occurrence"),
        ),
    )
    with op.batch_alter_table("content_sends", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_content_sends_status_platform"), ["status", "platform"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("content_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_sends_status_platform"))
    op.drop_table("content_sends")
    op.drop_table("content_topics")
    op.drop_table("content_mass")
    op.drop_table("content_plan_groups")
    op.drop_table("content_plans")
