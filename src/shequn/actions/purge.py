"""Recall what a removed spammer left behind (清理): their recent messages, and the
copies of a spam run across groups.

The strike ladder deletes the one message that broke the rule. A member removed for
it (a kick or ban), or swept out of a group by the blocklist, may have posted more
there in the minutes before: those are recalled too, back to the group's
``purge_minutes`` (0 turns it off). A spam run across groups (the same text in
``duplicate_groups`` groups) is caught at its n-th copy; the earlier copies, in the
other groups, are recalled with it, whatever the ladder's step.

The messages come from the archive the pipeline writes before its handlers run. The
archive has no index by member (it would slow imports), so the search reads only the
newest :data:`SCAN` messages by id, which covers minutes to hours of a busy
deployment: a purge is best effort for recent messages, not a history wipe. Each
recall is a ``delete`` audit row with reason ``purge``; a message with a delete
planned or made already is skipped, and groups where the bot cannot delete by API
(WeCom customer groups) are left to the person who handles the removal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

from shequn.actions.moderation import can_call, plan
from shequn.features.moderation.fingerprint import TextFingerprint
from shequn.platforms.port import Platform

__all__ = [
    "REASON",
    "SCAN",
    "Purge",
    "Recent",
    "plan_recalls",
    "recall_copies",
    "recall_recent",
    "recent",
]

#: The ``reason`` of every delete a purge plans.
REASON = "purge"
#: How many of the newest messages (by id) a purge looks through, and of the newest
#: audit rows for the deletes made already (neither table has an index by member).
SCAN = 50_000

_RECENT = text(
    """
    SELECT g.platform_id AS group_id, m.platform_id AS message_id, m.ts, m.text
      FROM messages m
      JOIN groups g ON g.id = m.group_id
     WHERE m.id > :after
       AND m.member_id = (SELECT id FROM members
                           WHERE platform = :platform AND platform_id = :member_id)
       AND m.ts >= :since
     ORDER BY m.id
    """
)
_DELETED = text(
    """
    SELECT group_id, params FROM bot_actions
     WHERE id > :after
       AND platform = :platform AND member_id = :member_id AND kind = 'delete'
       AND created_at >= :since AND status NOT IN ('dropped', 'failed')
    """
)


_NEWEST = {t: text(f"SELECT MAX(id) FROM {t}") for t in ("messages", "bot_actions")}


def _after(conn: Connection, table: str) -> int:
    """The id after which the newest :data:`SCAN` rows of ``table`` start. Asked first,
    so the search's range on the primary key is a number the planner can weigh (with a
    subquery in its place PostgreSQL estimates the range blind)."""
    return int(conn.execute(_NEWEST[table]).scalar() or 0) - SCAN


class Recent(NamedTuple):
    """One of the member's recent messages in the archive."""

    group_id: str
    message_id: str
    ts: float
    text: str


def recent(conn: Connection, platform: str, member_id: str, since: float) -> list[Recent]:
    """The member's messages since ``since`` in every group of ``platform``, oldest first."""
    params = {"platform": platform, "member_id": member_id, "since": since,
              "after": _after(conn, "messages")}  # fmt: skip
    return [Recent(*row) for row in conn.execute(_RECENT, params)]


class Purge(NamedTuple):
    """What a recall's audit rows record: when, why, and what the caller deletes itself."""

    now: float
    evidence: dict[str, Any]
    event_key: str | None = None
    strike_id: int | None = None
    skip: frozenset[tuple[str, str]] = frozenset()  # (group id, message id)


def recall_recent(
    conn: Connection,
    platform: Platform,
    member_id: str,
    groups: Iterable[str],
    settings_for_group: Callable[[str, str], Any],
    why: Purge,
) -> list[int]:
    """Recall the member's messages in ``groups`` (they are being removed from them),
    each group back to its own ``purge_minutes``."""
    since = {}
    for gid in groups:
        minutes = float(settings_for_group(platform.name, gid).purge_minutes)
        if minutes > 0:
            since[gid] = why.now - minutes * 60.0
    if not since:
        return []
    rows = [
        r
        for r in recent(conn, platform.name, member_id, min(since.values()))
        if r.group_id in since and r.ts >= since[r.group_id]
    ]
    return plan_recalls(conn, platform, member_id, rows, settings_for_group, why)


def recall_copies(
    conn: Connection,
    platform: Platform,
    member_id: str,
    text_: str,
    seconds: float,
    settings_for_group: Callable[[str, str], Any],
    why: Purge,
) -> list[int]:
    """Recall the member's messages of the last ``seconds`` whose text is ``text_``
    after normalisation (a spam run's copies), in any group of the platform."""
    digest = TextFingerprint.of(text_).digest
    rows = [
        r
        for r in recent(conn, platform.name, member_id, why.now - seconds)
        if TextFingerprint.of(r.text).digest == digest
    ]
    return plan_recalls(conn, platform, member_id, rows, settings_for_group, why)


def plan_recalls(
    conn: Connection,
    platform: Platform,
    member_id: str,
    rows: Iterable[Recent],
    settings_for_group: Callable[[str, str], Any],
    why: Purge,
) -> list[int]:
    """Plan a delete for each row, except in groups where purging is off, the member is
    exempt or the bot cannot delete by API, and messages deleted (or being) already."""
    rows = list(rows)
    if not rows:
        return []
    oldest = min(r.ts for r in rows)
    done = set(why.skip)
    for gid, params in conn.execute(
        _DELETED,
        {
            "platform": platform.name,
            "member_id": member_id,
            "since": min(oldest, why.now) - 1,
            "after": _after(conn, "bot_actions"),
        },
    ):
        done.add((gid, str(json.loads(params or "{}").get("message_id", ""))))
    ids: list[int] = []
    allowed: dict[str, bool] = {}
    for row in rows:
        if (row.group_id, row.message_id) in done:
            continue
        if row.group_id not in allowed:
            s = settings_for_group(platform.name, row.group_id)
            allowed[row.group_id] = (
                s.purge_minutes > 0
                and member_id not in s.exempt
                and can_call(platform, row.group_id, "delete")
            )
        if not allowed[row.group_id]:
            continue
        done.add((row.group_id, row.message_id))
        ids.append(
            plan(
                conn,
                platform,
                group_id=row.group_id,
                kind="delete",
                member_id=member_id,
                params={"message_id": row.message_id},
                reason=REASON,
                evidence={**why.evidence, "text": row.text[:500], "posted_at": row.ts},
                event_key=why.event_key,
                strike_id=why.strike_id,
                now=why.now,
            )
        )
    return ids
