"""wecom effects: how an owner task was confirmed, when a mass message went out

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-21 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
# 0021 and 0020 were chained onto 0018 before this one was written: it follows the head
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wecom_owner_tasks") as batch:
        batch.add_column(sa.Column("confirmed_by", sa.String(16), nullable=True))
    with op.batch_alter_table("wecom_mass_sends") as batch:
        batch.add_column(sa.Column("sent_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wecom_mass_sends") as batch:
        batch.drop_column("sent_at")
    with op.batch_alter_table("wecom_owner_tasks") as batch:
        batch.drop_column("confirmed_by")
