"""The handler (priority 60), the tick job, the commands and the gate's ``layer_of``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from shequn.events import MessagePosted
from shequn.features.layers.counters import count_event
from shequn.features.layers.evaluate import Change, evaluate_group, rank
from shequn.features.layers.honours import honour
from shequn.features.layers.settings import LAYER_KEYS, LayerSettings
from shequn.features.layers.texts import layer_name, next_step, say
from shequn.store import Store, schema

if TYPE_CHECKING:
    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = [
    "LEVELS",
    "commands",
    "handle",
    "layer_level",
    "layer_lookup",
    "observe",
    "refresh",
    "tick",
]

#: The gate's scale (higher is better): bystander 0, participant 1 ... opinion leader 5.
LEVELS = {key: len(LAYER_KEYS) - 1 - i for i, key in enumerate(LAYER_KEYS)}


def _stay_days() -> int:
    from shequn.analytics.settings import AnalyticsSettings

    return AnalyticsSettings().invite_stay_days


async def handle(ctx: Context) -> bool:
    """Count the event (:func:`observe`), then answer the commands (:func:`commands`).

    At priority 60 this sees only the events no earlier handler stopped; see
    :func:`observe` for the events it misses."""
    await observe(ctx)
    return await commands(ctx)


async def observe(ctx: Context) -> bool:
    """Add the event to the rolling counters; never stops the handlers.

    Registered at priority 25: after the entry gate and moderation, so gate answers
    and messages moderation removed earn nothing (spam earns no layer: the one place
    the live counts differ from the batch report on purpose), and before the features
    that stop on their own commands (activities, check-in, FAQ), so those count.
    """
    s: LayerSettings = ctx.settings.layers
    if s.enabled:
        count_event(ctx.conn, ctx.platform.name, ctx.event, ctx.now, s.timezone, _stay_days(),
                    new_message=ctx.new_message)  # fmt: skip
    return False


async def commands(ctx: Context) -> bool:
    """``我的等级`` / ``/level`` for everyone, ``分层统计`` / ``/layers`` for staff."""
    s: LayerSettings = ctx.settings.layers
    ev = ctx.event
    if not s.enabled or not isinstance(ev, MessagePosted) or ev.sender is None:
        return False
    if ev.sender.is_bot or not ev.text or ev.edited:
        return False
    text = " ".join(ev.text.split()).casefold()
    if text in (w.casefold() for w in s.level_keywords):
        refresh(ctx.conn, ctx.platform, ev.group_id, ctx.settings, ctx.now, event_key=ctx.key)
        _level(ctx, ev)
        return True
    if text in (w.casefold() for w in s.stats_keywords):
        sender = ev.sender
        if not (sender.is_operator or sender.platform_id in ctx.settings.exempt):
            return False  # members asking get nothing: the counts are for staff
        refresh(ctx.conn, ctx.platform, ev.group_id, ctx.settings, ctx.now, event_key=ctx.key)
        _stats(ctx, ev)
        return True
    return False


def refresh(
    conn: Connection,
    platform: Platform,
    group: str,
    settings: Any,
    now: float,
    *,
    event_key: str | None = None,
) -> list[Change]:
    """Re-evaluate one group and plan the honours of its changes."""
    s: LayerSettings = settings.layers
    changes = evaluate_group(
        conn,
        platform.name,
        group,
        now,
        grace_days=s.grace_days,
        tz=s.timezone,
        lang=settings.language,
    )
    for change in changes:
        honour(
            conn,
            platform,
            group,
            change,
            s,
            lang=settings.language,
            name_format=settings.gate.name_format,
            now=now,
            event_key=event_key,
        )
    return changes


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Re-evaluate the groups with changed members, or a demotion whose grace is up."""
    m = schema.layer_members
    q = (
        select(m.c.platform, m.c.group_id)
        .where(or_(m.c.dirty.is_(True), m.c.failing_since.is_not(None)))
        .distinct()
    )
    for pf, group in conn.execute(q).all():
        platform = platforms.get(pf)
        if platform is None:
            continue  # not attached yet: its members stay dirty until it is
        settings = settings_for(pf, group)
        if settings.layers.enabled:
            refresh(conn, platform, group, settings, now)


def _member(conn: Connection, platform: str, group: str, member: str) -> Any:
    m = schema.layer_members
    q = select(m).where(m.c.platform == platform, m.c.group_id == group, m.c.member_id == member)
    return conn.execute(q).first()


def _level(ctx: Context, ev: MessagePosted) -> None:
    assert ev.sender is not None
    lang, s = ctx.settings.language, ctx.settings.layers
    row = _member(ctx.conn, ctx.platform.name, ev.group_id, ev.sender.platform_id)
    name = ev.sender.name or ev.sender.platform_id
    lines = [say(lang, "level", name=name, layer=layer_name(row.layer, lang))]
    reasons = json.loads(row.reasons)
    if reasons:
        lines.append(say(lang, "why", reasons=say(lang, "sep").join(reasons)))
    if row.failing_since is not None and rank(row.computed) > rank(row.layer):
        until = row.failing_since + s.grace_days * 86400
        day = datetime.fromtimestamp(until, ZoneInfo(s.timezone)).date().isoformat()
        lines.append(say(lang, "kept", computed=layer_name(row.computed, lang), until=day))
    step = next_step(row, row.layer, lang)
    lines.append(step if step is not None else say(lang, "top"))
    ctx.plan(
        "send",
        params={"text": "\n".join(lines)},
        member_id=ev.sender.platform_id,
        reason="layers.level",
    )


def _stats(ctx: Context, ev: MessagePosted) -> None:
    from shequn.analytics.layer_texts import ACTIONS
    from shequn.analytics.settings import AnalyticsSettings

    assert ev.sender is not None
    lang = ctx.settings.language
    m = schema.layer_members
    q = (
        select(m.c.layer, func.count())
        .where(m.c.platform == ctx.platform.name, m.c.group_id == ev.group_id)
        .where(m.c.is_bot.is_(False))
        .group_by(m.c.layer)
    )
    counts = {k: 0 for k in LAYER_KEYS}
    counts.update({layer: int(n) for layer, n in ctx.conn.execute(q)})
    days = AnalyticsSettings().layer_window_days
    lines = [say(lang, "stats", days=days, total=sum(counts.values()))]
    for key in LAYER_KEYS:
        action = ACTIONS[key][1 if lang == "en" else 0]
        lines.append(say(lang, "row", layer=layer_name(key, lang), n=counts[key], action=action))
    ctx.plan(
        "send",
        params={"text": "\n".join(lines)},
        member_id=ev.sender.platform_id,
        reason="layers.stats",
    )


def layer_level(conn: Connection, platform: str, group: str, member: str) -> int | None:
    """The member's held layer in the group on the gate's scale (:data:`LEVELS`)."""
    row = _member(conn, platform, group, member)
    return None if row is None else LEVELS[row.layer]


def layer_lookup(store: Store) -> Callable[[str, str, str], int | None]:
    """A ``layer_of(platform, group, member)`` for :class:`~shequn.pipeline.Pipeline`.

    It reads on a connection of its own (the gate calls it inside the event's
    transaction; the layer tables are not written by the gate, so nothing is missed).
    """

    def layer_of(platform: str, group: str, member: str) -> int | None:
        with store.engine.connect() as conn:
            return layer_level(conn, platform, group, member)

    return layer_of
