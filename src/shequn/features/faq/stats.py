"""Hit statistics per FAQ entry: counters written with the event, read by the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.store import schema

__all__ = ["EntryStats", "bump", "entry_stats"]

_COUNTERS = ("hits", "answered", "repeats", "unhelpful")


def bump(
    conn: Connection, platform: str, group_id: str, entry_id: str, now: float, **add: int
) -> None:
    """Add to an entry's counters (``hits=1, answered=1`` ...); a hit sets ``last_hit``."""
    t = schema.faq_entry_stats
    values = {c: add.get(c, 0) for c in _COUNTERS}
    last = now if values["hits"] else None
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(t).values(
        platform=platform, group_id=group_id, entry_id=entry_id, last_hit=last, **values
    )
    changes = {c: t.c[c] + stmt.excluded[c] for c in _COUNTERS}
    if last is not None:
        changes["last_hit"] = stmt.excluded.last_hit
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["platform", "group_id", "entry_id"], set_=changes
        )
    )


@dataclass(frozen=True, slots=True)
class EntryStats:
    entry_id: str
    hits: int
    answered: int
    repeats: int
    unhelpful: int
    last_hit: float | None
    groups: int  # in how many groups it was hit


def entry_stats(
    conn: Connection, *, platform: str | None = None, group_id: str | None = None
) -> list[EntryStats]:
    """Counters per entry summed over the selected groups, most hits first."""
    t = schema.faq_entry_stats
    q = select(
        t.c.entry_id,
        func.sum(t.c.hits),
        func.sum(t.c.answered),
        func.sum(t.c.repeats),
        func.sum(t.c.unhelpful),
        func.max(t.c.last_hit),
        func.count(),
    ).group_by(t.c.entry_id)
    if platform is not None:
        q = q.where(t.c.platform == platform)
    if group_id is not None:
        q = q.where(t.c.group_id == group_id)
    out = [
        EntryStats(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5], int(r[6]))
        for r in conn.execute(q)
    ]
    return sorted(out, key=lambda s: (-s.hits, s.entry_id))
