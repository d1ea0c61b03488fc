"""Group settings edited in the console, group templates and FAQ banks (migration 0014)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401

__all__: list[str] = []
