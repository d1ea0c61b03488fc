"""Invite links / 群活码 with attribution, and fission campaigns (migration 0015)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401

__all__: list[str] = []
