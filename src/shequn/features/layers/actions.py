"""Layers in action: each layer's playbook action, suggested and carried out in one click.

For every member newly in a layer (entered it in the last ``actions.within_days``,
still holds it) and not yet acted on, :func:`suggest` proposes the playbook action
(§4.2): thank spreaders publicly and grant their title, invite actives to be
ambassadors, check on participants by name, guide bystanders with a welcome and an
ice-breaker; leaders get a personal invitation to co-create.

:func:`carry_out` plans the calls in the bot's outbox (``bot_actions``): a group
message (``send``), the title card through the honours path (``set_card``), and a
direct message. The platform port has no direct messages yet, so a direct message is
always a ``human_task`` row with its human task (the text to send, ready to copy); a
``send`` or ``set_card`` the platform cannot do becomes one through
:func:`shequn.actions.moderation.plan`. Every row of one action carries the same
``event_key`` (``layers.action:<layer>:<since>:<member>``): it is the record that the
member was acted on in this layer, so the suggestion is not made again, and the
anchor :func:`outcomes` compares the member's messages before and after from.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from shequn import i18n
from shequn.actions.moderation import add_human_task, plan
from shequn.features.layers.evaluate import rank
from shequn.features.layers.honours import plan_title, title_card
from shequn.features.layers.settings import LAYER_KEYS, LayerSettings
from shequn.features.layers.texts import layer_name
from shequn.platforms.port import Platform
from shequn.store import schema

__all__ = [
    "KEY_PREFIX",
    "KINDS",
    "Call",
    "Outcome",
    "Suggestion",
    "by_layer",
    "carry_out",
    "changes",
    "message",
    "outcomes",
    "suggest",
]

KEY_PREFIX = "layers.action:"

#: The playbook action of each layer (a message key under ``layers_actions.kind.``).
KINDS = {
    "opinion_leader": "co_create",
    "co_opinion_leader": "nurture",
    "spreader": "thank",
    "active": "ambassador",
    "participant": "care",
    "bystander": "guide",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One platform call an action needs: ``send`` (group), ``direct``, ``set_card``."""

    kind: str
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class Suggestion:
    member_id: str
    name: str
    layer: str
    from_layer: str | None  # None: no change recorded (a member first seen as bystander)
    since: float
    kind: str
    key: str  # the event_key of the rows that carry it out
    calls: tuple[Call, ...]
    messages: int
    active_days: int

    @property
    def promoted(self) -> bool:
        return self.from_layer is None or rank(self.layer) < rank(self.from_layer)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A carried-out action and the member's messages in the days before and after it."""

    member_id: str
    name: str
    layer: str
    done_at: float
    before: int
    after: int
    status: str  # rose | same | fell | pending (the after-window is not over yet)


def _key(layer: str, since: float, member: str) -> str:
    key = f"{KEY_PREFIX}{layer}:{int(since)}:{member}"
    if len(key) > 255:  # ids are the platform's strings: keep the column's bound
        key = f"{KEY_PREFIX}{layer}:{int(since)}:#" + hashlib.sha1(member.encode()).hexdigest()
    return key


def message(s: LayerSettings, layer: str, lang: str, name: str) -> str:
    """The layer's ready-to-send text in ``lang`` (the configured template, else built in)."""
    template = s.actions.templates.of(layer) or i18n.t(f"layers_actions.msg.{layer}", lang=lang)
    return template.format(name=name, layer=layer_name(layer, lang))


