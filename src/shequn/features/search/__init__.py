"""Archive search (会话存档检索) and weekly digests (汇总打包).

- :mod:`.tokens`  the folding and jieba tokens shared by indexing and queries
- :mod:`.index`   incremental, restart-safe indexing (catch up by message id)
- :mod:`.query`   one search API for SQLite FTS5 and PostgreSQL full-text
- :mod:`.digest`  the best content of a week per group, threads kept together

Whoever runs the bot registers :func:`shequn.features.search.index.tick` as a tick job
(``pipeline.register_tick("search.index", index.tick)``); searches also catch up a
bounded number of messages first, so a console without a bot stays current.
"""

from __future__ import annotations

from shequn.features.search.index import catch_up, pending, repair, tick
from shequn.features.search.query import Filters, Hit, Page, search, snippet

__all__ = ["Filters", "Hit", "Page", "catch_up", "pending", "repair", "search", "snippet", "tick"]
