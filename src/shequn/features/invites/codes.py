"""群活码: one public code over several groups, rolling over to the next with room.

A visit of ``/j/<code>`` picks the first group (in the operator's order) that still
has room: fewer members than its cap minus the code's reserve, and neither marked
full nor archived. Filling one group before opening the next keeps groups lively
(the playbook: under ~30 it is not yet a group, over ~80 it gets lively, over ~500
it is hard to run; WeChat groups hold 500, QQ 2,000).

A group's size is, in order: the size the operator typed (platforms whose joins the
bot cannot see), WeCom's last sync (``wecom_groups``; a dismissed group is archived),
or the members the archive has in the group (their last membership event a join, or
no membership event but messages: they were there before anyone saw them join).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from shequn.features.invites.links import invite_key, new_code
from shequn.store import schema

__all__ = [
    "DEFAULT_CAP",
    "Target",
    "add_target",
    "choose",
    "create_code",
    "figures",
    "group_sizes",
    "has_room",
    "record_visit",
    "targets_of",
    "update_code",
    "update_target",
]

#: Members per group before a code rolls over: WeChat's group limit.
DEFAULT_CAP = 500
DAY = 86400.0
GroupKey = tuple[str, str]
STATUSES = ("open", "full", "archived")


@dataclass(frozen=True, slots=True)
class Target:
    """One group of a code, with its size now and whether it takes newcomers."""

    id: int
    platform: str
    group_id: str
    link: str
    qr_url: str
    invite_key: str | None
    cap: int
    size: int
    status: str
    position: int

    @property
    def has_room(self) -> bool:
        return self.status == "open"


def has_room(size: int, cap: int, reserve: int) -> bool:
    """Does a group of ``size`` still leave ``reserve`` places under its ``cap``?

    The reserve is there because joins through a code race the next size count.
    """
    return size + reserve < cap


def group_sizes(conn: Connection, keys: Iterable[GroupKey]) -> dict[GroupKey, int]:
    """Members now in each group, from the archive's membership events (see module doc)."""
    wanted = set(keys)
    if not wanted:
        return {}
    g, e = schema.groups, schema.membership_events
    ids = {
        (r.platform, r.platform_id): r.id
        for r in conn.execute(select(g.c.id, g.c.platform, g.c.platform_id))
        if (r.platform, r.platform_id) in wanted
    }
    out = dict.fromkeys(wanted, 0)
    if not ids:
        return out
    back = {v: k for k, v in ids.items()}
    last: dict[tuple[int, int], str] = {}
    q = (
        select(e.c.group_id, e.c.member_id, e.c.action)
        .where(e.c.group_id.in_(list(ids.values())))
        .order_by(e.c.ts, e.c.id)
    )
    for gid, mid, action in conn.execute(q):
        last[(gid, mid)] = action
    # members who were there before the bot (or the export) saw them join: posters
    # with no membership event at all count as in the group
    m = schema.messages
    posters = (
        select(m.c.group_id, m.c.member_id)
        .where(m.c.group_id.in_(list(ids.values())), m.c.member_id.is_not(None))
        .distinct()
    )
    for gid, mid in conn.execute(posters):
        last.setdefault((gid, mid), "join")
    for (gid, _mid), action in last.items():
        if action == "join":
            out[back[gid]] += 1
    return out


def _wecom(conn: Connection, chat_ids: list[str]) -> dict[str, tuple[int, str]]:
    if not chat_ids:
        return {}
    w = schema.wecom_groups
    q = select(w.c.chat_id, w.c.size, w.c.status).where(w.c.chat_id.in_(chat_ids))
    return {r.chat_id: (int(r.size), r.status) for r in conn.execute(q)}


def targets_of(conn: Connection, code: Any, *, reserve: int | None = None) -> list[Target]:
    """The code's groups in roll-over order, each with its size and standing now."""
    t = schema.invite_targets
    rows = conn.execute(
        select(t).where(t.c.code_id == code.id).order_by(t.c.position, t.c.id)
    ).all()
    counted = group_sizes(conn, [(r.platform, r.group_id) for r in rows if r.size is None])
    wecom = _wecom(conn, [r.group_id for r in rows if r.platform == "wecom" and r.size is None])
    keep = code.reserve if reserve is None else reserve
    out = []
    for r in rows:
        cap = int(r.cap or code.cap)
        status = r.status
        if r.size is not None:
            size = int(r.size)
        elif r.group_id in wecom and r.platform == "wecom":
            size, wstatus = wecom[r.group_id]
            if wstatus != "active":
                status = "archived"
        else:
            size = counted.get((r.platform, r.group_id), 0)
        if status == "open" and not has_room(size, cap, keep):
            status = "full"
        out.append(
            Target(r.id, r.platform, r.group_id, r.link, r.qr_url, r.invite_key, cap, size,
                   status, r.position)
        )  # fmt: skip
    return out


def choose(conn: Connection, code: Any) -> Target | None:
    """The group a newcomer is sent to now: the first with room, else None (all full)."""
    return next((x for x in targets_of(conn, code) if x.has_room), None)


