"""full-text search over the archive

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-21 12:00:00

``search_docs`` everywhere; then, by engine, the full-text index over its tokens: an
FTS5 external-content table on SQLite, a GIN index on PostgreSQL (see
:mod:`shequn.store.schema.search`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("message_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text_len", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
    )
    op.create_index("ix_search_docs_group_id_ts", "search_docs", ["group_id", "ts"])
    op.create_index("ix_search_docs_ts", "search_docs", ["ts"])
    if op.get_bind().dialect.name == "sqlite":
        # remove_diacritics 0: tokens arrive folded; PostgreSQL keeps them as they are
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_docs', "
            "content_rowid='message_id', tokenize='unicode61 remove_diacritics 0')"
        )
    else:
        op.execute(
            "CREATE INDEX search_fts_gin ON search_docs "
            "USING gin (array_to_tsvector(string_to_array(tokens, ' ')))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS search_fts_gin")
    op.drop_index("ix_search_docs_ts", table_name="search_docs")
    op.drop_index("ix_search_docs_group_id_ts", table_name="search_docs")
    op.drop_table("search_docs")
