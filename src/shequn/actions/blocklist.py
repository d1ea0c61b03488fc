"""The deployment's blocklist (全局黑名单): one group's ad spammer is kept out of them all.

A member the strike ladder removes (kick or ban) for a rule the group's
``blocklist_rules`` name, in a group whose ``blocklist`` is ``share``, is *listed*
(:func:`add`, in the strike's own transaction). Listing *sweeps* the member out of the
other groups of the same platform where the bot has seen them (:func:`sweep`): a ban
where the platform bans by API, else a kick (a task for a person where it cannot do
even that), each a ``bot_actions`` row with reason ``blocklist``, and recalls what
they posted there in the group's ``purge_minutes`` (:mod:`shequn.actions.purge`).
Groups whose ``blocklist`` is ``off``, and groups that exempt the member, are left
alone. A listed member who later joins, asks to join, or posts in a group that honours
the list is removed again (:mod:`shequn.features.strikes.blocklist`).

Member ids are the platform's own: the list works across groups of one platform (a
QQ number, a Telegram or Matrix user id), not across platforms, and not on QQ's
official bots, whose member ids differ from group to group.

:func:`lift` takes a member off the list and undoes the removals the listing made
(unban where it banned; removals not yet carried out are dropped). Undoing the kick or
ban that listed the member (an operator's undo, an accepted appeal) lifts the listing
too (:func:`lift_for_action`). Operators add and lift entries in the console.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from shequn.actions import purge
from shequn.actions.moderation import can_call, plan, plan_undo
from shequn.platforms.port import Platform
from shequn.store import schema

__all__ = [
    "REASON",
    "add",
    "lift",
    "lift_for_action",
    "listed",
    "lists",
    "removal_kind",
    "removals_of",
    "sweep",
    "tick",
]

#: The ``reason`` of every removal the blocklist makes.
REASON = "blocklist"

_b = schema.blocklist
_INSERT = _b.insert()  # built once, the values as parameters (as the audit rows are)
#: Asked of every join and every message in a group that honours the list: built once.
_LISTED = (
    select(_b)
    .where(
        _b.c.platform == bindparam("platform"),
        _b.c.member_id == bindparam("member_id"),
        _b.c.status == "active",
    )
    .limit(1)
)

#: The groups a member is known in: counted by the live layers (they posted), or
#: joined, with their latest join/leave in the archive when there is one.
_GROUPS = text(
    """
    SELECT group_id, NULL AS action, NULL AS ts FROM layer_members
     WHERE platform = :platform AND member_id = :member_id
    UNION ALL
    SELECT g.platform_id, e.action, e.ts
      FROM membership_events e
      JOIN groups g ON g.id = e.group_id
      JOIN members m ON m.id = e.member_id
     WHERE m.platform = :platform AND m.platform_id = :member_id
    """
)


def listed(conn: Connection, platform: str, member_id: str) -> Any:
    """The member's active entry, or None."""
    return conn.execute(_LISTED, {"platform": platform, "member_id": member_id}).first()


def add(
    conn: Connection,
    *,
    platform: str,
    member_id: str,
    now: float,
    member_name: str = "",
    group_id: str = "",
    rule: str = "",
    strike_id: int | None = None,
    action_id: int | None = None,
    evidence: dict[str, Any] | None = None,
    operator: str | None = None,
    note: str = "",
) -> int | None:
    """List the member; their entry's id, or None when they are listed already."""
    if listed(conn, platform, member_id) is not None:
        return None
    values = dict(
        platform=platform,
        member_id=member_id,
        member_name=member_name[:255],
        group_id=group_id,
        rule=rule,
        strike_id=strike_id,
        action_id=action_id,
        evidence=json.dumps(evidence or {}, ensure_ascii=False, sort_keys=True),
        status="active",
        created_at=now,
        created_by=operator,
        note=note[:1000],
    )
    return int(conn.execute(_INSERT, values).inserted_primary_key[0])  # type: ignore[index]


def lists(settings: Any, step_kind: str, rule: str, detectors: Iterable[str]) -> bool:
    """Does a strike's step list the member? A removal (kick or ban) in a sharing group
    for one of its ``blocklist_rules``, unless flooding alone made it: a keen member
    posting in bursts is not a spammer elsewhere (a spam run across groups is)."""
    return (
        step_kind in ("kick", "ban")
        and settings.blocklist == "share"
        and rule in settings.blocklist_rules
        and any(d != "flood" for d in detectors)
    )


def removal_kind(platform: Platform, group_id: str) -> str:
    """``ban`` where the platform bans by API in this group (they cannot come back),
    else ``kick`` (planned as a person's task where even that is impossible)."""
    return "ban" if can_call(platform, group_id, "ban") else "kick"


def _present_groups(conn: Connection, platform: str, member_id: str) -> list[str]:
    """Groups of ``platform`` the member is in, as far as the bot knows: seen there,
    and their latest membership event (if any) is not a leave or a removal."""
    latest: dict[str, tuple[float, str]] = {}
    seen: set[str] = set()
    for gid, action, ts in conn.execute(_GROUPS, {"platform": platform, "member_id": member_id}):
        seen.add(gid)
        if action is not None and (gid not in latest or ts >= latest[gid][0]):
            latest[gid] = (ts, action)
    return sorted(g for g in seen if g not in latest or latest[g][1] == "join")


