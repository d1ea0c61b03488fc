"""Full-text search over the message archive (migration 0017)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401

__all__: list[str] = []
