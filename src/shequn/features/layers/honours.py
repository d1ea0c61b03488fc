"""Honours on a layer change (荣誉驱动): announcement, card title, server role, points.

Everything is *planned* (``bot_actions`` rows), carried out after the commit.

Cards: the bot owns only its prefix (``【核心】``). A new card is the member's current
card with any of the configured prefixes taken off and the new one put in front, so
the text the member chose is never replaced. Two more cases leave the card alone:
the member removed the bot's prefix after it was set (the current card differs from
the one the bot set and carries no prefix: that is their choice), and the group has
a ``gate.name_format`` the prefixed card would break (the gate would then ask them
to rename, and the two would fight). Demotions take the prefix off the same way.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select, update

from shequn.actions.moderation import plan
from shequn.features.layers.counters import local_day
from shequn.features.layers.evaluate import Change, rank
from shequn.features.layers.settings import LAYER_KEYS, LayerSettings
from shequn.features.layers.texts import layer_name, say
from shequn.platforms.port import Capability, Platform, capabilities_of
from shequn.store import schema

__all__ = ["MAX_CARD", "card_for", "honour", "plan_roles", "plan_title", "title_card"]

#: Longest card set (QQ allows 60 bytes; WeCom fewer): longer ones are left alone.
MAX_CARD = 60


def card_for(
    current: str, last_set: str | None, prefix: str, prefixes: tuple[str, ...]
) -> str | None:
    """The card to set for ``prefix`` (``""``: none), or None to leave the card as it is."""
    mine = tuple(p for p in prefixes if p)
    if last_set is not None and current != last_set and not current.startswith(mine or ("\0",)):
        return None  # they took the title off themselves
    base = current
    for p in sorted(mine, key=len, reverse=True):
        if base.startswith(p):
            base = base[len(p) :]
            break
    card = prefix + base
    if card == current or len(card.encode()) > MAX_CARD:
        return None
    return card


def title_card(
    name: str, last_set: str | None, layer: str, s: LayerSettings, name_format: str
) -> str | None:
    """The card with ``layer``'s title prefix, or None (no title, no change, or it would
    break the gate's ``name_format``)."""
    card = card_for(name, last_set, s.titles.of(layer), s.titles.prefixes())
    if card is not None and name_format and not re.fullmatch(name_format, card):
        return None
    return card


def plan_title(
    conn: Connection,
    platform: Platform,
    group: str,
    member_id: str,
    card: str,
    *,
    now: float,
    event_key: str | None = None,
    reason: str = "layers.title",
    operator: str | None = None,
) -> int:
    """Plan the ``set_card`` and remember it as the card the bot set (a human task
    where the platform cannot set cards)."""
    m = schema.layer_members
    previous = conn.execute(
        select(m.c.card)
        .where(m.c.platform == platform.name, m.c.group_id == group)
        .where(m.c.member_id == member_id)
    ).scalar()
    aid = plan(
        conn, platform, group_id=group, kind="set_card", params={"card": card}, reason=reason,
        now=now, member_id=member_id, event_key=event_key, operator=operator,
        evidence={"previous": previous} if previous else None,
    )  # fmt: skip
    conn.execute(
        update(m)
        .where(m.c.platform == platform.name, m.c.group_id == group)
        .where(m.c.member_id == member_id)
        .values(card=card, name=card)  # what the member's card is from now on
    )
    return aid


def _can_set_card(platform: Platform, group: str) -> bool:
    # plan() knows the kinds it can carry out; until "set_card" is one of them (see
    # the report), planning it would fail the whole tick.
    from shequn.actions import moderation

    kinds: Any = getattr(moderation, "_CAPS", {})
    return Capability.SET_CARD in capabilities_of(platform, group) and "set_card" in kinds


def plan_roles(
    conn: Connection,
    platform: Platform,
    group: str,
    change: Change,
    s: LayerSettings,
    *,
    now: float,
    event_key: str | None = None,
) -> list[int]:
    """Plan the server roles of a layer change (``roles``): the new layer's role granted,
    the old one's revoked, so the member's role mirrors the layer held. Planned where
    the platform has roles (Discord), a task for a person elsewhere."""

    def role_of(layer: str) -> str:
        return s.roles.of(layer) if layer in LAYER_KEYS else ""

    old, new = role_of(change.old), role_of(change.new)
    common: dict[str, Any] = dict(
        group_id=group, now=now, member_id=change.member_id, event_key=event_key,
        evidence={"from": change.old, "to": change.new},
    )  # fmt: skip
    ids: list[int] = []
    if new and new != old:
        ids.append(plan(conn, platform, kind="grant_role", params={"role": new},
                        reason="layers.role", **common))  # fmt: skip
    if old and old != new:
        ids.append(plan(conn, platform, kind="revoke_role", params={"role": old},
                        reason="layers.role", **common))  # fmt: skip
    return ids


def honour(
    conn: Connection,
    platform: Platform,
    group: str,
    change: Change,
    s: LayerSettings,
    *,
    lang: str,
    name_format: str,
    now: float,
    event_key: str | None = None,
) -> list[int]:
    """Plan what a change earns: announcement, card, points. Returns the planned ids."""
    ids: list[int] = []
    common: dict[str, Any] = dict(
        group_id=group, now=now, member_id=change.member_id, event_key=event_key
    )
    name = change.name or change.member_id
    if change.promoted and change.new in s.announce:
        text = say(lang, "promoted", name=name, layer=layer_name(change.new, lang))
        if change.reasons:
            text += ("（" if lang == "zh" else " (") + say(lang, "sep").join(change.reasons[:2])
            text += "）" if lang == "zh" else ")"
        ids.append(
            plan(
                conn,
                platform,
                kind="send",
                params={"text": text},
                reason="layers.promoted",
                **common,
            )
        )
    card = title_card(name, change.card, change.new, s, name_format)
    if card is not None and _can_set_card(platform, group):
        ids.append(
            plan_title(conn, platform, group, change.member_id, card, now=now, event_key=event_key)
        )
    ids += plan_roles(conn, platform, group, change, s, now=now, event_key=event_key)
    points = s.bonus.of(change.new)
    if change.promoted and points and rank(change.new) < rank(change.best_before):
        # Only a layer better than any held before pays: falling back and climbing
        # again is not a way to farm points (the daily cap is the second guard).
        from shequn.features.checkin import award

        award(
            conn,
            platform.name,
            group,
            change.member_id,
            points=points,
            reason="layers.promotion",
            day=local_day(now, s.timezone),
            ts=now,
            cap=s.bonus_daily_cap,
        )
    return ids
