"""FAQ banks, hit statistics and the unanswered queue (migration 0005)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
