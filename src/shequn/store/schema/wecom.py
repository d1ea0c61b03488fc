"""WeCom customer groups, tags and owner tasks (migration 0011)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
