"""Bot actions: the outbox of platform calls, strikes, undo, alerts, human tasks.

Every platform call the engine decides is first a ``bot_actions`` row (``planned``),
written in the transaction that made the decision, and only then carried out and
marked ``done``. A crash between the two leaves a planned row that
:func:`carry_out` retries after the restart: the decision is never lost and never
taken twice. (The call itself may repeat if the crash falls between the platform's
answer and the ``done`` mark; mute, kick, unban and delete are idempotent on the
platforms we drive, a repeated warning is the accepted worst case.)

Where the platform lacks the capability the row becomes ``human_task`` and a
``human_tasks`` row tells a person what to do: a policy is never silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from functools import cache
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from shequn.platforms.port import (
    Capability,
    Platform,
    PlatformError,
    Unsupported,
    call_key,
    capabilities_of,
    refused,
)
from shequn.store import Store, schema

__all__ = [
    "MAX_ATTEMPTS",
    "REVERSIBLE",
    "SUGGESTIONS",
    "Fence",
    "active_strikes",
    "add_human_task",
    "add_strike",
    "can_call",
    "carry_out",
    "forget_pacing",
    "mute_end",
    "plan",
    "plan_undo",
    "raise_alert",
    "revoke_strike",
    "undo",
]

log = logging.getLogger(__name__)

#: A call that keeps failing (rate limits, lost permission) goes to a human after this.
MAX_ATTEMPTS = 5

#: Kinds whose effect undo reverses on the platform (a mute is lifted, a ban unbanned);
#: other kinds (a warning, a deleted message) can still be undone for their strike.
REVERSIBLE = frozenset({"mute", "kick", "ban"})

_CAPS: dict[str, Capability] = {
    "send": Capability.SEND,
    "delete": Capability.DELETE,
    "mute": Capability.MUTE,
    "kick": Capability.KICK,
    "ban": Capability.BAN,
    "unban": Capability.BAN,
    "approve_join": Capability.APPROVE_JOIN,
    "set_card": Capability.SET_CARD,
    "grant_role": Capability.ROLE,
    "revoke_role": Capability.ROLE,
}

_TODO = {
    "send": "post this message / 发送消息",
    "delete": "delete the message / 撤回消息",
    "mute": "mute the member / 禁言",
    "kick": "remove the member / 移出群聊",
    "ban": "remove and block the member / 移出并拉黑",
    "unban": "lift the block on the member / 解除拉黑",
    "approve_join": "answer the join request / 处理入群申请",
    "set_card": "set the member's group card / 修改群名片",
    "grant_role": "give the member the role / 授予身份组",
    "revoke_role": "take the role from the member / 移除身份组",
}

#: Prepared responses (预案) for each alert kind: (Chinese, English).
SUGGESTIONS: dict[str, tuple[str, str]] = {
    "uncertain": (
        "机器人拿不准这条消息是否违规，请人工查看后决定保留或处理。",
        "The bot is unsure whether this message breaks the rules; please review it.",
    ),
    "question": (
        "有成员提问还没有人回答：请及时回复，或引导到精华帖/FAQ。",
        "A member's question is still unanswered: reply, or point them to the FAQ.",
    ),
    "quarrel": (
        "两位成员正在争吵：请私聊双方降温，并在群里提醒大家友善交流、对事不对人。",
        "Two members are quarrelling: message both privately to calm things down and "
        "remind the group to stay civil.",
    ),
    "failed": (
        "机器人多次执行失败，请人工处理。",
        "The bot failed repeatedly; please do it by hand.",
    ),
    "database": (
        "数据库曾经不可用，机器人暂停处理并在恢复后补上了积压的消息；请检查数据库服务器。",
        "The database was unavailable; the bot held events and caught up when it came "
        "back. Please check the database server.",
    ),
}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def _insert_into(table: Any) -> Any:
    """The table's plain INSERT, built once: the values go as parameters. (Building
    ``insert().values(...)`` anew for each audit row cost ~300 µs, more than the write.)"""
    return table.insert()


def _insert(conn: Connection, table: Any, **values: Any) -> int:
    return int(conn.execute(_insert_into(table), values).inserted_primary_key[0])  # type: ignore[index]


def add_human_task(
    conn: Connection,
    *,
    platform: str,
    group_id: str,
    kind: str,
    text: str,
    now: float,
    member_id: str | None = None,
    action_id: int | None = None,
) -> int:
    return _insert(
        conn,
        schema.human_tasks,
        platform=platform,
        group_id=group_id,
        member_id=member_id,
        kind=kind,
        text=text,
        action_id=action_id,
        status="open",
        created_at=now,
    )


def _task_text(kind: str, member_id: str | None, params: dict[str, Any], reason: str) -> str:
    parts = [_TODO.get(kind, kind)]
    if member_id:
        parts.append(f"member={member_id}")
    if kind == "mute":
        parts.append(f"seconds={params.get('seconds', 0)}")
    for k in ("message_id", "text", "card", "role"):
        if params.get(k):
            parts.append(f"{k}={params[k]}")
    if reason:
        parts.append(f"reason={reason}")
    return "; ".join(parts)


def plan(
    conn: Connection,
    platform: Platform,
    *,
    group_id: str,
    kind: str,
    now: float,
    member_id: str | None = None,
    params: dict[str, Any] | None = None,
    reason: str = "",
    evidence: dict[str, Any] | None = None,
    event_key: str | None = None,
    strike_id: int | None = None,
    undo_of: int | None = None,
    operator: str | None = None,
) -> int:
    """Write the audit row for one platform call (or a human task where it cannot call)."""
    params = params or {}
    cap = _cap(kind, params)
    status = "planned" if cap in capabilities_of(platform, group_id) else "human_task"
    aid = _insert(
        conn,
        schema.bot_actions,
        platform=platform.name,
        group_id=group_id,
        member_id=member_id,
        kind=kind,
        params=_dumps(params),
        reason=reason,
        evidence=_dumps(evidence or {}),
        status=status,
        error=None if status == "planned" else f"{platform.name}: no {cap.value} by API here",
        attempts=0,
        event_key=event_key,
        strike_id=strike_id,
        undo_of=undo_of,
        operator=operator,
        created_at=now,
    )
    if status == "human_task":
        add_human_task(
            conn,
            platform=platform.name,
            group_id=group_id,
            member_id=member_id,
            kind=kind,
            text=_task_text(kind, member_id, params, reason),
            now=now,
            action_id=aid,
        )
    return aid


def _cap(kind: str, params: dict[str, Any]) -> Capability:
    return Capability.REPLY if kind == "send" and params.get("reply_to") else _CAPS[kind]


def can_call(
    platform: Platform, group_id: str, kind: str, params: dict[str, Any] | None = None
) -> bool:
    """Whether a ``kind`` call is made by API in the group (else it is a human task)."""
    return _cap(kind, params or {}) in capabilities_of(platform, group_id)


async def _call(platform: Platform, kind: str, row: Any, params: dict[str, Any]) -> None:
    g, m = row.group_id, row.member_id
    if kind == "send":
        await platform.send(g, params["text"], reply_to=params.get("reply_to"))
    elif kind == "delete":
        await platform.delete(g, params["message_id"], reason=row.reason)
    elif kind == "mute":
        await platform.mute(g, m, int(params.get("seconds", 0)))
    elif kind in ("kick", "ban"):
        await platform.kick(g, m, ban=kind == "ban", reason=row.reason)
    elif kind == "unban":
        await platform.unban(g, m)
    elif kind == "approve_join":
        await platform.approve_join(g, params["request_id"], bool(params["approve"]))
    elif kind == "set_card":
        await platform.set_card(g, m, params["card"])
    elif kind in ("grant_role", "revoke_role"):
        # an optional part of the port: capabilities_of() offers ROLE only with it
        act = getattr(platform, kind, None)
        if not callable(act):
            raise Unsupported(f"{platform.name} has no server roles")
        await act(g, m, params["role"], reason=row.reason)
    else:  # pragma: no cover - plan() only writes the kinds above
        raise ValueError(f"unknown action kind {kind!r}")


#: Longest wait between two attempts of a failing call (seconds).
MAX_BACKOFF = 300.0
_last_call: dict[str, float] = {}
#: Per platform, the time (in :func:`carry_out`'s ``now``) before which no call goes to
#: it: set when it rate-limited us, since its limits are per bot account, not per group.
_paused_until: dict[str, float] = {}


def forget_pacing() -> None:
    """Forget every platform's last call and pause (a test's fake clock ends with it)."""
    _last_call.clear()
    _paused_until.clear()


async def _pace(platform: Platform) -> None:
    """Keep at least ``platform.min_call_interval`` seconds between calls to it."""
    gap = float(getattr(platform, "min_call_interval", 0.0) or 0.0)
    if gap <= 0:
        return
    loop = asyncio.get_running_loop()
    # Reserve the slot before sleeping: callers running side by side (the carrier's
    # groups) each take the next free slot instead of waking together.
    at = max(loop.time(), _last_call.get(platform.name, float("-inf")) + gap)
    _last_call[platform.name] = at
    if at > loop.time():
        await asyncio.sleep(at - loop.time())


def _defer(store: Store, ids: list[int], until: float) -> None:
    """Leave planned calls ``ids`` for ``until`` (the platform is paused), no attempt spent."""
    t = schema.bot_actions
    with store.engine.begin() as conn:
        conn.execute(
            update(t).where(t.c.id.in_(ids), t.c.status == "planned").values(not_before=until)
        )


def _key(row: Any) -> str:
    """The idempotency key of planned call ``row``: the same on every attempt, and
    unlikely to meet another database's row of the same id (its creation time)."""
    return f"shequn.{row.id}.{int(row.created_at * 1000)}"


