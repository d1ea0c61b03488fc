"""The points ledger: signed entries with a reason, a daily cap per reason, balances."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from shequn.features.checkin.scope import Scope, in_scope, lock_member
from shequn.store import schema

__all__ = ["award", "points_balance", "spend"]


def points_balance(conn: Connection, platform: str, group: Scope, member: str) -> int:
    """The member's points in the group (or a set's groups): the sum of their entries."""
    p = schema.points_ledger
    total = conn.execute(
        select(func.coalesce(func.sum(p.c.delta), 0)).where(
            p.c.platform == platform, in_scope(p.c.group_id, group), p.c.member_id == member
        )
    ).scalar_one()
    return int(total)


def award(
    conn: Connection,
    platform: str,
    group: str,
    member: str,
    *,
    points: int,
    reason: str,
    day: str,
    ts: float,
    cap: int,
    ref: str | None = None,
    scope: Sequence[str] | None = None,
) -> int:
    """Credit up to ``points`` for ``reason``, keeping the day's total for it within ``cap``.

    The entry is written in ``group``; the cap counts the entries in ``scope`` (the
    groups of a set, see :mod:`.scope`; default: ``group`` alone). Returns the points
    actually credited (0 once the cap is reached: nothing is written).
    """
    lock_member(conn, platform, scope or group, member)  # the cap read, then the credit
    p = schema.points_ledger
    earned = conn.execute(
        select(func.coalesce(func.sum(p.c.delta), 0)).where(
            p.c.platform == platform,
            in_scope(p.c.group_id, scope or group),
            p.c.member_id == member,
            p.c.reason == reason,
            p.c.day == day,
            p.c.delta > 0,
        )
    ).scalar_one()
    grant = max(0, min(points, cap - int(earned)))
    if grant:
        _entry(conn, platform, group, member, grant, reason, day, ts, ref)
    return grant


def spend(
    conn: Connection,
    platform: str,
    group: str,
    member: str,
    *,
    points: int,
    reason: str,
    day: str,
    ts: float,
    ref: str | None = None,
    scope: Sequence[str] | None = None,
) -> bool:
    """Debit ``points`` if the balance (in ``scope``, default ``group``) covers them;
    ``False`` (nothing written) if not."""
    lock_member(conn, platform, scope or group, member)  # the balance read, then the debit
    if points_balance(conn, platform, scope or group, member) < points:
        return False
    _entry(conn, platform, group, member, -points, reason, day, ts, ref)
    return True


def _entry(
    conn: Connection,
    platform: str,
    group: str,
    member: str,
    delta: int,
    reason: str,
    day: str,
    ts: float,
    ref: str | None = None,
) -> None:
    conn.execute(
        schema.points_ledger.insert().values(
            platform=platform,
            group_id=group,
            member_id=member,
            delta=delta,
            reason=reason,
            day=day,
            ts=ts,
            ref=ref,
        )
    )
