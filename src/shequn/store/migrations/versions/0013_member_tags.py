"""member tags: the CRM's tags across platforms (console, WeCom sync, import)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("member_id", sa.String(255), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.UniqueConstraint(
            "platform", "member_id", "category", "tag",
            name="uq_member_tags_platform_member_id_category_tag",
        ),
    )  # fmt: skip
    op.create_index("ix_member_tags_category_tag", "member_tags", ["category", "tag"])


def downgrade() -> None:
    op.drop_index("ix_member_tags_category_tag", table_name="member_tags")
    op.drop_table("member_tags")
