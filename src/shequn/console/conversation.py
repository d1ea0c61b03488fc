"""The messages around one message (an alert's, an appeal's): what a person judging it
needs to see, from the archive (a message the bot deleted on the platform is kept
there)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from shequn.store import schema

__all__ = ["Line", "around"]

#: Messages shown on each side of the one asked for.
SIDE = 15


@dataclass(frozen=True, slots=True)
class Line:
    ts: float
    member: str | None  # the platform's id of the sender
    name: str
    text: str
    target: bool


def around(conn: Connection, group: int, message: str, side: int = SIDE) -> list[Line]:
    """Up to ``side`` messages of archive group ``group`` before and after the message
    whose platform id is ``message``, in time order; ``[]`` if it is not archived.

    Neighbours are found by row id (the archive writes a group's messages in arrival
    order, and the primary key serves the lookup without a time index), then shown
    by time.
    """
    m, mb = schema.messages, schema.members
    hit = conn.execute(
        select(m.c.id).where(m.c.group_id == group, m.c.platform_id == message)
    ).first()
    if hit is None:
        return []
    cols = (m.c.id, m.c.ts, m.c.text, mb.c.platform_id.label("member"), mb.c.name)
    base = select(*cols).outerjoin(mb, mb.c.id == m.c.member_id).where(m.c.group_id == group)
    before = conn.execute(base.where(m.c.id < hit.id).order_by(m.c.id.desc()).limit(side)).all()
    after = conn.execute(base.where(m.c.id >= hit.id).order_by(m.c.id).limit(side + 1)).all()
    rows = sorted([*before, *after], key=lambda r: (r.ts, r.id))
    return [Line(r.ts, r.member, r.name or "", r.text, r.id == hit.id) for r in rows]
