"""Polls, chains (接龙), lotteries and events with sign-up (migration 0004)."""

from __future__ import annotations

from shequn.store.schema.base import metadata  # noqa: F401