def _task_for(
    conn: Connection, row: Any, params: dict[str, Any], now: float, lead: str = ""
) -> None:
    """The human task for planned call ``row`` the bot cannot (or could not) make."""
    text = _task_text(row.kind, row.member_id, params, row.reason)
    add_human_task(
        conn, platform=row.platform, group_id=row.group_id, member_id=row.member_id,
        kind=row.kind, now=now, action_id=row.id, text=f"{lead} {text}" if lead else text,
    )  # fmt: skip


#: ``fence(conn, action_row)``: may this process make the call now? (see :func:`carry_out`)
Fence = Callable[[Connection, Any], bool]


@contextlib.asynccontextmanager
async def _fenced(
    store: Store, fence: Fence | None, row: Any
) -> AsyncIterator[Callable[[], contextlib.AbstractContextManager[Connection]] | None]:
    """How :func:`carry_out` writes one call's result; ``None`` when the fence refuses it."""
    if fence is None:
        yield store.engine.begin  # a transaction of its own after the call, as ever
        return
    with store.engine.begin() as conn:
        if not fence(conn, row):
            log.warning(
                "action %s (%s in %s) not carried out here: the group's lease moved on",
                row.id,
                row.kind,
                row.group_id,
            )
            yield None
            return
        yield lambda: contextlib.nullcontext(conn)


