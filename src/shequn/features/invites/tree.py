"""The invite tree across groups (who brought whom, how deep) and seed users (种子用户).

A member's parent is whoever brought them first, on any group of the platform: the
referrer of a campaign invite or the inviter the platform named. Nodes are platform
members, not group members, so a tree spans every group they joined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from shequn.store import schema

__all__ = ["Node", "build", "mark_first_seeds", "mark_seed", "seeds"]

Key = tuple[str, str]  # (platform, member id)


@dataclass
class Node:
    key: Key
    name: str
    group_id: str = ""
    ts: float | None = None
    status: str = ""
    children: list[Node] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Everyone downstream (children, their children, ...)."""
        return sum(1 + c.size for c in self.children)

    @property
    def depth(self) -> int:
        return 1 + max((c.depth for c in self.children), default=0)


def _names(conn: Connection) -> dict[Key, str]:
    m = schema.members
    return {
        (r.platform, r.platform_id): r.name
        for r in conn.execute(select(m.c.platform, m.c.platform_id, m.c.name))
    }


def build(conn: Connection, platform: str | None = None) -> list[Node]:
    """Root nodes (people nobody brought) with their subtrees, biggest first."""
    j = schema.invite_joins
    q = select(j.c.platform, j.c.member_id, j.c.name, j.c.inviter_id, j.c.group_id, j.c.ts,
               j.c.status).where(j.c.inviter_id.is_not(None)).order_by(j.c.ts, j.c.id)  # fmt: skip
    if platform is not None:
        q = q.where(j.c.platform == platform)
    names = _names(conn)
    nodes: dict[Key, Node] = {}
    parent: dict[Key, Key] = {}

    def node(k: Key, name: str = "") -> Node:
        if k not in nodes:
            nodes[k] = Node(k, name or names.get(k, "") or k[1])
        return nodes[k]

    for r in conn.execute(q):
        child, up = (r.platform, r.member_id), (r.platform, r.inviter_id)
        if child in parent or child == up:
            continue  # the first who brought them keeps them
        # refuse a cycle (A brought B, later B "brought" A back)
        k: Key | None = up
        seen = set()
        while k is not None and k not in seen:
            if k == child:
                break
            seen.add(k)
            k = parent.get(k)
        if k == child:
            continue
        parent[child] = up
        n = node(child, r.name)
        n.group_id, n.ts, n.status = r.group_id, r.ts, r.status
        node(up).children.append(n)
    roots = [n for k, n in nodes.items() if k not in parent]
    roots.sort(key=lambda n: (-n.size, n.name))
    return roots


def _find(roots: list[Node], key: Key) -> Node | None:
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n.key == key:
            return n
        stack.extend(n.children)
    return None


def mark_seed(
    conn: Connection, platform: str, member_id: str, *, now: float, by: str = "",
    source: str = "operator", name: str = "",
) -> bool:  # fmt: skip
    """Mark a seed user; False when they already were one."""
    s = schema.invite_seeds
    found = conn.execute(
        select(s.c.id).where(s.c.platform == platform, s.c.member_id == member_id)
    ).first()
    if found is not None:
        return False
    name = name or _names(conn).get((platform, member_id), "")
    conn.execute(
        s.insert().values(platform=platform, member_id=member_id, name=name, source=source,
                          marked_at=now, marked_by=by)
    )  # fmt: skip
    return True


def mark_first_seeds(
    conn: Connection, platform: str, group_id: str, n: int, *, now: float, by: str = ""
) -> int:
    """Mark the group's first ``n`` members (by first join or first message) as seeds."""
    g, e, m, msg = schema.groups, schema.membership_events, schema.members, schema.messages
    gid = conn.execute(
        select(g.c.id).where(g.c.platform == platform, g.c.platform_id == group_id)
    ).scalar()
    if gid is None:
        return 0
    first: dict[int, float] = {}
    for table in (e, msg):
        q = select(table.c.member_id, table.c.ts).where(
            table.c.group_id == gid, table.c.member_id.is_not(None)
        )
        for mid, ts in conn.execute(q):
            first[mid] = min(ts, first.get(mid, ts))
    ids = sorted(first, key=lambda k: (first[k], k))
    people = {
        r.id: r
        for r in conn.execute(select(m.c.id, m.c.platform_id, m.c.name, m.c.is_bot, m.c.is_operator)
                              .where(m.c.id.in_(ids)))
    }  # fmt: skip
    done = 0
    for mid in ids:
        p = people[mid]
        if p.is_bot or p.is_operator:
            continue
        done += mark_seed(
            conn, platform, p.platform_id, now=now, by=by, source="first", name=p.name
        )
        n -= 1
        if n <= 0:
            break
    return done


def seeds(conn: Connection) -> list[dict[str, Any]]:
    """Seed users with their downstream tree size and depth, biggest first."""
    s = schema.invite_seeds
    roots = build(conn)
    out = []
    for r in conn.execute(select(s).order_by(s.c.marked_at, s.c.id)):
        n = _find(roots, (r.platform, r.member_id))
        out.append({
            "platform": r.platform, "member_id": r.member_id, "name": r.name or r.member_id,
            "source": r.source, "downstream": n.size if n else 0,
            "depth": (n.depth - 1) if n else 0,
        })  # fmt: skip
    out.sort(key=lambda x: (-x["downstream"], x["name"]))
    return out