def _acted(conn: Connection, platform: str, group: str, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    a = schema.bot_actions
    q = select(a.c.event_key).where(a.c.platform == platform, a.c.group_id == group)
    return {r[0] for r in conn.execute(q.where(a.c.event_key.in_(keys)))}


def _from_layers(conn: Connection, platform: str, group: str, members: list[str]) -> dict[str, Any]:
    """Each member's latest recorded change (``layer_history``)."""
    h = schema.layer_history
    latest: dict[str, Any] = {}
    for i in range(0, len(members), 500):
        q = (
            select(h)
            .where(h.c.platform == platform, h.c.group_id == group)
            .where(h.c.member_id.in_(members[i : i + 500]))
            .order_by(h.c.ts, h.c.id)
        )
        for r in conn.execute(q):
            latest[r.member_id] = r
    return latest


def suggest(
    conn: Connection,
    platform: str,
    group: str,
    s: LayerSettings,
    *,
    lang: str,
    now: float,
    name_format: str = "",
) -> list[Suggestion]:
    """The playbook action for each member newly in a layer and not yet acted on.

    Best layer first, the newest arrivals first within a layer.
    """
    m = schema.layer_members
    q = (
        select(m)
        .where(m.c.platform == platform, m.c.group_id == group, m.c.is_bot.is_(False))
        .where(m.c.since >= now - s.actions.within_days * 86400, m.c.since <= now)
    )
    rows = list(conn.execute(q))
    keys = {r.member_id: _key(r.layer, r.since, r.member_id) for r in rows}
    done = _acted(conn, platform, group, list(keys.values()))
    history = _from_layers(conn, platform, group, [r.member_id for r in rows])
    out = []
    for r in rows:
        if keys[r.member_id] in done:
            continue
        h = history.get(r.member_id)
        from_layer = h.from_layer if h is not None and h.to_layer == r.layer else None
        name = r.name or r.member_id
        channel = s.actions.channels.of(r.layer)
        calls = [
            Call(
                "send" if channel == "group" else "direct",
                {"text": message(s, r.layer, lang, name)},
            )
        ]
        if s.actions.grant_titles:
            card = title_card(name, r.card, r.layer, s, name_format)
            if card is not None:
                calls.append(Call("set_card", {"card": card}))
        out.append(
            Suggestion(
                member_id=r.member_id,
                name=name,
                layer=r.layer,
                from_layer=from_layer,
                since=r.since,
                kind=KINDS[r.layer],
                key=keys[r.member_id],
                calls=tuple(calls),
                messages=r.messages,
                active_days=r.active_days,
            )
        )
    out.sort(key=lambda x: (rank(x.layer), -x.since, x.member_id))
    return out


def _direct(
    conn: Connection, platform: Platform, group: str, sg: Suggestion, text: str, **kw: Any
) -> int:
    """A direct message as an outbox row that a person carries out (no port sends DMs)."""
    a = schema.bot_actions
    aid = int(
        conn.execute(
            a.insert().values(
                platform=platform.name,
                group_id=group,
                member_id=sg.member_id,
                kind="direct",
                params=json.dumps({"text": text}, ensure_ascii=False),
                status="human_task",
                attempts=0,
                **kw,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    add_human_task(
        conn,
        platform=platform.name,
        group_id=group,
        member_id=sg.member_id,
        kind="direct",
        text=f"send a direct message / 私信 member={sg.member_id} ({sg.name}); text={text}",
        now=kw["created_at"],
        action_id=aid,
    )
    return aid


def carry_out(
    conn: Connection,
    platform: Platform,
    group: str,
    suggestions: list[Suggestion],
    *,
    now: float,
    operator: str,
) -> list[int]:
    """Plan the calls of ``suggestions`` in the outbox; the ``bot_actions`` ids.

    A suggestion already carried out (a second click, two operators at once) is
    skipped: the check and the rows are in the caller's transaction.
    """
    done = _acted(conn, platform.name, group, [sg.key for sg in suggestions])
    ids: list[int] = []
    for sg in suggestions:
        if sg.key in done:
            continue
        done.add(sg.key)
        reason = f"layers.{sg.kind}"
        evidence = {"layer": sg.layer, "from": sg.from_layer, "messages": sg.messages,
                    "active_days": sg.active_days}  # fmt: skip
        for call in sg.calls:
            if call.kind == "direct":
                ids.append(
                    _direct(
                        conn,
                        platform,
                        group,
                        sg,
                        call.params["text"],
                        reason=reason,
                        evidence=json.dumps(evidence),
                        event_key=sg.key,
                        operator=operator,
                        created_at=now,
                    )
                )
            elif call.kind == "set_card":
                ids.append(
                    plan_title(
                        conn,
                        platform,
                        group,
                        sg.member_id,
                        call.params["card"],
                        now=now,
                        event_key=sg.key,
                        reason=reason,
                        operator=operator,
                    )
                )
            else:
                ids.append(
                    plan(
                        conn,
                        platform,
                        group_id=group,
                        kind="send",
                        now=now,
                        member_id=sg.member_id,
                        params={"text": call.params["text"]},
                        reason=reason,
                        evidence=evidence,
                        event_key=sg.key,
                        operator=operator,
                    )
                )
    return ids


def _day(ts: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz)


def outcomes(
    conn: Connection, platform: str, group: str, s: LayerSettings, *, now: float, limit: int = 50
) -> list[Outcome]:
    """The actions carried out in the group, newest first, each with the member's
    messages in the ``followup_days`` days before the action's day and after it."""
    a, m, d = schema.bot_actions, schema.layer_members, schema.layer_days
    q = (
        select(a.c.event_key, a.c.member_id, func.min(a.c.created_at).label("at"))
        .where(a.c.platform == platform, a.c.group_id == group)
        .where(a.c.event_key.like(KEY_PREFIX + "%"))
        .group_by(a.c.event_key, a.c.member_id)
        .order_by(func.min(a.c.created_at).desc())
        .limit(limit)
    )
    done = list(conn.execute(q))
    names = {
        r.member_id: r.name or r.member_id
        for r in conn.execute(
            select(m.c.member_id, m.c.name).where(
                m.c.platform == platform,
                m.c.group_id == group,
                m.c.member_id.in_([r.member_id for r in done]),
            )
        )
    }
    tz, n = ZoneInfo(s.timezone), s.actions.followup_days
    out = []
    for r in done:
        day = _day(r.at, tz).date()
        first, last = (day - timedelta(days=n)).isoformat(), (day + timedelta(days=n)).isoformat()
        counts: dict[str, int] = defaultdict(int)
        q2 = (
            select(d.c.day, d.c.messages)
            .where(d.c.platform == platform, d.c.group_id == group)
            .where(d.c.member_id == r.member_id, d.c.day >= first, d.c.day <= last)
        )
        for dd, msgs in conn.execute(q2):
            if dd != day.isoformat():  # the action's own day counts for neither side
                counts["before" if dd < day.isoformat() else "after"] += int(msgs)
        before, after = counts["before"], counts["after"]
        over = _day(now, tz).date() > day + timedelta(days=n)
        status = (
            "pending"
            if not over
            else "rose"
            if after > before
            else "fell"
            if after < before
            else "same"
        )
        layer = r.event_key[len(KEY_PREFIX) :].split(":", 1)[0]
        out.append(
            Outcome(
                r.member_id, names.get(r.member_id, r.member_id), layer, r.at, before, after, status
            )
        )
    return out


def changes(conn: Connection, platform: str, group: str, *, limit: int = 30) -> list[Any]:
    """The latest promotions and demotions (``layer_history``), newest first."""
    h, m = schema.layer_history, schema.layer_members
    q = (
        select(h, m.c.name)
        .select_from(
            h.outerjoin(
                m,
                (m.c.platform == h.c.platform)
                & (m.c.group_id == h.c.group_id)
                & (m.c.member_id == h.c.member_id),
            )
        )
        .where(h.c.platform == platform, h.c.group_id == group)
        .order_by(h.c.ts.desc(), h.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(q))


def by_layer(suggestions: list[Suggestion]) -> list[tuple[str, list[Suggestion]]]:
    """Suggestions grouped by layer, best layer first (only the layers that have some)."""
    groups: dict[str, list[Suggestion]] = defaultdict(list)
    for sg in suggestions:
        groups[sg.layer].append(sg)
    return [(k, groups[k]) for k in LAYER_KEYS if groups.get(k)]
