"""alerts and human tasks: an index for the notices tick job's scan (open, not yet
posted, oldest first), which runs every tick however large the tables grow

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-22 10:00:00
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_COLUMNS = ["status", "notified_at", "created_at"]


def upgrade() -> None:
    for table in ("alerts", "human_tasks"):
        op.create_index(
            op.f(f"ix_{table}_status_notified_at_created_at"), table, _COLUMNS, unique=False
        )


def downgrade() -> None:
    for table in ("alerts", "human_tasks"):
        op.drop_index(op.f(f"ix_{table}_status_notified_at_created_at"), table_name=table)
