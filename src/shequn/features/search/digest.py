"""Weekly digests (汇总打包): a group's best threads of one ISO week.

A message scores ``3 × replies + 2 × reactions + mentions + length bonus`` (one point
per 100 characters, at most 2). Replies are followed up to the thread's first message,
so a thread is kept together and scores the sum of its messages; the best threads come
first, their messages in time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import escape
from sqlalchemy import Connection, func, select

from shequn.store import schema

__all__ = ["Digest", "Thread", "digest", "to_html", "to_markdown", "week_bounds"]

_m = schema.messages
_mb = schema.members
_r = schema.reactions
_mn = schema.mentions


def week_bounds(week: str) -> tuple[float, float]:
    """``2026-W45`` → its Monday 00:00 UTC and the next Monday's (epoch seconds)."""
    year, _, num = week.upper().partition("-W")
    start = datetime.combine(date.fromisocalendar(int(year), int(num), 1), datetime.min.time(), UTC)
    return start.timestamp(), (start + timedelta(days=7)).timestamp()


@dataclass(frozen=True, slots=True)
class Post:
    message_id: int
    member: str
    ts: float
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Thread:
    score: float
    posts: list[Post]


@dataclass(frozen=True, slots=True)
class Digest:
    group_id: int
    group_name: str
    week: str
    threads: list[Thread]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id, "group": self.group_name, "week": self.week,
            "threads": [
                {"score": t.score, "posts": [{
                    "message_id": p.message_id, "member": p.member, "ts": p.ts,
                    "text": p.text, "score": p.score} for p in t.posts]}
                for t in self.threads
            ],
        }  # fmt: skip


def digest(conn: Connection, group_id: int, week: str, *, top: int = 10) -> Digest:
    """The ``top`` best threads of ``group_id`` in ISO ``week``."""
    lo, hi = week_bounds(week)
    name = conn.execute(select(schema.groups.c.name).where(schema.groups.c.id == group_id)).scalar()
    rows = conn.execute(
        select(
            _m.c.id,
            _m.c.platform_id,
            _m.c.reply_to,
            _m.c.ts,
            _m.c.text,
            _m.c.n_mentions,
            _mb.c.name,
        )
        .select_from(_m.outerjoin(_mb, _mb.c.id == _m.c.member_id))
        .where(_m.c.group_id == group_id, _m.c.ts >= lo, _m.c.ts < hi)
        .order_by(_m.c.ts, _m.c.id)
    ).all()
    pids = [r.platform_id for r in rows]
    reactions: dict[str, int] = {}
    mentions: dict[str, int] = {}
    if rows:
        for pid, n in conn.execute(
            select(_r.c.message_pid, func.sum(_r.c.count))
            .where(_r.c.group_id == group_id, _r.c.message_pid.in_(pids))
            .group_by(_r.c.message_pid)
        ):
            reactions[pid] = int(n or 0)
        for pid, n in conn.execute(
            select(_mn.c.message_pid, func.count())
            .where(_mn.c.group_id == group_id, _mn.c.message_pid.in_(pids))
            .group_by(_mn.c.message_pid)
        ):
            mentions[pid] = int(n)
    by_pid = {r.platform_id: r for r in rows}
    replies: dict[str, int] = {}
    for r in rows:
        if r.reply_to:
            replies[r.reply_to] = replies.get(r.reply_to, 0) + 1

    def root(pid: str) -> str:
        seen = set()
        while by_pid.get(pid) is not None and by_pid[pid].reply_to in by_pid and pid not in seen:
            seen.add(pid)
            pid = by_pid[pid].reply_to
        return pid

    threads: dict[str, list[Post]] = {}
    for r in rows:
        body = r.text or ""
        if not body.strip():
            continue
        score = (
            3 * replies.get(r.platform_id, 0) + 2 * reactions.get(r.platform_id, 0)
            + max(mentions.get(r.platform_id, 0), int(r.n_mentions or 0)) + min(len(body) / 100, 2.0)
        )  # fmt: skip
        post = Post(int(r.id), r.name or "", float(r.ts), body, round(score, 2))
        threads.setdefault(root(r.platform_id), []).append(post)
    ranked = sorted(
        (Thread(round(sum(p.score for p in ps), 2), ps) for ps in threads.values()),
        key=lambda t: (-t.score, t.posts[0].ts),
    )
    return Digest(group_id, name or "", week, ranked[:top])


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def to_markdown(d: Digest) -> str:
    lines = [f"# {d.group_name} · {d.week}", ""]
    for i, t in enumerate(d.threads, 1):
        lines.append(f"## {i}. ({t.score})")
        for p in t.posts:
            body = p.text.replace("\n", "\n  > ")
            lines.append(f"- **{p.member or '?'}** {_when(p.ts)}\n  > {body}")
        lines.append("")
    return "\n".join(lines)


def to_html(d: Digest) -> str:
    """A standalone page; every text escaped (message texts are hostile input)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(d.group_name)} · {escape(d.week)}</title></head><body>",
        f"<h1>{escape(d.group_name)} · {escape(d.week)}</h1>",
    ]
    for i, t in enumerate(d.threads, 1):
        parts.append(f"<section><h2>{i}. ({t.score})</h2><ul>")
        for p in t.posts:
            parts.append(
                f"<li><b>{escape(p.member or '?')}</b> {_when(p.ts)}<br>"
                f"<pre>{escape(p.text)}</pre></li>"
            )
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "".join(parts)
