"""processed events: an index on when each was processed, for forgetting old keys

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-21 17:00:00
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_events_processed_at"), ["processed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_processed_at"))
