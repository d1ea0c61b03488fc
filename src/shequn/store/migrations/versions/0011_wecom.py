"""wecom: WeCom customer groups, tags and owner tasks

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_groups",
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("synced_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_wecom_groups")),
    )
    op.create_table(
        "wecom_owner_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("human_task_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_owner_tasks")),
        sa.UniqueConstraint("human_task_id", name=op.f("uq_wecom_owner_tasks_human_task_id")),
    )
    op.create_index(
        op.f("ix_wecom_owner_tasks_status"), "wecom_owner_tasks", ["status"], unique=False
    )
    op.create_table(
        "wecom_mass_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wecom_mass_sends")),
        sa.UniqueConstraint("chat_id", "day", name=op.f("uq_wecom_mass_sends_chat_id_day")),
    )


def downgrade() -> None:
    op.drop_table("wecom_mass_sends")
    op.drop_index(op.f("ix_wecom_owner_tasks_status"), table_name="wecom_owner_tasks")
    op.drop_table("wecom_owner_tasks")
    op.drop_table("wecom_groups")
