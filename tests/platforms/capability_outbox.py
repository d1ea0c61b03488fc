"""Helpers for the per-group capability tests: plan one action, read the outbox back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from shequn.actions.moderation import plan
from shequn.platforms.port import Platform
from shequn.store import Store, schema


def plan_one(
    store: Store, platform: Platform, group: str, kind: str, now: float, **params: Any
) -> int:
    """Plan one ``kind`` action in ``group`` (as a feature would) and return its id."""
    member = params.pop("member_id", None)
    with store.engine.begin() as conn:
        return plan(conn, platform, group_id=group, kind=kind, now=now, member_id=member,
                    params=params, reason="test")  # fmt: skip


def action(store: Store, aid: int) -> Any:
    t = schema.bot_actions
    with store.engine.connect() as conn:
        return conn.execute(select(t).where(t.c.id == aid)).one()


def tasks(store: Store) -> list[tuple[str, str]]:
    """(group, kind) of every open human task, oldest first."""
    h = schema.human_tasks
    with store.engine.connect() as conn:
        return [
            (r.group_id, r.kind)
            for r in conn.execute(select(h).where(h.c.status == "open").order_by(h.c.id))
        ]


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)