def _after_done(tx: Callable[[], Any], row: Any, after: int, now: float) -> bool:
    """Whether the call ``row`` announces (``params["after"]``: a strike's notice waits
    for its mute or removal) was made. While it waits, so does ``row``, with no attempt
    spent; if it will not be made by the bot (failed, a person's task, undone), ``row``
    is ``dropped``: the group is not told of a penalty that did not happen."""
    t = schema.bot_actions
    # read, then write in a transaction of its own: on SQLite a deferred transaction that
    # read first can fail its write at once if another connection committed meanwhile
    with tx() as conn:
        first = conn.execute(select(t.c.status, t.c.not_before).where(t.c.id == after)).first()
    if first is not None and first.status in ("done", "lifted"):
        return True
    if first is not None and first.status == "planned":
        values: dict[str, Any] = {"not_before": max(first.not_before or now, now + 1.0)}
    else:
        why = f"not said: action {after} was not made ({first.status if first else 'gone'})"
        values = {"status": "dropped", "error": why}
    with tx() as conn:
        conn.execute(update(t).where(t.c.id == row.id, t.c.status == "planned").values(values))
    return False


async def carry_out(
    store: Store,
    platform: Platform,
    *,
    now: float,
    ids: Iterable[int] | None = None,
    fence: Fence | None = None,
) -> int:
    """Do the planned calls for ``platform`` (all of them, or ``ids``), oldest first.

    Returns how many were done. A failed call stays planned and waits: for the
    platform's ``retry_after`` when it rate-limited us (and no call goes to that
    platform, from any group, until then: the rest of every batch is left planned
    for that time, without spending an attempt), else for an exponential back-off
    (1, 2, 4 ... :data:`MAX_BACKOFF` seconds). After :data:`MAX_ATTEMPTS` failures that
    were not rate limits it becomes ``failed`` with a human task. Calls are spaced by
    the platform's ``min_call_interval`` (seconds, 0 when it has none) so outbound rate
    limits are kept, never hit in a tight loop.

    With a ``fence`` (bot workers, see ``docs/scale-out.md``) each call is made inside
    one transaction that first asks ``fence(conn, row)`` and then writes the call's
    result: a row the fence refuses is skipped (it stays planned, for the group's
    current owner), and whatever the fence locked stays locked until the result is
    written.
    """
    t = schema.bot_actions
    q = (
        select(t)
        .where(
            t.c.platform == platform.name,
            t.c.status == "planned",
            or_(t.c.not_before.is_(None), t.c.not_before <= now),
        )
        .order_by(t.c.id)
    )
    if ids is not None:
        wanted = list(ids)
        if not wanted:
            return 0
        q = q.where(t.c.id.in_(wanted))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    done = 0
    for i, row in enumerate(rows):
        paused = _paused_until.get(platform.name, now)
        if paused > now:  # a call of another group was rate-limited
            _defer(store, [r.id for r in rows[i:]], paused)
            break
        async with _fenced(store, fence, row) as tx:
            if tx is None:
                continue
            params = json.loads(row.params)
            if "after" in params and not _after_done(tx, row, params["after"], now):
                continue
            cap = _cap(row.kind, params)
            try:
                # the bot may have lost the right in this group since the call was planned
                if cap not in capabilities_of(platform, row.group_id):
                    raise Unsupported(f"{platform.name} cannot {cap.value} in {row.group_id}")
                await _pace(platform)
                token = call_key.set(_key(row))
                try:
                    await _call(platform, row.kind, row, params)
                except PlatformError as e:
                    # a refusal for lack of the right teaches the adapter: the retry (and
                    # every later call of this kind in the group) becomes a human task
                    refused(platform, row.group_id, cap, e)
                    raise
                finally:
                    call_key.reset(token)
            except Unsupported as e:
                with tx() as conn:
                    conn.execute(
                        update(t).where(t.c.id == row.id).values(status="human_task", error=str(e))
                    )
                    _task_for(conn, row, params, now)
                continue
            except Exception as e:  # PlatformError and anything an adapter lets slip
                if not isinstance(e, PlatformError):
                    log.exception("action %s (%s) raised", row.id, row.kind)
                attempts = row.attempts + 1
                retry_after = e.retry_after if isinstance(e, PlatformError) else None
                failed = retry_after is None and attempts >= MAX_ATTEMPTS
                wait = (
                    retry_after
                    if retry_after is not None
                    else min(2.0 ** (attempts - 1), MAX_BACKOFF)
                )
                with tx() as conn:
                    conn.execute(
                        update(t)
                        .where(t.c.id == row.id)
                        .values(
                            attempts=attempts,
                            error=str(e)[:2000],
                            status="failed" if failed else "planned",
                            not_before=None if failed else now + wait,
                        )
                    )
                    if failed:
                        _task_for(conn, row, params, now, SUGGESTIONS["failed"][1])
                if retry_after is not None:
                    log.warning("%s rate-limited us: no call to it for %s s", platform.name, wait)
                    _paused_until[platform.name] = max(
                        now + wait, _paused_until.get(platform.name, now)
                    )  # the next round of this loop leaves the rest for then
                continue
            with tx() as conn:
                conn.execute(
                    update(t)
                    .where(t.c.id == row.id)
                    .values(status="done", done_at=now, attempts=row.attempts + 1, error=None)
                )
            done += 1
    return done


