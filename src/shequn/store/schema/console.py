"""Console users, sessions, roles, group sets and the console audit log (migration 0006)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
