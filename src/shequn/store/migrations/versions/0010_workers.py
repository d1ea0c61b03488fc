"""workers: bot workers: inbox and group leases

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("lease_key", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("platform", "event_key", name=op.f("uq_inbox_platform_event_key")),
    )
    op.create_index(
        op.f("ix_inbox_status_lease_key_id"), "inbox", ["status", "lease_key", "id"], unique=False
    )
    op.create_table(
        "group_leases",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("lease_key", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.Float(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("leased_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "group_id", name=op.f("pk_group_leases")),
    )


def downgrade() -> None:
    op.drop_table("group_leases")
    op.drop_index(op.f("ix_inbox_status_lease_key_id"), table_name="inbox")
    op.drop_table("inbox")
