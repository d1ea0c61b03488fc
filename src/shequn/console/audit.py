"""The console audit log: every change made in the console is one ``console_audit`` row.

A change and its row are written in the same transaction (callers pass their
connection), so the log never misses a change nor records one that was rolled back.
Sign-in attempts are logged too; the login rate limit counts the failed ones.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, or_, select, tuple_

from shequn.console.access import Action, Role, User, can
from shequn.store import schema

__all__ = ["record", "visible_rows"]


def _json(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True)


def record(
    conn: Connection,
    *,
    actor: User | None,
    action: str,
    now: float,
    target: str = "",
    group: tuple[str, str] | None = None,
    before: Any = None,
    after: Any = None,
    ip: str = "",
    actor_name: str | None = None,
) -> int:
    """Write one audit row: who (``actor``), what (``action`` on ``target``), when, before/after."""
    platform, group_id = group if group else (None, None)
    result = conn.execute(
        schema.console_audit.insert().values(
            ts=now,
            user_id=actor.id if actor else None,
            user_name=actor.name if actor else (actor_name or ""),
            action=action,
            target=target[:255],
            platform=platform,
            group_id=group_id,
            before=_json(before),
            after=_json(after),
            ip=ip[:64],
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def visible_rows(
    conn: Connection, user: User, *, limit: int = 200, offset: int = 0
) -> list[Row[Any]]:
    """The audit rows ``user`` may read, newest first.

    The owner reads everything; a manager reads the rows about groups they reach
    (not sign-ins or team changes); anyone else reads nothing.
    """
    a = schema.console_audit
    if not can(user, Action.VIEW_AUDIT):
        return []
    q = select(a).order_by(a.c.id.desc()).limit(limit).offset(offset)
    if user.role is not Role.OWNER:
        keys = sorted(user.groups)
        if not keys:
            return []
        q = q.where(a.c.platform.is_not(None)).where(
            or_(*[tuple_(a.c.platform, a.c.group_id) == k for k in keys])
        )
    return list(conn.execute(q).all())
