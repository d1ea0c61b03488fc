"""Changes the console makes to bot state, each with its console audit row.

Undo goes through :func:`shequn.actions.moderation.undo` (its own transaction writes
the bot's audit rows and carries the reversal out); the console's row follows it.
Resolving an escalation is one transaction with its audit row. Deciding an appeal goes
through :func:`shequn.actions.appeals.decide` (its own transaction), then the row.
Listing a member on the blocklist is one transaction with its row (the bot's next tick
sweeps them out of its groups); lifting a listing plans its unbans in that transaction
and then carries them out, as undo does.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from shequn.actions import appeals, blocklist, moderation
from shequn.console import audit
from shequn.console.access import User
from shequn.platforms.port import FakePlatform, Platform
from shequn.store import Store, schema

__all__ = [
    "decide_appeal",
    "lift_listing",
    "list_member",
    "offline",
    "resolve_escalation",
    "undo_action",
]


def offline(name: str) -> Platform:
    """A platform the console has no live connection to: every call becomes a human task."""
    return FakePlatform(name=name, capabilities=frozenset())


async def undo_action(
    store: Store, platform: Platform, action_id: int, user: User, *, now: float, ip: str = ""
) -> list[int]:
    """Undo bot action ``action_id`` for ``user``; raises LookupError / ValueError as undo does."""
    t = schema.bot_actions
    with store.engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == action_id)).first()
    if row is None:
        raise LookupError(f"no action {action_id}")
    new = await moderation.undo(store, platform, action_id, f"console:{user.name}", now=now)
    with store.engine.begin() as conn:
        audit.record(
            conn, actor=user, action="moderation.undo", target=f"bot_action:{action_id}",
            group=(row.platform, row.group_id), before={"status": row.status, "kind": row.kind},
            after={"status": "undone", "new_actions": new}, ip=ip, now=now,
        )  # fmt: skip
    return new


def resolve_escalation(
    store: Store, kind: str, item_id: int, user: User, *, now: float, ip: str = ""
) -> bool:
    """Close an open alert (``kind="alert"``) or human task (``"task"``); False if not open."""
    if kind == "alert":
        t, done = schema.alerts, dict[str, object](status="done")
    elif kind == "task":
        t, done = schema.human_tasks, dict[str, object](status="done", done_at=now)
    else:
        raise ValueError(f"unknown escalation kind {kind!r}")
    with store.engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.id == item_id)).first()
        if row is None or row.status != "open":
            return False
        conn.execute(update(t).where(t.c.id == item_id, t.c.status == "open").values(**done))
        audit.record(
            conn, actor=user, action=f"{kind}.resolve", target=f"{kind}:{item_id}",
            group=(row.platform, row.group_id), before={"status": "open"},
            after={"status": "done"}, ip=ip, now=now,
        )  # fmt: skip
    return True


async def decide_appeal(
    store: Store, platform: Platform, appeal_id: int, user: User, *, accept: bool,
    note: str = "", lang: str = "zh", now: float, ip: str = "",
) -> list[int]:  # fmt: skip
    """Accept or reject appeal ``appeal_id`` for ``user``; raises as ``decide`` does."""
    a, s = schema.appeals, schema.strikes
    with store.engine.connect() as conn:
        row = conn.execute(
            select(a.c.status, s.c.platform, s.c.group_id)
            .join(s, s.c.id == a.c.strike_id)
            .where(a.c.id == appeal_id)
        ).first()
    if row is None:
        raise LookupError(f"no appeal {appeal_id}")
    new = await appeals.decide(
        store, platform, appeal_id, accept=accept, operator=f"console:{user.name}",
        note=note, lang=lang, now=now,
    )  # fmt: skip
    status = "accepted" if accept else "rejected"
    with store.engine.begin() as conn:
        audit.record(
            conn, actor=user, action=f"appeal.{'accept' if accept else 'reject'}",
            target=f"appeal:{appeal_id}", group=(row.platform, row.group_id),
            before={"status": row.status},
            after={"status": status, "note": note, "new_actions": new}, ip=ip, now=now,
        )  # fmt: skip
    return new


def list_member(
    store: Store, platform: str, member_id: str, user: User, *, note: str, now: float,
    ip: str = "",
) -> int | None:  # fmt: skip
    """Put a member on the blocklist by hand; the entry's id, None if listed already."""
    with store.engine.begin() as conn:
        entry = blocklist.add(
            conn, platform=platform, member_id=member_id, now=now, member_name=_name_of(
                conn, platform, member_id
            ), operator=f"console:{user.name}", note=note,
        )  # fmt: skip
        if entry is not None:
            audit.record(
                conn, actor=user, action="blocklist.add", target=f"blocklist:{entry}",
                after={"platform": platform, "member_id": member_id, "note": note},
                ip=ip, now=now,
            )  # fmt: skip
    return entry


def _name_of(conn: Connection, platform: str, member_id: str) -> str:
    m = schema.members
    name = conn.execute(
        select(m.c.name).where(m.c.platform == platform, m.c.platform_id == member_id)
    ).scalar()
    return name or ""


async def lift_listing(
    store: Store, platform: Platform, entry_id: int, user: User, *, note: str, now: float,
    ip: str = "",
) -> list[int]:  # fmt: skip
    """Lift blocklist entry ``entry_id`` and carry its unbans out; raises as ``lift`` does."""
    with store.engine.begin() as conn:
        new = blocklist.lift(conn, platform, entry_id, f"console:{user.name}", now=now, note=note)
        audit.record(
            conn, actor=user, action="blocklist.lift", target=f"blocklist:{entry_id}",
            before={"status": "active"}, after={"status": "lifted", "note": note,
                                                "new_actions": new},
            ip=ip, now=now,
        )  # fmt: skip
    await moderation.carry_out(store, platform, now=now, ids=new)
    return new