def record_visit(
    conn: Connection, code: Any, target: Target | None, now: float, ref: str | None = None
) -> int:
    v = schema.invite_visits
    res = conn.execute(
        v.insert().values(code_id=code.id, target_id=target.id if target else None, ref=ref, ts=now)
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def create_code(
    conn: Connection, *, name: str, now: float, by: str = "", code: str | None = None,
    cap: int = DEFAULT_CAP, reserve: int = 10,
) -> int:  # fmt: skip
    """A new 活码; ``code`` is its public part (random when not given)."""
    c = schema.invite_codes
    public = (code or "").strip() or new_code()
    if not public.replace("-", "").replace("_", "").isalnum() or len(public) > 64:
        raise ValueError(f"a code is letters, digits, - and _: {public!r}")
    if cap < 2 or reserve < 0 or reserve >= cap:
        raise ValueError("the cap must be at least 2 and the reserve below it")
    res = conn.execute(
        c.insert().values(
            code=public, name=name.strip() or public, cap=cap, reserve=reserve,
            status="active", created_at=now, created_by=by,
        )
    )  # fmt: skip
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def update_code(conn: Connection, code_id: int, **values: Any) -> None:
    c = schema.invite_codes
    allowed = {k: v for k, v in values.items() if k in ("name", "cap", "reserve", "status")}
    if "status" in allowed and allowed["status"] not in ("active", "paused"):
        raise ValueError(f"unknown status {allowed['status']!r}")
    if "cap" in allowed and int(allowed["cap"]) < 2:
        raise ValueError("the cap must be at least 2")
    conn.execute(c.update().where(c.c.id == code_id).values(**allowed))


def add_target(
    conn: Connection, code_id: int, platform: str, group_id: str, *, link: str = "",
    qr_url: str = "", key: str | None = None, cap: int | None = None, size: int | None = None,
) -> int:  # fmt: skip
    """Add a group to a code (last in the roll-over order).

    ``key`` is what joins through this group's link name (``MemberJoined.invite``);
    by default the link itself.
    """
    t = schema.invite_targets
    for url in (link, qr_url):
        if url and not url.startswith(("http://", "https://", "tg://")):
            raise ValueError(f"not a web address: {url!r}")
    last = conn.execute(
        select(func.coalesce(func.max(t.c.position), -1)).where(t.c.code_id == code_id)
    ).scalar_one()
    res = conn.execute(
        t.insert().values(
            code_id=code_id, position=int(last) + 1, platform=platform, group_id=group_id,
            link=link.strip(), qr_url=qr_url.strip(), invite_key=invite_key(key or link),
            cap=cap, size=size, status="open",
        )
    )  # fmt: skip
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def update_target(conn: Connection, target_id: int, **values: Any) -> None:
    t = schema.invite_targets
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k == "status":
            if v not in STATUSES:
                raise ValueError(f"unknown status {v!r}")
            out[k] = v
        elif k in ("link", "qr_url"):
            v = (v or "").strip()
            if v and not v.startswith(("http://", "https://", "tg://")):
                raise ValueError(f"not a web address: {v!r}")
            out[k] = v
            if k == "link" and "invite_key" not in values:
                out["invite_key"] = invite_key(v)
        elif k == "invite_key":
            out[k] = invite_key(v)
        elif k in ("cap", "size", "position"):
            out[k] = None if v is None else int(v)
    conn.execute(t.update().where(t.c.id == target_id).values(**out))


def figures(conn: Connection, code_ids: list[int], now: float) -> dict[int, dict[str, Any]]:
    """Per code and per target: visits, joins, joins that stayed 7 days, joins that left."""
    v, j = schema.invite_visits, schema.invite_joins
    out: dict[int, dict[str, Any]] = {
        cid: {"visits": 0, "joins": 0, "stayed": 0, "left": 0, "targets": {}} for cid in code_ids
    }
    if not code_ids:
        return out

    def slot(cid: int, tid: int | None) -> dict[str, int]:
        per: dict[int | None, dict[str, int]] = out[cid]["targets"]
        return per.setdefault(tid, {"visits": 0, "joins": 0, "stayed": 0, "left": 0})

    q = (
        select(v.c.code_id, v.c.target_id, func.count())
        .where(v.c.code_id.in_(code_ids))
        .group_by(v.c.code_id, v.c.target_id)
    )
    for cid, tid, n in conn.execute(q):
        out[cid]["visits"] += int(n)
        slot(cid, tid)["visits"] += int(n)
    q2 = select(j.c.code_id, j.c.target_id, j.c.ts, j.c.left_at).where(j.c.code_id.in_(code_ids))
    for cid, tid, ts, left_at in conn.execute(q2):
        stayed = (left_at is None and now - ts >= 7 * DAY) or (
            left_at is not None and left_at - ts >= 7 * DAY
        )
        for d in (out[cid], slot(cid, tid)):
            d["joins"] += 1
            d["stayed"] += int(stayed)
            d["left"] += int(left_at is not None)
    return out
