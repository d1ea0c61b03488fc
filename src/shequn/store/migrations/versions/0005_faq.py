"""faq: FAQ banks, hits, unanswered queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("entry_id", sa.String(length=255), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("answered_by", sa.String(length=255), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_questions")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "message_id",
            name=op.f("uq_faq_questions_platform_group_id_message_id"),
        ),
    )
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_questions_platform_group_id_outcome"),
            ["platform", "group_id", "outcome"],
            unique=False,
        )
    op.create_table(
        "faq_entry_stats",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("entry_id", sa.String(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("unhelpful", sa.Integer(), nullable=False),
        sa.Column("last_hit", sa.Float(), nullable=True),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "entry_id",
            name=op.f("uq_faq_entry_stats_platform_group_id_entry_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("faq_entry_stats")
    with op.batch_alter_table("faq_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_questions_platform_group_id_outcome"))
    op.drop_table("faq_questions")
