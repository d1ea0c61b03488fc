"""Member layers kept live, with history (migration 0008)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
