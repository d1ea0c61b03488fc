"""A member's page: every account of the person and what each did in the groups in reach.

Names history, groups with layer, points, check-ins, messages and strikes; layer
history, activities joined, members they brought in, and the CRM's own tags, notes,
coupons and orders. Rows about groups outside ``scope`` are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select, tuple_

from shequn.features.crm.campaigns import coupons_of
from shequn.features.crm.identities import Account
from shequn.features.crm.people import GroupKey
from shequn.features.crm.tags import notes_of, tags_of
from shequn.store import schema

__all__ = ["account_groups", "known_account", "profile"]


def _archive_ids(conn: Connection, accounts: Iterable[Account]) -> dict[int, Account]:
    mem = schema.members
    keys = sorted(set(accounts))
    if not keys:
        return {}
    q = select(mem.c.id, mem.c.platform, mem.c.platform_id).where(
        tuple_(mem.c.platform, mem.c.platform_id).in_(keys)
    )
    return {int(r.id): (r.platform, r.platform_id) for r in conn.execute(q)}


def known_account(conn: Connection, account: Account) -> bool:
    return bool(_archive_ids(conn, [account]))


def account_groups(conn: Connection, account: Account) -> set[GroupKey]:
    """Every group the account was seen in: archive messages and joins, layers, strikes."""
    out: set[GroupKey] = set()
    ids = list(_archive_ids(conn, [account]))
    g, m, ev = schema.groups, schema.messages, schema.membership_events
    if ids:
        for table in (m, ev):
            q = (
                select(g.c.platform, g.c.platform_id)
                .where(g.c.id.in_(select(table.c.group_id).where(table.c.member_id.in_(ids))))
            )  # fmt: skip
            out |= {(r.platform, r.platform_id) for r in conn.execute(q)}
    for table in (schema.layer_members, schema.points_ledger, schema.strikes):
        q = (
            select(table.c.platform, table.c.group_id)
            .where(table.c.platform == account[0], table.c.member_id == account[1])
            .distinct()
        )
        out |= {(r.platform, r.group_id) for r in conn.execute(q)}
    return out


def _in_scope(rows: Iterable[Any], scope: set[GroupKey]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows if (r.platform, r.group_id) in scope]


def _who(table: Any, accounts: list[Account]) -> Any:
    return tuple_(table.c.platform, table.c.member_id).in_(accounts)


def profile(conn: Connection, accounts: list[Account], scope: set[GroupKey]) -> dict[str, Any]:
    """Everything the member page shows about the person with ``accounts``."""
    ids = _archive_ids(conn, accounts)
    mem, names, g = schema.members, schema.member_names, schema.groups
    m, ev = schema.messages, schema.membership_events
    gkeys = {int(r.id): (r.platform, r.platform_id, r.name) for r in conn.execute(select(g))}
    out: dict[str, Any] = {"accounts": []}
    for mid, account in sorted(ids.items(), key=lambda x: accounts.index(x[1])):
        row = conn.execute(select(mem).where(mem.c.id == mid)).one()
        history = conn.execute(
            select(names.c.name, names.c.first_ts).where(names.c.member_id == mid)
            .order_by(names.c.first_ts)
        ).all()  # fmt: skip
        out["accounts"].append({"account": account, "name": row.name, "names": history})
    for account in accounts:  # accounts known only to feature tables or orders
        if account not in ids.values():
            out["accounts"].append({"account": account, "name": account[1], "names": []})
    per_group: dict[GroupKey, dict[str, Any]] = {}

    def slot(key: GroupKey) -> dict[str, Any]:
        name = next((n for p, gid, n in gkeys.values() if (p, gid) == key), key[1])
        return per_group.setdefault(key, {
            "group": key, "name": name, "messages": 0, "last_spoke": None, "joined": None,
            "layer": "", "points": 0, "checkins": 0, "strikes": 0,
        })  # fmt: skip

    if ids:
        spoke = (
            select(m.c.group_id, func.count(), func.max(m.c.ts))
            .where(m.c.member_id.in_(list(ids)), m.c.kind != "system")
            .group_by(m.c.group_id)
        )
        for gid, n, last in conn.execute(spoke):
            key = gkeys[int(gid)][:2]
            if key in scope:
                s = slot(key)
                s["messages"] += int(n)
                s["last_spoke"] = max(filter(None, (s["last_spoke"], float(last))))
        joins = (
            select(ev.c.group_id, func.max(ev.c.ts))
            .where(ev.c.member_id.in_(list(ids)), ev.c.action == "join")
            .group_by(ev.c.group_id)
        )
        for gid, last in conn.execute(joins):
            key = gkeys[int(gid)][:2]
            if key in scope:
                slot(key)["joined"] = float(last)
    lm, pl, ck, st = schema.layer_members, schema.points_ledger, schema.checkins, schema.strikes
    for r in conn.execute(select(lm).where(_who(lm, accounts))):
        if (r.platform, r.group_id) in scope:
            slot((r.platform, r.group_id))["layer"] = r.layer
    for r in conn.execute(
        select(pl.c.platform, pl.c.group_id, func.sum(pl.c.delta).label("n"))
        .where(_who(pl, accounts)).group_by(pl.c.platform, pl.c.group_id)
    ):  # fmt: skip
        if (r.platform, r.group_id) in scope:
            slot((r.platform, r.group_id))["points"] += int(r.n or 0)
    for r in conn.execute(
        select(ck.c.platform, ck.c.group_id, func.count().label("n"))
        .where(_who(ck, accounts)).group_by(ck.c.platform, ck.c.group_id)
    ):  # fmt: skip
        if (r.platform, r.group_id) in scope:
            slot((r.platform, r.group_id))["checkins"] += int(r.n)
    strikes = _in_scope(
        conn.execute(select(st).where(_who(st, accounts)).order_by(st.c.created_at.desc())), scope
    )
    for s in strikes:
        if s["status"] == "active":
            slot((s["platform"], s["group_id"]))["strikes"] += 1
    lh = schema.layer_history
    out["layer_history"] = _in_scope(
        conn.execute(select(lh).where(_who(lh, accounts)).order_by(lh.c.ts.desc())), scope
    )
    out["groups"] = sorted(per_group.values(), key=lambda s: -(s["last_spoke"] or 0))
    out["strikes"] = strikes
    out["points"] = sum(s["points"] for s in per_group.values())
    out["checkins"] = sum(s["checkins"] for s in per_group.values())
    out["activities"] = _activities(conn, accounts, scope)
    out["invited"] = _invited(conn, list(ids), gkeys, scope)
    out["tags"] = tags_of(conn, accounts)
    out["notes"] = notes_of(conn, accounts)
    out["coupons"] = coupons_of(conn, accounts)
    o = schema.crm_orders
    out["orders"] = [
        dict(r._mapping)
        for r in conn.execute(select(o).where(_who(o, accounts)).order_by(o.c.ordered_at.desc()))
    ]
    return out


def _activities(
    conn: Connection, accounts: list[Account], scope: set[GroupKey]
) -> list[dict[str, Any]]:
    """Events signed up for, chains (接龙) and lotteries entered, open polls voted in."""
    out: list[dict[str, Any]] = []
    parts = (
        ("event", schema.activity_events, schema.event_signups, "event_id", "ts"),
        ("chain", schema.chains, schema.chain_entries, "chain_id", "ts"),
        ("lottery", schema.lotteries, schema.lottery_entries, "lottery_id", "ts"),
    )
    for kind, parent, entry, fk, ts in parts:
        for platform, member in accounts:
            q = (
                select(
                    parent.c.platform, parent.c.group_id, parent.c.title, entry.c[ts].label("ts")
                )
                .join(entry, entry.c[fk] == parent.c.id)
                .where(parent.c.platform == platform, entry.c.member_id == member)
            )
            out += [{**r, "kind": kind} for r in _in_scope(conn.execute(q), scope)]
    polls, votes = schema.polls, schema.poll_votes
    for platform, member in accounts:
        q = (
            select(polls.c.platform, polls.c.group_id, polls.c.title, func.min(votes.c.ts).label("ts"))
            .join(votes, votes.c.poll_id == polls.c.id)
            .where(polls.c.platform == platform, polls.c.anonymous.is_(False), votes.c.voter == member)
            .group_by(polls.c.platform, polls.c.group_id, polls.c.title, polls.c.id)
        )  # fmt: skip
        out += [{**r, "kind": "poll"} for r in _in_scope(conn.execute(q), scope)]
    return sorted(out, key=lambda r: -r["ts"])


def _invited(
    conn: Connection, ids: list[int], gkeys: dict[int, tuple[str, str, str]], scope: set[GroupKey]
) -> list[dict[str, Any]]:
    """Members these accounts brought in (a join whose actor they were)."""
    if not ids:
        return []
    ev, mem = schema.membership_events, schema.members
    q = (
        select(ev.c.group_id, ev.c.ts, ev.c.method, mem.c.platform, mem.c.platform_id, mem.c.name)
        .join(mem, mem.c.id == ev.c.member_id)
        .where(ev.c.actor_id.in_(ids), ev.c.action == "join", ev.c.member_id.not_in(ids))
        .order_by(ev.c.ts.desc())
    )
    out = []
    for r in conn.execute(q):
        p, gid, gname = gkeys[int(r.group_id)]
        if (p, gid) in scope:
            out.append({
                "group": (p, gid), "group_name": gname, "ts": r.ts, "method": r.method,
                "account": (r.platform, r.platform_id), "name": r.name or r.platform_id,
            })  # fmt: skip
    return out
