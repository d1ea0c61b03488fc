"""Bot workers: inbox and group leases (migration 0010)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
