"""appeals: who appealed (name as shown), the human task, and the decision;
alerts and human tasks: when they were posted to the operators' group

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-21 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appeals") as batch_op:
        # whose appeal it is, as bot tables keep it (a member's erasure finds it)
        batch_op.add_column(sa.Column("platform", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("member_id", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("member_name", sa.String(255), nullable=True))
        # where the member appealed, so the answer goes there: "group" or "dm"
        batch_op.add_column(sa.Column("via", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appeals_strike_id"), ["strike_id"], unique=False)
    for table in ("alerts", "human_tasks"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("notified_at", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in ("alerts", "human_tasks"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("notified_at")
    with op.batch_alter_table("appeals") as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_strike_id"))
        for name in (
            "note",
            "decided_at",
            "decided_by",
            "task_id",
            "via",
            "member_name",
            "member_id",
            "platform",
        ):
            batch_op.drop_column(name)