# -- strikes -----------------------------------------------------------------------


def active_strikes(
    conn: Connection, platform: str, group_id: str, member_id: str, now: float
) -> int:
    s = schema.strikes
    q = select(func.count()).where(
        s.c.platform == platform,
        s.c.group_id == group_id,
        s.c.member_id == member_id,
        s.c.status == "active",
        s.c.expires_at > now,
    )
    return int(conn.execute(q).scalar_one())


def add_strike(
    conn: Connection,
    *,
    platform: str,
    group_id: str,
    member_id: str,
    rule: str,
    message_id: str | None,
    evidence: dict[str, Any],
    now: float,
    ttl_days: float,
) -> int:
    return _insert(
        conn,
        schema.strikes,
        platform=platform,
        group_id=group_id,
        member_id=member_id,
        rule=rule,
        message_id=message_id,
        evidence=_dumps(evidence),
        created_at=now,
        expires_at=now + ttl_days * 86400,
        status="active",
    )


async def undo(
    store: Store, platform: Platform, audit_id: int, operator: str, *, now: float
) -> list[int]:
    """Reverse action ``audit_id`` (see :func:`plan_undo`) and carry the reversal out.

    Returns the ids of the new audit rows.
    """
    with store.engine.begin() as conn:
        new = plan_undo(conn, platform, audit_id, operator, now=now)
    await carry_out(store, platform, now=now, ids=new)
    return new


