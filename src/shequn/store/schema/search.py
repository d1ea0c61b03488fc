"""Full-text search over the message archive (migration 0017).

``search_docs`` holds one row per indexed message: its search tokens (space-separated,
see :mod:`shequn.features.search.tokens`) and copies of the columns the filters use, so
a search never scans ``messages``. ``text_len`` is the length of the text that was
tokenised: a message whose text changed since (an edit, a privacy erase that blanks it)
no longer matches it and is dropped from results and re-indexed.

The engine-specific index is created by the migration and is deliberately *not*
declared here (a virtual table cannot be): on SQLite the FTS5 table ``search_fts``
(external content: it reads ``search_docs.tokens``), on PostgreSQL the GIN index
``search_fts_gin`` on ``array_to_tsvector(string_to_array(tokens, ' '))``. Both names
start with ``search_fts`` so a schema comparison can leave them out by prefix.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from shequn.store.schema.base import metadata

__all__ = ["FTS_PREFIX", "search_docs"]

#: Name prefix of the engine-specific objects the migration creates outside MetaData.
FTS_PREFIX = "search_fts"

search_docs = Table(
    "search_docs",
    metadata,
    # No foreign key: the archive may delete a message; search skips and prunes it.
    Column("message_id", Integer, primary_key=True, autoincrement=False),
    Column("group_id", Integer, nullable=False),
    Column("member_id", Integer, nullable=True),
    Column("ts", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text_len", Integer, nullable=False),
    Column("tokens", Text, nullable=False),
    Index(None, "group_id", "ts"),
    Index(None, "ts"),
)
