"""Polls and votes (投票): single or multiple choice, anonymous or not, deadline, tally.

``/poll 标题 | A | B`` (or ``发起投票``, options may also be one per line) with leading
options ``多选``/``--multi``, ``匿名``/``--anon``, ``30分钟``/``--minutes 30``. Members
vote with ``投1``, ``投 1 3``, ``/vote 2`` or the option's text (``投 选项A``); a single
choice vote may be changed, a multiple choice ballot is final. ``投票结果``/``/tally``
shows the live tally, ``结束投票``/``/endpoll`` (starter or staff) or the deadline
closes the poll with the result.

Anonymous polls key votes by an HMAC of the member id with a per-poll salt and never
show names; the salt is erased at close, so afterwards no row links voter and choice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, delete, select, update

from shequn.events import MessagePosted
from shequn.features.activities.common import (
    after_command,
    announce,
    due,
    is_command,
    is_operator,
    name_of,
    plan_send,
    reply,
    say,
    show_time,
    split_fields,
    take_flags,
)
from shequn.features.checkin.behaviours import credit
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["handle", "tally_text", "tick"]

START = ("/poll", "发起投票")
TALLY = ("/tally", "投票结果", "查看投票")
CLOSE = ("/endpoll", "结束投票")
_VOTE = re.compile(r"^(?:/vote\s+|投票?\s*)(?P<what>.+)$", re.I | re.S)
_NUMBERS = re.compile(r"^\d+(?:[\s,，、]+\d+)*$")

_TEXT = {
    "zh": {
        "start": "📊 投票 #{id}：{title}（{kind}）\n{options}\n回复「投+序号」投票（如 投1），"
        "「投票结果」看实时结果。",
        "single": "单选",
        "multi": "多选",
        "anon": "匿名",
        "until": "截止 {when}",
        "bad": "发起投票的格式：/poll 标题 | 选项1 | 选项2（2–{max} 个选项）",
        "staff": "只有管理员可以发起投票。",
        "voted": "✅ @{name} 已投：{choice}",
        "voted_anon": "✅ @{name} 你的匿名投票已记录。",
        "changed": "🔄 @{name} 已改投：{choice}",
        "changed_anon": "🔄 @{name} 你的匿名投票已更改。",
        "same": "@{name} 你已经投过这一项了。",
        "final": "@{name} 多选投票投出后不能修改。",
        "one": "@{name} 这是单选投票，请只选一项。",
        "range": "@{name} 没有这个选项：请回复 1–{n} 之间的序号。",
        "tally": "📊 投票 #{id}：{title}（{kind}）",
        "line": "{i}. {option} — {n} 票（{pct}%）",
        "who": "：{names}",
        "voters": "共 {n} 人投票",
        "closed": "🏁 投票 #{id} 结束：{title}（{kind}）",
        "top": "最高票：{options}",
        "none": "无人投票",
        "not_yours": "@{name} 只有发起人或管理员可以结束投票。",
    },
    "en": {
        "start": "📊 Poll #{id}: {title} ({kind})\n{options}\nReply “/vote N” (e.g. /vote 1); "
        "“/tally” shows the live result.",
        "single": "single choice",
        "multi": "multiple choice",
        "anon": "anonymous",
        "until": "closes {when}",
        "bad": "Start a poll with: /poll Title | Option 1 | Option 2 (2–{max} options)",
        "staff": "Only admins may start a poll.",
        "voted": "✅ @{name} voted: {choice}",
        "voted_anon": "✅ @{name} your anonymous vote is recorded.",
        "changed": "🔄 @{name} changed the vote to: {choice}",
        "changed_anon": "🔄 @{name} your anonymous vote is changed.",
        "same": "@{name} you already voted for that.",
        "final": "@{name} a multiple choice ballot cannot be changed once cast.",
        "one": "@{name} this is a single choice poll: pick one option.",
        "range": "@{name} no such option: reply with a number from 1 to {n}.",
        "tally": "📊 Poll #{id}: {title} ({kind})",
        "line": "{i}. {option} — {n} votes ({pct}%)",
        "who": ": {names}",
        "voters": "{n} voters",
        "closed": "🏁 Poll #{id} closed: {title} ({kind})",
        "top": "Most votes: {options}",
        "none": "nobody voted",
        "not_yours": "@{name} only the starter or an admin may close the poll.",
    },
}


async def handle(ctx: Context, ev: MessagePosted) -> bool:
    """Poll commands and votes; ``False`` when the message is none of them."""
    s = ctx.settings.activities.polls
    if not s.enabled or ev.sender is None or ev.edited:
        return False
    text = ev.text.strip()
    if (rest := after_command(text, START)) is not None:
        _start(ctx, ev, rest)
        return True
    if is_command(text, TALLY):
        poll = _latest(ctx.conn, ctx.platform.name, ev.group_id)
        if poll is None:
            return False
        announce(
            ctx,
            tally_text(ctx.conn, poll, ctx.settings.language, ctx.settings.activities.timezone),
            "poll.tally",
        )
        return True
    if is_command(text, CLOSE):
        poll = _latest(ctx.conn, ctx.platform.name, ev.group_id, open_only=True)
        if poll is None:
            return False
        if ev.sender.platform_id != poll.starter_id and not is_operator(ctx, ev.sender):
            reply(
                ctx,
                ev,
                say(_TEXT, ctx.settings.language, "not_yours", name=name_of(ev.sender)),
                "poll.refused",
            )
            return True
        announce(
            ctx,
            _close(ctx.conn, poll, ev.ts, ctx.settings.language, ctx.settings.activities.timezone),
            "poll.closed",
        )
        return True
    m = _VOTE.match(text)
    if m is None:
        return False
    poll = _latest(ctx.conn, ctx.platform.name, ev.group_id, open_only=True)
    if poll is None or (poll.deadline is not None and poll.deadline <= ev.ts):
        return False
    return _vote(ctx, ev, poll, m.group("what").strip())


def _kind(poll: Row[Any], lang: str, tz: str) -> str:
    t = _TEXT[lang]
    parts = [t["multi"] if poll.multiple else t["single"]]
    if poll.anonymous:
        parts.append(t["anon"])
    if poll.deadline is not None and poll.status == "open":
        parts.append(t["until"].format(when=show_time(poll.deadline, tz)))
    return "，".join(parts) if lang == "zh" else ", ".join(parts)


def _start(ctx: Context, ev: MessagePosted, rest: str) -> None:
    assert ev.sender is not None
    s, lang = ctx.settings.activities.polls, ctx.settings.language
    if not s.anyone_may_start and not is_operator(ctx, ev.sender):
        reply(ctx, ev, say(_TEXT, lang, "staff"), "poll.refused")
        return
    fields = split_fields(rest)
    flags, title = take_flags(fields[0]) if fields else ({}, "")
    options = fields[1:]
    minutes = flags.get("minutes", s.default_minutes)
    folded = [o.casefold() for o in options]
    if (
        not title
        or not 2 <= len(options) <= s.max_options
        or len(set(folded)) != len(folded)
        or minutes < 0
    ):
        reply(ctx, ev, say(_TEXT, lang, "bad", max=s.max_options), "poll.bad")
        return
    anonymous = bool(flags.get("anon"))
    pid = ctx.conn.execute(
        schema.polls.insert().values(
            platform=ctx.platform.name,
            group_id=ev.group_id,
            message_id=ev.message_id,
            starter_id=ev.sender.platform_id,
            title=title,
            options=json.dumps(options, ensure_ascii=False),
            multiple=bool(flags.get("multi")),
            anonymous=anonymous,
            salt=secrets.token_hex(16) if anonymous else None,
            created_at=ev.ts,
            deadline=ev.ts + minutes * 60 if minutes else None,
            status="open",
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    poll = ctx.conn.execute(select(schema.polls).where(schema.polls.c.id == pid)).one()
    lines = "\n".join(f"{i}. {o}" for i, o in enumerate(options, 1))
    tz = ctx.settings.activities.timezone
    text = say(_TEXT, lang, "start", id=pid, title=title, kind=_kind(poll, lang, tz), options=lines)
    announce(ctx, text, "poll.start", ev.sender.platform_id)


def _latest(
    conn: Connection, platform: str, group: str, *, open_only: bool = False
) -> Row[Any] | None:
    p = schema.polls
    q = select(p).where(p.c.platform == platform, p.c.group_id == group)
    if open_only:
        q = q.where(p.c.status == "open")
    return conn.execute(q.order_by(p.c.id.desc()).limit(1)).first()


def _choices(what: str, options: list[str]) -> list[int] | None:
    """0-based option indexes the vote names (may be out of range); None: not a vote."""
    if _NUMBERS.match(what):
        return [int(n) - 1 for n in re.split(r"[\s,，、]+", what)]
    folded = [o.casefold() for o in options]
    w = what.casefold()
    return [folded.index(w)] if w in folded else None


def _voter(poll: Row[Any], member: str) -> str:
    if not poll.anonymous:
        return member
    return hmac.new(poll.salt.encode(), member.encode(), hashlib.sha256).hexdigest()


def _vote(ctx: Context, ev: MessagePosted, poll: Row[Any], what: str) -> bool:
    assert ev.sender is not None
    lang, name = ctx.settings.language, name_of(ev.sender)
    options: list[str] = json.loads(poll.options)
    picked = _choices(what, options)
    if picked is None:
        return False  # "投资..." is not a vote
    picked = sorted(set(picked))
    if any(not 0 <= i < len(options) for i in picked):
        reply(ctx, ev, say(_TEXT, lang, "range", name=name, n=len(options)), "poll.refused")
        return True
    if not poll.multiple and len(picked) > 1:
        reply(ctx, ev, say(_TEXT, lang, "one", name=name), "poll.refused")
        return True
    v = schema.poll_votes
    voter = _voter(poll, ev.sender.platform_id)
    mine = v.c.poll_id == poll.id, v.c.voter == voter
    before = sorted(r.option for r in ctx.conn.execute(select(v.c.option).where(*mine)))
    if before == picked:
        reply(ctx, ev, say(_TEXT, lang, "same", name=name), "poll.refused")
        return True
    if before and poll.multiple:
        reply(ctx, ev, say(_TEXT, lang, "final", name=name), "poll.refused")
        return True
    ctx.conn.execute(delete(v).where(*mine))
    shown = "" if poll.anonymous else name
    for i in picked:
        ctx.conn.execute(
            v.insert().values(poll_id=poll.id, voter=voter, name=shown, option=i, ts=ev.ts)
        )
    if not before:
        credit(ctx, ev.sender.platform_id, "vote", f"poll:{poll.id}", ev.ts)
    key = ("changed" if before else "voted") + ("_anon" if poll.anonymous else "")
    choice = "、".join(options[i] for i in picked)
    if ctx.settings.activities.polls.confirm_votes:
        reply(ctx, ev, say(_TEXT, lang, key, name=name, choice=choice), f"poll.{key}")
    return True


def tally_text(conn: Connection, poll: Row[Any], lang: str, tz: str) -> str:
    """The poll's current result; names per option only when it is not anonymous."""
    t = _TEXT[lang]
    options: list[str] = json.loads(poll.options)
    v = schema.poll_votes
    votes = conn.execute(
        select(v.c.option, v.c.voter, v.c.name).where(v.c.poll_id == poll.id).order_by(v.c.id)
    ).all()
    voters = {r.voter for r in votes}
    head = "closed" if poll.status == "closed" else "tally"
    lines = [t[head].format(id=poll.id, title=poll.title, kind=_kind(poll, lang, tz))]
    counts = [0] * len(options)
    names: list[list[str]] = [[] for _ in options]
    for r in votes:
        counts[r.option] += 1
        names[r.option].append(r.name)
    for i, option in enumerate(options):
        pct = round(100 * counts[i] / len(voters)) if voters else 0
        line = t["line"].format(i=i + 1, option=option, n=counts[i], pct=pct)
        if not poll.anonymous and names[i]:
            line += t["who"].format(names="、".join(names[i]))
        lines.append(line)
    lines.append(t["voters"].format(n=len(voters)) if voters else t["none"])
    if poll.status == "closed" and voters:
        top = max(counts)
        lines.append(
            t["top"].format(
                options="、".join(o for o, c in zip(options, counts, strict=True) if c == top)
            )
        )
    return "\n".join(lines)


def _close(conn: Connection, poll: Row[Any], now: float, lang: str, tz: str) -> str:
    p = schema.polls
    conn.execute(
        update(p).where(p.c.id == poll.id).values(status="closed", closed_at=now, salt=None)
    )
    closed = conn.execute(select(p).where(p.c.id == poll.id)).one()
    return tally_text(conn, closed, lang, tz)


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Close the polls whose deadline has passed and announce their result."""
    for poll in due(conn, schema.polls, now):
        platform = platforms.get(poll.platform)
        if platform is None:
            continue
        gs = settings_for(poll.platform, poll.group_id)
        text = _close(conn, poll, now, gs.language, gs.activities.timezone)
        plan_send(
            conn,
            platform,
            poll.group_id,
            text,
            now=now,
            reason="poll.closed",
            key=f"activities.poll.close:{poll.id}",
        )
