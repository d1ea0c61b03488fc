"""worker lease fencing: group_leases.epoch, +1 at each lease acquisition

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-21 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_leases") as batch:
        batch.add_column(
            sa.Column("epoch", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("group_leases") as batch:
        batch.drop_column("epoch")
