"""The unanswered queue: questions waiting for a human, closed by answers, escalated.

The question watch of the pipeline (priority 50) calls :func:`watch` for every message
and the ``faq`` tick job calls :func:`escalate`. A question lives in two rows:
``open_questions`` (the queue: open → answered | alerted) and ``faq_questions`` (its
text and what the FAQ made of it, the source of hit statistics and suggestions).

A question counts as answered by a human when someone else replies to it, mentions
the asker, or a staff member (operator or ``exempt``) posts a non-question within
``faq.staff_answer_seconds`` after it. Whoever closes a queued question that way,
member or staff, earns the check-in's ``helpful_points`` once per question (within
``behaviour_cap`` a day).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.actions.moderation import raise_alert
from shequn.events import MessagePosted
from shequn.features.checkin.behaviours import credit
from shequn.features.faq.questions import looks_like_question
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.botconfig import GroupSettings
    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = ["enqueue", "escalate", "escalate_minutes", "record", "watch"]


def _insert(conn: Connection) -> Any:
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def record(
    ctx: Context,
    ev: MessagePosted,
    *,
    outcome: str,
    entry_id: str | None = None,
    score: float | None = None,
    answered_by: str | None = None,
) -> None:
    """Write the question's ``faq_questions`` row once (a second write changes nothing)."""
    assert ev.sender is not None
    stmt = (
        _insert(ctx.conn)(schema.faq_questions)
        .values(
            platform=ctx.platform.name,
            group_id=ev.group_id,
            message_id=ev.message_id,
            member_id=ev.sender.platform_id,
            text=ev.text[:2000],
            ts=ev.ts,
            entry_id=entry_id,
            score=score,
            outcome=outcome,
            answered_by=answered_by,
            answered_at=ctx.now if answered_by else None,
        )
        .on_conflict_do_nothing()
    )
    ctx.conn.execute(stmt)


def enqueue(
    conn: Connection,
    platform: str,
    group_id: str,
    message_id: str,
    member_id: str,
    ts: float,
    *,
    reopen: bool = False,
) -> None:
    """Put a question in the queue for humans; ``reopen`` also reopens a closed one."""
    q = schema.open_questions
    stmt = _insert(conn)(q).values(
        platform=platform,
        group_id=group_id,
        message_id=message_id,
        member_id=member_id,
        ts=ts,
        status="open",
    )
    keys = ["platform", "group_id", "message_id"]
    conn.execute(
        stmt.on_conflict_do_update(index_elements=keys, set_={"status": "open"})
        if reopen
        else stmt.on_conflict_do_nothing()  # an edit of a question is not a new one
    )


def _answered(ctx: Context, *where: Any) -> None:
    """Close the open questions selected by ``where`` as answered by the sender."""
    q, f = schema.open_questions, schema.faq_questions
    ev = ctx.event
    assert isinstance(ev, MessagePosted) and ev.sender is not None
    base = (
        q.c.platform == ctx.platform.name,
        q.c.group_id == ev.group_id,
        q.c.status == "open",
        q.c.member_id != ev.sender.platform_id,
        *where,
    )
    ids = [r.message_id for r in ctx.conn.execute(select(q.c.message_id).where(*base))]
    if not ids:
        return
    ctx.conn.execute(update(q).where(*base).values(status="answered"))
    ctx.conn.execute(
        update(f)
        .where(
            f.c.platform == ctx.platform.name,
            f.c.group_id == ev.group_id,
            f.c.message_id.in_(ids),
        )
        .values(answered_by=ev.sender.platform_id, answered_at=ctx.now)
    )
    for message_id in ids:  # a helpful answer: points once per question, not per answer
        credit(ctx, ev.sender.platform_id, "helpful", f"question:{message_id}", ev.ts, once=True)


def watch(ctx: Context) -> bool:
    """Close questions that this message answers; queue it when it is a new question."""
    ev, s = ctx.event, ctx.settings
    if not isinstance(ev, MessagePosted) or ev.sender is None or ev.sender.is_bot:
        return False
    q, who = schema.open_questions, ev.sender.platform_id
    if ev.reply_to:
        _answered(ctx, q.c.message_id == ev.reply_to)
    if ev.mentions:
        _answered(ctx, q.c.member_id.in_([m.platform_id for m in ev.mentions]))
    staff = ev.sender.is_operator or who in s.exempt
    asks = looks_like_question(ev.text)
    if staff and not asks and s.faq.staff_answer_seconds > 0:
        _answered(ctx, q.c.ts >= ev.ts - s.faq.staff_answer_seconds)
    if staff or not asks or escalate_minutes(s) <= 0:
        return False
    record(ctx, ev, outcome="unmatched")  # kept as is when the FAQ wrote it first
    enqueue(ctx.conn, ctx.platform.name, ev.group_id, ev.message_id, who, ev.ts)
    return False


def escalate_minutes(s: GroupSettings) -> float:
    """Minutes a question may wait in this group before an alert (0: never)."""
    if s.faq.enabled and s.faq.escalate_minutes > 0:
        return s.faq.escalate_minutes
    return s.question_minutes


def escalate(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> list[int]:
    """Raise one alert for each question left open too long; the new alert ids."""
    q, f = schema.open_questions, schema.faq_questions
    rows = conn.execute(
        select(q, f.c.text, f.c.entry_id, f.c.score)
        .select_from(
            q.outerjoin(
                f,
                (f.c.platform == q.c.platform)
                & (f.c.group_id == q.c.group_id)
                & (f.c.message_id == q.c.message_id),
            )
        )
        .where(q.c.status == "open")
        .order_by(q.c.ts)
    ).all()
    alerts = []
    for row in rows:
        s = settings_for(row.platform, row.group_id)
        minutes = escalate_minutes(s)
        if minutes <= 0 or row.ts > now - minutes * 60:
            continue
        detail = f"unanswered for {minutes:g} min"
        if row.entry_id is not None and row.score is not None:
            detail += f"; FAQ best guess {row.entry_id} ({row.score:.2f} < {s.faq.threshold:g})"
        if row.text:
            detail += f": {row.text[:300]}"
        alerts.append(
            raise_alert(
                conn,
                platform=row.platform,
                group_id=row.group_id,
                kind="question",
                now=now,
                member_id=row.member_id,
                message_ids=[row.message_id],
                detail=detail,
            )
        )
        conn.execute(
            update(q)
            .where(
                q.c.platform == row.platform,
                q.c.group_id == row.group_id,
                q.c.message_id == row.message_id,
            )
            .values(status="alerted")
        )
    return alerts
