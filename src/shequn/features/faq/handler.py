"""FAQ auto-reply in live groups: answer what the bank knows, queue the rest for humans.

``handle`` runs at priority 45, before the question watch (50). For a member's
question (or any message, with ``questions_only = false``) it asks the group's bank:

* at or above ``threshold`` (or on an entry's keyword rule, question or not): a reply with the entry's answer (and its link / picture),
  or, when the same entry was answered in the group within ``cooldown`` seconds, a
  short reply pointing at that answer. The question is recorded as answered and the
  handler stops, so the watch does not queue it;
* below: the best guess is recorded and the message passes on to the watch, which
  puts it in the unanswered queue; the ``faq`` tick job (:func:`tick`) escalates it.

"没用" / "not helpful" from the asker shortly after an answer counts against the
entry and puts the question in the queue. Replies, edits and staff messages are
never answered: a reply belongs to a conversation, an edit was seen already.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from shequn.events import MessagePosted
from shequn.features.faq import queue
from shequn.features.faq.bank import FaqEntry
from shequn.features.faq.banks_db import matcher_for
from shequn.features.faq.matcher import Match
from shequn.features.faq.questions import is_feedback, looks_like_question
from shequn.features.faq.stats import bump
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context
    from shequn.platforms.port import Platform

__all__ = ["answer_text", "handle", "tick"]

_TEXT = {
    "zh": {
        "link": "🔗 {url}",
        "image": "🖼 {url}",
        "repeat": "@{name} 这个问题（{title}）{ago} 分钟前刚回答过，请看上面给 {who} 的回复。",
        "feedback": "@{name} 抱歉没帮上忙，已转给管理员，请稍等。",
    },
    "en": {
        "link": "🔗 {url}",
        "image": "🖼 {url}",
        "repeat": "@{name} this ({title}) was answered {ago} min ago: see the reply to {who} above.",
        "feedback": "@{name} sorry that did not help; a moderator will answer you.",
    },
}


def answer_text(entry: FaqEntry, language: str = "zh") -> str:
    """The reply for ``entry``: its answer, then its link and picture, one per line."""
    words = _TEXT[language]
    lines = [entry.answer] if entry.answer else []
    if entry.link:
        lines.append(words["link"].format(url=entry.link))
    if entry.image:
        lines.append(words["image"].format(url=entry.image))
    return "\n".join(lines) or entry.question


async def handle(ctx: Context) -> bool:
    """Answer a member's question from the group's FAQ bank (see the module docstring)."""
    ev, s = ctx.event, ctx.settings.faq
    if not s.enabled or not isinstance(ev, MessagePosted) or ev.sender is None:
        return False
    sender = ev.sender
    if sender.is_bot or sender.is_operator or sender.platform_id in ctx.settings.exempt:
        return False
    if ev.edited or not ev.text.strip():
        return False
    if s.feedback_seconds > 0 and is_feedback(ev.text) and _feedback(ctx, ev):
        return True
    if ev.reply_to:
        return False
    matcher = matcher_for(ctx.conn, s.bank)  # a file, or a database bank (db:NAME)
    if matcher is None:
        return False
    asks = looks_like_question(ev.text)
    if s.questions_only and not asks:
        # An operator's keyword rule (关键词回复) is meant for any message: 「群规」.
        keyword = matcher.keyword_match(ev.text)
        if keyword is None:
            return False
        m = Match(keyword, 1.0, "keyword")
    else:
        m = matcher.match(ev.text)
    if m.entry_id is None or m.score < s.threshold:
        if asks:
            queue.record(ctx, ev, outcome="missed", entry_id=m.entry_id, score=m.score)
        return False
    entry = matcher.bank.get(m.entry_id)
    earlier = _recent_answer(ctx, ev, entry.id, s.cooldown) if s.cooldown > 0 else None
    lang = ctx.settings.language
    name = sender.name or sender.platform_id
    if earlier is None:
        text, outcome = answer_text(entry, lang), "answered"
    else:
        ago = max(1, round((ctx.now - earlier.answered_at) / 60))
        text = _TEXT[lang]["repeat"].format(
            name=name, title=entry.question, ago=ago, who=earlier.who
        )
        outcome = "repeat"
    ctx.plan(
        "send",
        params={"text": text, "reply_to": ev.message_id},
        member_id=sender.platform_id,
        reason=f"faq.{outcome}",
        evidence={"entry_id": entry.id, "score": m.score, "method": m.method},
    )
    queue.record(ctx, ev, outcome=outcome, entry_id=entry.id, score=m.score, answered_by="bot")
    counts = {"answered": 1} if outcome == "answered" else {"repeats": 1}
    bump(ctx.conn, ctx.platform.name, ev.group_id, entry.id, ctx.now, hits=1, **counts)
    return True  # answered: not a question for the watch


@dataclass(frozen=True, slots=True)
class _Earlier:
    who: str  # the display name of the member who got the answer
    answered_at: float


def _recent_answer(
    ctx: Context, ev: MessagePosted, entry_id: str, cooldown: float
) -> _Earlier | None:
    """The full answer of ``entry_id`` given in this group within ``cooldown`` seconds."""
    f = schema.faq_questions
    row = ctx.conn.execute(
        select(f.c.member_id, f.c.answered_at)
        .where(
            f.c.platform == ctx.platform.name,
            f.c.group_id == ev.group_id,
            f.c.entry_id == entry_id,
            f.c.outcome == "answered",
            f.c.answered_at >= ctx.now - cooldown,
        )
        .order_by(f.c.answered_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    m = schema.members
    name = ctx.conn.execute(
        select(m.c.name).where(m.c.platform == ctx.platform.name, m.c.platform_id == row.member_id)
    ).scalar()
    return _Earlier(name or row.member_id, row.answered_at)


def _feedback(ctx: Context, ev: MessagePosted) -> bool:
    """ "没用" after the bot answered this member: count it and queue the question."""
    assert ev.sender is not None
    f = schema.faq_questions
    row = ctx.conn.execute(
        select(f)
        .where(
            f.c.platform == ctx.platform.name,
            f.c.group_id == ev.group_id,
            f.c.member_id == ev.sender.platform_id,
            f.c.outcome.in_(("answered", "repeat")),
            f.c.answered_at >= ctx.now - ctx.settings.faq.feedback_seconds,
        )
        .order_by(f.c.answered_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return False
    ctx.conn.execute(
        update(f)
        .where(f.c.id == row.id)
        .values(outcome="unhelpful", answered_by=None, answered_at=None)
    )
    if row.entry_id is not None:
        bump(ctx.conn, ctx.platform.name, ev.group_id, row.entry_id, ctx.now, unhelpful=1)
    queue.enqueue(
        ctx.conn,
        ctx.platform.name,
        ev.group_id,
        row.message_id,
        row.member_id,
        row.ts,
        reopen=True,
    )
    name = ev.sender.name or ev.sender.platform_id
    ctx.plan(
        "send",
        params={
            "text": _TEXT[ctx.settings.language]["feedback"].format(name=name),
            "reply_to": ev.message_id,
        },
        member_id=ev.sender.platform_id,
        reason="faq.feedback",
        evidence={"entry_id": row.entry_id, "question": row.message_id},
    )
    return True


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Periodic work: alert on questions left unanswered too long."""
    queue.escalate(conn, platforms, settings_for, now)
