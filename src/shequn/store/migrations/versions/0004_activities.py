"""activities: polls, chains, lotteries, events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _where() -> list[sa.Column]:
    return [
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "polls",
        _id(),
        *_where(),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("starter_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint(
            "platform", "group_id", "message_id", name=op.f("uq_polls_platform_group_id_message_id")
        ),
    )
    op.create_table(
        "poll_votes",
        _id(),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_votes_poll_id_polls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_votes")),
        sa.UniqueConstraint(
            "poll_id", "voter", "option", name=op.f("uq_poll_votes_poll_id_voter_option")
        ),
    )
    op.create_table(
        "chains",
        _id(),
        *_where(),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("starter_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chains")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "message_id",
            name=op.f("uq_chains_platform_group_id_message_id"),
        ),
    )
    op.create_table(
        "chain_entries",
        _id(),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id"], ["chains.id"], name=op.f("fk_chain_entries_chain_id_chains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_entries")),
        sa.UniqueConstraint(
            "chain_id", "message_id", name=op.f("uq_chain_entries_chain_id_message_id")
        ),
    )
    op.create_table(
        "lotteries",
        _id(),
        *_where(),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("starter_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("min_points", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_ref", sa.String(length=160), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("entrants", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("drawn_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lotteries")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "message_id",
            name=op.f("uq_lotteries_platform_group_id_message_id"),
        ),
    )
    op.create_table(
        "lottery_entries",
        _id(),
        sa.Column("lottery_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lottery_id"], ["lotteries.id"], name=op.f("fk_lottery_entries_lottery_id_lotteries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lottery_entries")),
        sa.UniqueConstraint(
            "lottery_id", "member_id", name=op.f("uq_lottery_entries_lottery_id_member_id")
        ),
    )
    op.create_table(
        "activity_events",
        _id(),
        *_where(),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("organiser_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.Float(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_events")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "message_id",
            name=op.f("uq_activity_events_platform_group_id_message_id"),
        ),
    )
    op.create_table(
        "event_signups",
        _id(),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("attended_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["activity_events.id"],
            name=op.f("fk_event_signups_event_id_activity_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint(
            "event_id", "member_id", name=op.f("uq_event_signups_event_id_member_id")
        ),
    )
    op.create_table(
        "icebreakers",
        _id(),
        *_where(),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("joined_at", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prompted_at", sa.Float(), nullable=True),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("intro", sa.Text(), nullable=True),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icebreakers")),
        sa.UniqueConstraint(
            "platform",
            "group_id",
            "member_id",
            name=op.f("uq_icebreakers_platform_group_id_member_id"),
        ),
    )
    with op.batch_alter_table("icebreakers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_icebreakers_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("icebreakers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_icebreakers_status"))
    for table in (
        "icebreakers",
        "event_signups",
        "activity_events",
        "lottery_entries",
        "lotteries",
        "chain_entries",
        "chains",
        "poll_votes",
        "polls",
    ):
        op.drop_table(table)
