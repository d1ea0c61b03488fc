"""Where check-ins and points count: one group, or every group of a group set.

With ``checkin.scope = "set"`` a member's day, streak, make-ups, tiers, points,
reminders and boards span the groups of a group set (``console_group_sets``, the
console's 群组集合): checking in in group A and then in group B the same day is
"already checked in today". Rows keep the group they happened in (so the console,
the CRM and the analytics still see where); only the *reads* widen to the set.

The set is ``checkin.group_set`` (its name) when the group belongs to it, else the
set the group belongs to with the lowest id; a group in no set counts alone. Only
groups on the same platform are joined (member ids are the platform's own). The
settings of the group a command is posted in apply, so give every group of a set
the same ``checkin`` table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from shequn.features.checkin.settings import CheckinSettings
from shequn.store import schema
from shequn.store.locks import MEMBER, lock

__all__ = ["Scope", "in_scope", "lock_member", "scope_groups"]

#: One group id, or the group ids of a set (sorted).
Scope = str | Sequence[str]


def in_scope(column: Any, group: Scope) -> Any:
    """``column == group`` for one group, ``column IN (...)`` for a set's groups."""
    if isinstance(group, str):
        return column == group
    return column.in_(list(group))


def scope_groups(
    conn: Connection, platform: str, group: str, s: CheckinSettings
) -> tuple[str, ...]:
    """The groups whose check-ins and points count together with ``group``'s."""
    if s.scope != "set":
        return (group,)
    sets, members = schema.console_group_sets, schema.console_group_set_members
    q = (
        select(members.c.group_set_id)
        .select_from(members.join(sets, sets.c.id == members.c.group_set_id))
        .where(members.c.platform == platform, members.c.group_id == group)
    )
    if s.group_set:
        q = q.where(sets.c.name == s.group_set)
    set_id = conn.execute(q.order_by(members.c.group_set_id).limit(1)).scalar()
    if set_id is None:
        return (group,)
    groups = conn.execute(
        select(members.c.group_id).where(
            members.c.group_set_id == set_id, members.c.platform == platform
        )
    ).scalars()
    return tuple(sorted({*groups, group}))


def lock_member(conn: Connection, platform: str, group: Scope, member: str) -> None:
    """Hold the member's check-in and points lock for the scope until the transaction
    ends: reads of "checked in today?", the day's cap or the balance and the write that
    follows them are not interleaved with another transaction's (:mod:`shequn.store.locks`)."""
    groups = (group,) if isinstance(group, str) else tuple(sorted(group))
    lock(conn, MEMBER, "checkin", platform, member, *groups)