def plan_undo(
    conn: Connection, platform: Platform, audit_id: int, operator: str, *, now: float
) -> list[int]:
    """Plan the reversal of action ``audit_id``: unmute, unban, restore a name card, and
    take its strike back; all audited, in the caller's transaction.

    Returns the ids of the new audit rows. A warning or a deleted message cannot be
    taken back on the platform; undoing them still removes the strike. Undoing the
    kick or ban that listed a member lifts the listing (and its removals elsewhere). A ``set_card``
    is undone by setting the card it replaced (its evidence's ``previous``).
    """
    t = schema.bot_actions
    new: list[int] = []
    row = conn.execute(select(t).where(t.c.id == audit_id)).first()
    if row is None:
        raise LookupError(f"no action {audit_id}")
    if row.status == "undone":
        raise ValueError(f"action {audit_id} is already undone")
    if row.undo_of is not None:
        raise ValueError(f"action {audit_id} is itself an undo")
    common = dict(
        group_id=row.group_id,
        member_id=row.member_id,
        now=now,
        reason="undo",
        undo_of=audit_id,
        operator=operator,
        strike_id=row.strike_id,
    )
    if row.kind == "mute":
        new.append(plan(conn, platform, kind="mute", params={"seconds": 0}, **common))
    elif row.kind in ("kick", "ban"):
        new.append(plan(conn, platform, kind="unban", **common))
        # a removal that put the member on the blocklist takes the listing back with it
        from shequn.actions import blocklist  # it plans through this module

        new += blocklist.lift_for_action(conn, platform, audit_id, operator, now=now)
    elif row.kind == "set_card":  # a title put on a name card: the card it replaced
        previous = json.loads(row.evidence or "{}").get("previous")
        if isinstance(previous, str) and previous:
            card = {"card": previous}
            new.append(plan(conn, platform, kind="set_card", params=card, **common))
    if row.strike_id is not None:
        removed = revoke_strike(
            conn, platform.name, row.strike_id, operator, now=now, reason="undo", undo_of=audit_id
        )
        new += [removed] if removed is not None else []
    conn.execute(update(t).where(t.c.id == audit_id).values(status="undone"))
    return new