def sweep(
    conn: Connection,
    platform: Platform,
    entry_id: int,
    settings_for_group: Callable[[str, str], Any],
    *,
    now: float,
    event_key: str | None = None,
) -> list[int]:
    """Plan the member's removal from the other groups they are in; once per entry
    (the claim on ``swept_at`` makes a second sweep, by a tick or a worker, a no-op)."""
    claimed = conn.execute(
        update(_b)
        .where(_b.c.id == entry_id, _b.c.status == "active", _b.c.swept_at.is_(None))
        .values(swept_at=now)
    ).rowcount
    if not claimed:
        return []
    entry = conn.execute(select(_b).where(_b.c.id == entry_id)).one()
    ids: list[int] = []
    swept: list[str] = []
    for gid in _present_groups(conn, entry.platform, entry.member_id):
        if gid == entry.group_id:
            continue  # the ladder removed them there itself
        settings = settings_for_group(entry.platform, gid)
        if settings.blocklist == "off" or entry.member_id in settings.exempt:
            continue
        ids.append(remove(conn, platform, entry, gid, now=now, event_key=event_key))
        swept.append(gid)
    # and what they posted there lately goes with them
    why = purge.Purge(now, {"blocklist_id": entry.id, "listed_in": entry.group_id}, event_key)
    ids += purge.recall_recent(conn, platform, entry.member_id, swept, settings_for_group, why)
    return ids


def remove(
    conn: Connection,
    platform: Platform,
    entry: Any,
    group_id: str,
    *,
    now: float,
    event_key: str | None = None,
) -> int:
    """Plan one removal of a listed member from ``group_id``."""
    return plan(
        conn,
        platform,
        group_id=group_id,
        kind=removal_kind(platform, group_id),
        member_id=entry.member_id,
        now=now,
        event_key=event_key,
        reason=REASON,
        evidence={
            "blocklist_id": entry.id,
            "listed_in": entry.group_id,
            "rule": entry.rule,
            "text": json.loads(entry.evidence or "{}").get("text", ""),
        },
    )


def removals_of(conn: Connection, entry: Any, group_id: str | None = None) -> list[Any]:
    """The removals made for ``entry`` (all of them, or in one group), oldest first."""
    t = schema.bot_actions
    q = select(t).where(
        t.c.platform == entry.platform,
        t.c.member_id == entry.member_id,
        t.c.reason == REASON,
        t.c.kind.in_(("kick", "ban")),
        t.c.undo_of.is_(None),
        t.c.created_at >= entry.created_at,
    )
    if group_id is not None:
        q = q.where(t.c.group_id == group_id)
    return list(conn.execute(q.order_by(t.c.id)))


def tick(
    conn: Connection,
    platforms: Any,
    settings_for_group: Callable[[str, str], Any],
    now: float,
) -> list[int]:
    """Sweep the entries nobody swept yet (those an operator added in the console)."""
    ids: list[int] = []
    for row in conn.execute(
        select(_b.c.id, _b.c.platform)
        .where(_b.c.status == "active", _b.c.swept_at.is_(None))
        .order_by(_b.c.id)
        .limit(100)
    ).all():
        platform = platforms.get(row.platform)
        if platform is not None:
            ids += sweep(conn, platform, row.id, settings_for_group, now=now)
    return ids


def lift(
    conn: Connection,
    platform: Platform,
    entry_id: int,
    operator: str,
    *,
    now: float,
    note: str = "",
) -> list[int]:
    """Take the member off the list and undo its removals; the new audit rows' ids.

    Raises LookupError for an unknown entry, ValueError for one lifted already.
    """
    entry = conn.execute(select(_b).where(_b.c.id == entry_id)).first()
    if entry is None:
        raise LookupError(f"no blocklist entry {entry_id}")
    lifted = conn.execute(
        update(_b)
        .where(_b.c.id == entry_id, _b.c.status == "active")
        .values(status="lifted", lifted_at=now, lifted_by=operator, note=note[:1000] or entry.note)
    ).rowcount
    if not lifted:
        raise ValueError(f"blocklist entry {entry_id} is lifted already")
    t = schema.bot_actions
    new: list[int] = []
    for row in removals_of(conn, entry):
        if row.status == "planned":  # never made: nothing to undo on the platform
            conn.execute(
                update(t)
                .where(t.c.id == row.id, t.c.status == "planned")
                .values(status="dropped", error="the blocklist entry was lifted")
            )
        elif row.status in ("done", "human_task"):  # made, or a person asked to
            new += plan_undo(conn, platform, row.id, operator, now=now)
    return new


def lift_for_action(
    conn: Connection, platform: Platform, action_id: int, operator: str, *, now: float
) -> list[int]:
    """Lift the entry that the kick or ban ``action_id`` made (it is being undone)."""
    ids: list[int] = []
    for (entry_id,) in conn.execute(
        select(_b.c.id).where(_b.c.action_id == action_id, _b.c.status == "active")
    ).all():
        ids += lift(conn, platform, entry_id, operator, now=now, note=f"undo of action {action_id}")
    return ids
