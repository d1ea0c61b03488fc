"""What every activity shares: who may run it, names, saying things, command parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, Select, Table, bindparam, select

from shequn.actions.moderation import plan
from shequn.events import MemberRef, MessagePosted
from shequn.platforms.port import Platform

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = [
    "Texts",
    "after_command",
    "announce",
    "is_command",
    "is_operator",
    "name_of",
    "open_in_group",
    "plan_send",
    "reply",
    "say",
    "show_time",
    "split_fields",
    "take_flags",
]

#: Per-module texts: ``{"zh": {key: template}, "en": {...}}``.
Texts = Mapping[str, Mapping[str, str]]


def name_of(ref: MemberRef) -> str:
    """The name to show (and store: the name columns hold 255 characters)."""
    return (ref.name or ref.platform_id)[:255]


def is_operator(ctx: Context, ref: MemberRef) -> bool:
    """Group staff: admins the platform names, ``exempt`` members, activity operators."""
    if ref.is_operator:
        return True
    if ref.platform_id in ctx.settings.exempt:
        return True
    return ref.platform_id in ctx.settings.activities.operators


def say(texts: Texts, lang: str, key: str, **kw: Any) -> str:
    return texts[lang][key].format(**kw)


def announce(ctx: Context, text: str, reason: str, member_id: str | None = None) -> None:
    """Post ``text`` to the event's group (planned, carried out after the commit)."""
    ctx.plan("send", params={"text": text}, member_id=member_id, reason=reason)


def reply(ctx: Context, ev: MessagePosted, text: str, reason: str) -> None:
    """Answer ``ev`` itself: refusals and confirmations meant for one member."""
    member = ev.sender.platform_id if ev.sender else None
    ctx.plan(
        "send",
        params={"text": text, "reply_to": ev.message_id},
        member_id=member,
        reason=reason,
    )


def plan_send(
    conn: Connection,
    platform: Platform,
    group_id: str,
    text: str,
    *,
    now: float,
    reason: str,
    key: str,
) -> int:
    """A ``send`` planned by a tick job; ``key`` names the decision for the audit trail."""
    return plan(
        conn,
        platform,
        group_id=group_id,
        kind="send",
        now=now,
        params={"text": text},
        reason=reason,
        event_key=key,
    )


def show_time(ts: float, tz: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%m-%d %H:%M")


def after_command(text: str, words: tuple[str, ...]) -> str | None:
    """The rest of ``text`` if it starts with one of ``words`` as a whole word, else None."""
    t = text.strip()
    low = t.casefold()
    for w in words:
        wl = w.casefold()
        if low == wl:
            return ""
        if low.startswith(wl):
            nxt = t[len(w)]
            # ASCII commands need a separator ("/pollx" is not "/poll"); Chinese do not.
            if nxt.isspace() or nxt in ":：" or not w[-1].isascii():
                return t[len(w) :].lstrip(" \t:：")
    return None


def is_command(text: str, words: tuple[str, ...]) -> bool:
    """``text`` is exactly one of ``words`` ("开奖", not "开奖了吗？")."""
    return after_command(text, words) == ""


def split_fields(text: str) -> list[str]:
    """``a | b ｜ c`` (half or full width bars, or one item per line) -> stripped fields."""
    sep = "|" if ("|" in text or "｜" in text) else "\n"
    return [f.strip() for f in text.replace("｜", "|").split(sep) if f.strip()]


_VALUED = {"--minutes": "minutes", "--winners": "winners", "--days": "days",
           "--points": "points", "--keyword": "keyword"}  # fmt: skip
_BARE = {"--multi": "multi", "多选": "multi", "--anon": "anon", "匿名": "anon"}
_ZH = (
    (re.compile(r"^(\d+)(?:分钟|min|mins|m)$", re.I), "minutes", 1),
    (re.compile(r"^(\d+)(?:小时|h)$", re.I), "minutes", 60),
    (re.compile(r"^(\d+)(?:天|d)$", re.I), "minutes", 1440),
    (re.compile(r"^(\d+)(?:人|名)$"), "winners", 1),
    (re.compile(r"^近(\d+)天$"), "days", 1),
    (re.compile(r"^(\d+)积分$"), "points", 1),
)
_KEYWORD = re.compile(r"^(?:口令|关键词)[:：](.+)$")


def take_flags(text: str) -> tuple[dict[str, Any], str]:
    """Leading options of a start command, and the rest.

    ``--multi --anon --minutes 30 --winners 2 --days 7 --points 50 --keyword 抽我`` or
    the Chinese ``多选 匿名 30分钟 2人 近7天 50积分 口令:抽我``. Numbers are ints.
    """
    flags: dict[str, Any] = {}
    tokens = text.split()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.casefold()
        name, _, inline = low.partition("=")
        if name in _VALUED:
            value = tokens[i][len(name) + 1 :] if inline else None
            if value is None:
                if i + 1 >= len(tokens):
                    break
                i += 1
                value = tokens[i]
            key = _VALUED[name]
            flags[key] = value if key == "keyword" else _int(value)
        elif low in _BARE:
            flags[_BARE[low]] = True
        elif m := _KEYWORD.match(tok):
            flags["keyword"] = m.group(1)
        else:
            for rx, key, unit in _ZH:
                if m := rx.match(tok):
                    flags[key] = int(m.group(1)) * unit
                    break
            else:
                break
        i += 1
    return flags, " ".join(tokens[i:])


def _int(value: str) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        return -1  # callers treat a negative number as "not given properly"


@cache
def open_in_group(table: Table) -> Select[Any]:
    """The open rows of an activity ``table`` in one group, newest first (bound:
    ``platform``, ``group_id``). Built once per table: every message asks it, and
    building the statement anew cost ~200 µs more than running it."""
    return (
        select(table)
        .where(
            table.c.platform == bindparam("platform"),
            table.c.group_id == bindparam("group_id"),
            table.c.status == "open",
        )
        .order_by(table.c.id.desc())
    )


def due(conn: Connection, table: Table, now: float) -> list[Row[Any]]:
    """The open rows of an activity ``table`` whose deadline has passed, oldest first."""
    return list(
        conn.execute(
            select(table)
            .where(table.c.status == "open", table.c.deadline.is_not(None), table.c.deadline <= now)
            .order_by(table.c.id)
        ).all()
    )