def revoke_strike(
    conn: Connection,
    platform: str,
    strike_id: int,
    operator: str,
    *,
    now: float,
    reason: str,
    undo_of: int | None = None,
) -> int | None:
    """Take strike ``strike_id`` back, with its ``strike_removed`` audit row (its id);
    None when it was not active (revoked already)."""
    s = schema.strikes
    strike = conn.execute(select(s).where(s.c.id == strike_id, s.c.status == "active")).first()
    if strike is None:
        return None
    revoked = conn.execute(
        update(s)
        .where(s.c.id == strike_id, s.c.status == "active")
        .values(status="revoked", revoked_by=operator, revoked_at=now)
    ).rowcount
    if not revoked:
        return None
    return _insert(
        conn, schema.bot_actions, platform=platform, group_id=strike.group_id,
        member_id=strike.member_id, kind="strike_removed", params=_dumps({}), reason=reason,
        evidence=_dumps({"strike_id": strike_id}), status="done", attempts=0,
        strike_id=strike_id, undo_of=undo_of, operator=operator, created_at=now, done_at=now,
    )  # fmt: skip


def mute_end(row: Any) -> float | None:
    """When a timed mute (a ``bot_actions`` row) ends: its start plus its seconds; None
    for an unmute (0 seconds)."""
    seconds = int(json.loads(row.params or "{}").get("seconds", 0))
    return (row.done_at or row.created_at) + seconds if seconds > 0 else None


def raise_alert(
    conn: Connection,
    *,
    platform: str,
    group_id: str,
    kind: str,
    now: float,
    member_id: str | None = None,
    message_ids: Iterable[str] = (),
    detail: str = "",
) -> int:
    """An early warning to humans (人工预警) with the context and a prepared response."""
    zh, en = SUGGESTIONS[kind]
    return _insert(
        conn,
        schema.alerts,
        platform=platform,
        group_id=group_id,
        member_id=member_id,
        kind=kind,
        message_ids=_dumps(list(message_ids)),
        detail=detail,
        suggestion_zh=zh,
        suggestion_en=en,
        status="open",
        created_at=now,
    )


def lift_expired_mutes(conn: Connection, platforms: dict[str, Platform], now: float) -> list[int]:
    """Plan the unmute of every timed mute whose time is up; returns the new audit ids.

    Some platforms end a mute by themselves (Telegram's until_date, QQ's duration),
    others only know muted / not muted (Matrix power levels): lifting it here works
    for both, since unmuting an already free member changes nothing. The mute's row
    is marked ``lifted`` so it is lifted once.
    """
    t = schema.bot_actions
    new: list[int] = []
    rows = conn.execute(
        # strike mutes only: the entry gate lifts or escalates its own mutes
        select(t).where(
            t.c.kind == "mute",
            t.c.status == "done",
            t.c.done_at.is_not(None),
            t.c.reason.like("strike%"),
        )
    ).all()
    for row in rows:
        end, platform = mute_end(row), platforms.get(row.platform)
        if end is None or platform is None or end > now:
            continue
        new.append(
            plan(
                conn, platform, group_id=row.group_id, member_id=row.member_id, kind="mute",
                params={"seconds": 0}, reason="mute.expired", now=now,
                evidence={"lifts": row.id}, strike_id=row.strike_id,
            )
        )  # fmt: skip
        conn.execute(update(t).where(t.c.id == row.id).values(status="lifted"))
    return new
