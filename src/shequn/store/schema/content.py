"""Content plans, scheduled posts, mass messages (migration 0009)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
