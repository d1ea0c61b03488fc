"""What the group page lists: members, the moderation log, the escalation queue, and
what the bot can do in the group (:func:`capabilities`)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select

from shequn.actions.moderation import REVERSIBLE
from shequn.platforms.port import Capability, Platform, capabilities_of
from shequn.store import schema

__all__ = [
    "UNDOABLE",
    "CapabilityLine",
    "MemberLine",
    "can_undo_row",
    "capabilities",
    "escalations",
    "members",
    "moderation_log",
]

#: Kinds whose effect undo reverses on the platform (see ``actions.moderation``).
UNDOABLE = REVERSIBLE


@dataclass(frozen=True, slots=True)
class MemberLine:
    platform_id: str
    name: str
    messages: int
    last_speak: float | None
    strikes: int
    layer: str | None = None  # the held layer (layer_members), None before the first count
    points: int = 0  # the group's points balance (points_ledger)
    tags: tuple[str, ...] = ()  # CRM tags of the account ("category:tag" or "tag")


def members(conn: Connection, group: Row[Any], *, now: float, limit: int = 200) -> list[MemberLine]:
    """Members who spoke in or joined the group, latest speaker first."""
    m, mem, ev, s = schema.messages, schema.members, schema.membership_events, schema.strikes
    spoke = (
        select(
            mem.c.platform_id,
            mem.c.name,
            func.count(m.c.id).label("n"),
            func.max(m.c.ts).label("last"),
        )
        .join(m, m.c.member_id == mem.c.id)
        .where(m.c.group_id == group.id)
        .group_by(mem.c.id, mem.c.platform_id, mem.c.name)
        .order_by(func.max(m.c.ts).desc())
        .limit(limit)
    )
    rows: dict[str, list[Any]] = {}
    for pid, name, n, last in conn.execute(spoke):
        rows[pid] = [name, int(n), last]
    if len(rows) < limit:
        joined = (
            select(mem.c.platform_id, mem.c.name)
            .join(ev, ev.c.member_id == mem.c.id)
            .where(ev.c.group_id == group.id)
            .distinct()
            .limit(limit)
        )
        for pid, name in conn.execute(joined):
            if len(rows) >= limit:
                break
            rows.setdefault(pid, [name, 0, None])
    counts: dict[str, int] = dict(
        conn.execute(
            select(s.c.member_id, func.count())
            .where(
                s.c.platform == group.platform,
                s.c.group_id == group.platform_id,
                s.c.status == "active",
                s.c.expires_at > now,
            )
            .group_by(s.c.member_id)
        ).all()
    )
    ids = list(rows)
    layers, points, tags = _member_extras(conn, group.platform, group.platform_id, ids)
    return [
        MemberLine(
            pid, name or pid, n, last, int(counts.get(pid, 0)), layers.get(pid),
            points.get(pid, 0), tuple(tags.get(pid, ())),
        )
        for pid, (name, n, last) in rows.items()
    ]  # fmt: skip


def _member_extras(
    conn: Connection, platform: str, group_id: str, ids: list[str]
) -> tuple[dict[str, str], dict[str, int], dict[str, list[str]]]:
    """Layer, points balance and CRM tags of the listed members of one group."""
    if not ids:
        return {}, {}, {}
    lm, pl, mt = schema.layer_members, schema.points_ledger, schema.member_tags
    layers: dict[str, str] = {}
    points: dict[str, int] = {}
    tags: dict[str, list[str]] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for mid, layer in conn.execute(
            select(lm.c.member_id, lm.c.layer).where(
                lm.c.platform == platform, lm.c.group_id == group_id, lm.c.member_id.in_(chunk)
            )
        ):
            layers[mid] = layer
        for mid, total in conn.execute(
            select(pl.c.member_id, func.sum(pl.c.delta))
            .where(pl.c.platform == platform, pl.c.group_id == group_id)
            .where(pl.c.member_id.in_(chunk))
            .group_by(pl.c.member_id)
        ):
            points[mid] = int(total or 0)
        for mid, category, tag in conn.execute(
            select(mt.c.member_id, mt.c.category, mt.c.tag)
            .where(mt.c.platform == platform, mt.c.member_id.in_(chunk))
            .order_by(mt.c.member_id, mt.c.category, mt.c.tag)
        ):
            tags.setdefault(mid, []).append(f"{category}:{tag}" if category else tag)
    return layers, points, tags


def moderation_log(conn: Connection, key: tuple[str, str], *, limit: int = 100) -> list[Row[Any]]:
    """The group's bot actions (the audit trail of the bot), newest first."""
    t = schema.bot_actions
    q = (
        select(t)
        .where(t.c.platform == key[0], t.c.group_id == key[1])
        .order_by(t.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(q).all())


def can_undo_row(row: Row[Any]) -> bool:
    """Does undo make sense for this log row (done, not an undo itself, something to undo)?"""
    if row.undo_of is not None:
        return False
    if row.status not in ("done", "human_task", "lifted"):
        return False
    return row.kind in UNDOABLE or row.strike_id is not None


def params_text(row: Row[Any]) -> str:
    try:
        params = json.loads(row.params or "{}")
    except ValueError:
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


@dataclass(frozen=True, slots=True)
class Escalation:
    kind: str  # "alert" | "task"
    id: int
    what: str  # the alert kind or the task kind
    member_id: str | None
    text: str
    suggestion: str
    created_at: float
    appeal_id: int | None = None  # an appeal task: the open appeal it asks to decide
    message_id: str | None = None  # the message it is about (the context link)


def escalations(conn: Connection, key: tuple[str, str], lang: str) -> list[Escalation]:
    """Open alerts and human tasks of the group, oldest first (they waited longest)."""
    a, h = schema.alerts, schema.human_tasks
    out: list[Escalation] = []
    for r in conn.execute(
        select(a).where(a.c.platform == key[0], a.c.group_id == key[1], a.c.status == "open")
    ):
        suggestion = r.suggestion_zh if lang == "zh" else r.suggestion_en
        about = _first(json.loads(r.message_ids or "[]"))
        out.append(
            Escalation(
                "alert",
                r.id,
                r.kind,
                r.member_id,
                r.detail,
                suggestion,
                r.created_at,
                message_id=about,
            )
        )
    ap, st, act = schema.appeals, schema.strikes, schema.bot_actions
    q = (
        select(
            h,
            ap.c.id.label("appeal_id"),
            st.c.message_id.label("struck"),
            act.c.params.label("act_params"),
            act.c.evidence.label("act_evidence"),
        )
        .outerjoin(ap, (ap.c.task_id == h.c.id) & (ap.c.status == "open"))
        .outerjoin(st, st.c.id == ap.c.strike_id)
        .outerjoin(act, act.c.id == h.c.action_id)
        .where(h.c.platform == key[0], h.c.group_id == key[1], h.c.status == "open")
    )
    for r in conn.execute(q):
        about = r.struck or _message_of(r.act_params, r.act_evidence)
        out.append(
            Escalation(
                "task",
                r.id,
                r.kind,
                r.member_id,
                r.text,
                "",
                r.created_at,
                r.appeal_id,
                message_id=about,
            )
        )
    out.sort(key=lambda e: (e.created_at, e.kind, e.id))
    return out


def _first(ids: Any) -> str | None:
    return str(ids[0]) if isinstance(ids, list) and ids else None


def _message_of(params: str | None, evidence: str | None) -> str | None:
    """The message a bot action was about: a delete's target, a strike's evidence."""
    for doc in (params, evidence):
        try:
            found = json.loads(doc or "{}").get("message_id")
        except (ValueError, AttributeError):
            continue
        if found:
            return str(found)
    return None


#: where each platform's adapter declares its adapter-wide set (imported only when the
#: console has no live connection for that platform)
_ADAPTERS = {
    "telegram": "shequn.platforms.telegram:TelegramAdapter",
    "discord": "shequn.platforms.discord.adapter:DiscordAdapter",
    "matrix": "shequn.platforms.matrix:MatrixAdapter",
    "qq": "shequn.platforms.onebot:OneBotAdapter",
    "qqbot": "shequn.platforms.qqbot.adapter:QQBotAdapter",
    "wecom": "shequn.platforms.wecom.adapter:WeComAdapter",
}


@dataclass(frozen=True, slots=True)
class CapabilityLine:
    capability: str
    can: bool | None  # None: not known (no live bot, no declared set)


@dataclass(frozen=True, slots=True)
class CapabilitySet:
    source: str  # "live": the bot's rights in this group; "declared": the adapter's; "unknown"
    lines: list[CapabilityLine]


def declared(platform: str) -> frozenset[Capability] | None:
    """The adapter-wide set an adapter declares for ``platform``, or None."""
    where = _ADAPTERS.get(platform)
    if where is None:
        return None
    module, _, cls = where.partition(":")
    try:
        found = getattr(importlib.import_module(module), cls).capabilities
    except (ImportError, AttributeError):
        return None
    return frozenset(found) if isinstance(found, frozenset) else None


def capabilities(platforms: Mapping[str, Platform], key: tuple[str, str]) -> CapabilitySet:
    """What the bot can do in group ``key`` (platform, group id), capability by capability.

    With a live connection: the set for this group (the bot's rights there as the
    adapter learned them); without one, the set the platform's adapter declares.
    """
    live = platforms.get(key[0])
    caps = capabilities_of(live, key[1]) if live is not None else declared(key[0])
    source = "live" if live is not None else "declared" if caps is not None else "unknown"
    return CapabilitySet(
        source,
        [CapabilityLine(c.value, None if caps is None else c in caps) for c in Capability],
    )
