"""tracked links: the topic calendar's product links, counted at /l/<code>

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-21 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("first_click_at", sa.Float(), nullable=True),
        sa.Column("last_click_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("code", name="uq_content_links_code"),
    )
    op.create_index("ix_content_links_source_source_id", "content_links", ["source", "source_id"])


def downgrade() -> None:
    op.drop_index("ix_content_links_source_source_id", table_name="content_links")
    op.drop_table("content_links")
