"""group settings, templates and FAQ banks edited in the console

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.String(255), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("toml", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("platform", "group_id", name="uq_group_settings_platform_group_id"),
    )
    op.create_table(
        "settings_versions",
        sa.Column("scope", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "group_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("faq", sa.Text(), nullable=True),
        sa.Column("plans", sa.Text(), nullable=False),
        sa.Column("source_platform", sa.String(32), nullable=True),
        sa.Column("source_group_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("name", name="uq_group_templates_name"),
    )
    op.create_table(
        "faq_banks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column(
            "group_set_id",
            sa.Integer(),
            sa.ForeignKey(
                "console_group_sets.id", name="fk_faq_banks_group_set_id_console_group_sets"
            ),
            nullable=True,
        ),
        sa.Column("platform", sa.String(32), nullable=True),
        sa.Column("group_id", sa.String(255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("name", name="uq_faq_banks_name"),
    )
    op.create_table(
        "faq_bank_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "bank_id",
            sa.Integer(),
            sa.ForeignKey("faq_banks.id", name="fk_faq_bank_entries_bank_id_faq_banks"),
            nullable=False,
        ),
        sa.Column("entry_key", sa.String(255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("variants", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("image", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("bank_id", "entry_key", name="uq_faq_bank_entries_bank_id_entry_key"),
    )
    op.create_index(
        "ix_faq_bank_entries_bank_id_position", "faq_bank_entries", ["bank_id", "position"]
    )


def downgrade() -> None:
    op.drop_index("ix_faq_bank_entries_bank_id_position", table_name="faq_bank_entries")
    op.drop_table("faq_bank_entries")
    op.drop_table("faq_banks")
    op.drop_table("group_templates")
    op.drop_table("settings_versions")
    op.drop_table("group_settings")
