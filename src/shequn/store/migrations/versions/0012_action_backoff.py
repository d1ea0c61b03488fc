"""action back-off: a planned platform call waits until not_before after a failure

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bot_actions") as batch:
        batch.add_column(sa.Column("not_before", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_actions") as batch:
        batch.drop_column("not_before")
