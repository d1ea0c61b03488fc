"""Chains (接龙): members append in order, the bot keeps and re-posts the numbered list.

``#接龙 标题`` (or ``#chain`` / ``/chain 标题``, optionally ``30分钟``) starts one; numbered lines
under the header are its first entries. Members append with ``接龙 内容`` (``接龙``
alone or ``+1`` adds their name), or the classic way: copy the list, add a line and
post it back; the bot diffs the numbered lines against the list it keeps and takes
the new line. A member already in the list is refused, replaced or let in again per
``chains.duplicates``. Editing a message edits its entry (an edit that no longer adds
anything withdraws it). ``结束接龙``/``/endchain`` (starter or staff) or the deadline
closes the chain.

A kind word after the command picks the chain's kind: ``#接龙 故事 标题`` (``story``)
is a story chain, where members add sentences and may come back, but not twice in a
row; ``#接龙 红包 标题`` (``redpacket``) is a red-packet chain, where each entry must
name an amount (``接龙 8.88``) and the list shows the running total. Plain chains are
sign-up chains.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from shequn.events import MessagePosted
from shequn.features.activities.common import (
    after_command,
    announce,
    due,
    is_command,
    is_operator,
    name_of,
    open_in_group,
    plan_send,
    reply,
    say,
    take_flags,
)
from shequn.features.checkin.behaviours import credit
from shequn.platforms.port import Platform
from shequn.store import schema

if TYPE_CHECKING:
    from shequn.pipeline import Context

__all__ = ["amount_of", "diff_new_lines", "handle", "numbered_lines", "tick"]

START = ("#接龙", "#chain", "/chain")
CLOSE = ("结束接龙", "/endchain")
_APPEND = re.compile(r"^(?:接龙|/add)(?:[\s+＋:：]+(?P<text>.*))?$", re.S | re.I)
_PLUS_ONE = re.compile(r"^[+＋]\s*1$")
_NUMBERED = re.compile(r"^\s*(\d{1,3})\s*[.．、)）]\s*(\S.*?)\s*$")
_KINDS = {"故事": "story", "story": "story", "红包": "redpacket", "redpacket": "redpacket",
          "报名": "signup", "signup": "signup"}  # fmt: skip
_AMOUNT = re.compile(r"(?<![\d.])(\d{1,6}(?:\.\d{1,2})?)(?![\d.])")

_TEXT = {
    "zh": {
        "list": "#接龙 {title}\n{lines}",
        "empty": "（还没有人接龙，回复「接龙 内容」加入）",
        "closed": "🏁 接龙结束：{title}（共 {n} 人）\n{lines}",
        "dup": "@{name} 你已经在接龙里了（第 {pos} 位）。",
        "full": "@{name} 接龙已满（{n} 人）。",
        "staff": "只有管理员可以发起接龙。",
        "not_yours": "@{name} 只有发起人或管理员可以结束接龙。",
        "story": "（故事接龙）",
        "redpacket": "（红包接龙）",
        "signup": "",
        "total": "\n合计：{total} 元（{n} 个红包）",
        "turn": "@{name} 故事接龙不能连着写两段，等别人接一段吧。",
        "amount": "@{name} 红包接龙请写上金额，如：接龙 8.88",
    },
    "en": {
        "list": "#chain {title}\n{lines}",
        "empty": "(nobody yet: reply “接龙 your entry” or “/add your entry”)",
        "closed": "🏁 Chain closed: {title} ({n} entries)\n{lines}",
        "dup": "@{name} you are already in the chain (number {pos}).",
        "full": "@{name} the chain is full ({n} entries).",
        "staff": "Only admins may start a chain.",
        "not_yours": "@{name} only the starter or an admin may close the chain.",
        "story": " (story)",
        "redpacket": " (red packets)",
        "signup": "",
        "total": "\nTotal: {total} ({n} red packets)",
        "turn": "@{name} a story chain takes turns: let someone else add the next part.",
        "amount": "@{name} a red-packet chain needs the amount, e.g. “/add 8.88”.",
    },
}


def numbered_lines(text: str) -> list[str]:
    """The texts of the ``1. 张三`` lines of a message, in order."""
    return [m.group(2) for line in text.splitlines() if (m := _NUMBERED.match(line))]


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold().rstrip("。.，,")


def diff_new_lines(numbered: list[str], existing: list[str]) -> tuple[list[str], int]:
    """Lines of a repost that are not in the list, and how many list entries it kept."""
    remaining = Counter(_norm(e) for e in existing)
    new = []
    for line in numbered:
        k = _norm(line)
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            new.append(line)
    return new, len(existing) - sum(remaining.values())


async def handle(ctx: Context, ev: MessagePosted) -> bool:
    """Chain commands, appends, reposts and edits; ``False`` for anything else."""
    s = ctx.settings.activities.chains
    if not s.enabled or ev.sender is None:
        return False
    text = ev.text.strip()
    conn, pf, g = ctx.conn, ctx.platform.name, ev.group_id
    if ev.edited and _edit(ctx, ev):
        return True
    first, _, body = text.partition("\n")
    if (rest := after_command(first, START)) is not None:
        kind, rest = _kind_of(rest)
        flags, title = take_flags(rest)
        if kind == "signup":
            kind, title = _kind_of(title)
        body_lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
        if not title and body_lines and not _NUMBERED.match(body_lines[0]):
            title = body_lines[0]
        chain = _open_chain(conn, pf, g, title)
        if chain is not None and (not title or title == chain.title):
            if numbered_lines(body):
                return _repost(ctx, ev, chain, body, header=True)
            _post_list(ctx, chain, "chain.list")
            return True
        minutes = flags.get("minutes", s.default_minutes)
        _start(ctx, ev, title, minutes, numbered_lines(body), kind)
        return True
    if is_command(text, CLOSE):
        chain = _open_chain(conn, pf, g, "")
        if chain is None:
            return False
        if ev.sender.platform_id != chain.starter_id and not is_operator(ctx, ev.sender):
            reply(
                ctx,
                ev,
                say(_TEXT, ctx.settings.language, "not_yours", name=name_of(ev.sender)),
                "chain.refused",
            )
            return True
        announce(ctx, _close(conn, chain, ev.ts, ctx.settings.language), "chain.closed")
        return True
    chain = _open_chain(conn, pf, g, "")
    if chain is None:
        return False
    if (m := _APPEND.match(text)) is not None or _PLUS_ONE.match(text):
        entry = (m.group("text") or "").strip() if m else ""
        return _append(ctx, ev, chain, entry or name_of(ev.sender))
    if numbered_lines(text):
        return _repost(ctx, ev, chain, text, header=False)
    return False


def _kind_of(text: str) -> tuple[str, str]:
    """The chain kind a leading word names (``signup`` if none), and the rest."""
    head, _, rest = text.strip().partition(" ")
    kind = _KINDS.get(head.casefold())
    return (kind, rest.strip()) if kind else ("signup", text.strip())


def amount_of(text: str) -> float | None:
    """The amount a red-packet entry names (``8.88``, ``¥5``, ``20元``), if any."""
    m = _AMOUNT.search(text)
    return float(m.group(1)) if m else None


def _open_chain(conn: Connection, platform: str, group: str, title: str) -> Row[Any] | None:
    """The open chain with this title, else the latest open one."""
    where = {"platform": platform, "group_id": group}
    rows = conn.execute(open_in_group(schema.chains), where).all()
    for row in rows:
        if title and row.title == title:
            return row
    return rows[0] if rows else None


def _entries(conn: Connection, chain_id: int) -> list[Row[Any]]:
    e = schema.chain_entries
    q = select(e).where(e.c.chain_id == chain_id, e.c.status == "in").order_by(e.c.id)
    return list(conn.execute(q).all())


def _list_text(conn: Connection, chain: Row[Any], lang: str, key: str = "list") -> str:
    entries = _entries(conn, chain.id)
    lines = "\n".join(f"{i}. {e.text}" for i, e in enumerate(entries, 1)) or _TEXT[lang]["empty"]
    if chain.kind == "redpacket" and entries:
        total = sum(amount_of(e.text) or 0.0 for e in entries)
        lines += say(_TEXT, lang, "total", total=f"{total:.2f}", n=len(entries))
    title = chain.title + _TEXT[lang].get(chain.kind, "")
    return say(_TEXT, lang, key, title=title, lines=lines, n=len(entries))


def _post_list(ctx: Context, chain: Row[Any], reason: str) -> None:
    announce(ctx, _list_text(ctx.conn, chain, ctx.settings.language), reason)


def _start(
    ctx: Context, ev: MessagePosted, title: str, minutes: int, first: list[str], kind: str
) -> None:
    assert ev.sender is not None
    s = ctx.settings.activities.chains
    if not s.anyone_may_start and not is_operator(ctx, ev.sender):
        reply(ctx, ev, say(_TEXT, ctx.settings.language, "staff"), "chain.refused")
        return
    c = schema.chains
    cid = ctx.conn.execute(
        c.insert().values(
            platform=ctx.platform.name,
            group_id=ev.group_id,
            message_id=ev.message_id,
            starter_id=ev.sender.platform_id,
            title=title or name_of(ev.sender),
            created_at=ev.ts,
            deadline=ev.ts + minutes * 60 if minutes > 0 else None,
            status="open",
            kind=kind,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    # The starter's own template lines ("1. 张三") are the first entries; only the first
    # carries the message id (one entry per message), the rest get derived ids.
    for i, line in enumerate(first[: s.max_entries]):
        _insert(ctx.conn, cid, ev, line, ev.message_id if i == 0 else f"{ev.message_id[:120]}#{i}")
    chain = ctx.conn.execute(select(c).where(c.c.id == cid)).one()
    _post_list(ctx, chain, "chain.start")


def _insert(conn: Connection, chain_id: int, ev: MessagePosted, text: str, message_id: str) -> None:
    assert ev.sender is not None
    conn.execute(
        schema.chain_entries.insert().values(
            chain_id=chain_id,
            member_id=ev.sender.platform_id,
            name=name_of(ev.sender),
            text=text[:500],
            message_id=message_id,
            ts=ev.ts,
            status="in",
        )
    )


def _repost(ctx: Context, ev: MessagePosted, chain: Row[Any], text: str, *, header: bool) -> bool:
    existing = [e.text for e in _entries(ctx.conn, chain.id)]
    numbered = numbered_lines(text)
    new, kept = diff_new_lines(numbered, existing)
    # Without the header a numbered message is a repost only if it carries the list
    # (at least half of it) or starts a still-empty one: "1. 买牛奶 2. ..." is not.
    if not header and (
        kept * 2 < len(existing) or (not existing and not text.lstrip().startswith("1"))
    ):
        return False
    if not new:
        return True  # the same list again: nothing to add
    return _append(ctx, ev, chain, new[-1])  # what a member adds goes at the end


def _append(ctx: Context, ev: MessagePosted, chain: Row[Any], text: str) -> bool:
    assert ev.sender is not None
    s, lang, name = ctx.settings.activities.chains, ctx.settings.language, name_of(ev.sender)
    e = schema.chain_entries
    entries = _entries(ctx.conn, chain.id)
    mine = [(i, row) for i, row in enumerate(entries, 1) if row.member_id == ev.sender.platform_id]
    if chain.kind == "redpacket" and amount_of(text) is None:
        reply(ctx, ev, say(_TEXT, lang, "amount", name=name), "chain.refused")
        return True
    if chain.kind == "story":
        # A story is written in turns: coming back is the point, twice in a row is not.
        if entries and entries[-1].member_id == ev.sender.platform_id:
            reply(ctx, ev, say(_TEXT, lang, "turn", name=name), "chain.refused")
            return True
        mine = []
    if mine and s.duplicates == "refuse":
        reply(ctx, ev, say(_TEXT, lang, "dup", name=name, pos=mine[0][0]), "chain.duplicate")
        return True
    if mine and s.duplicates == "replace":
        ctx.conn.execute(
            update(e)
            .where(e.c.id == mine[0][1].id)
            .values(text=text[:500], message_id=ev.message_id, ts=ev.ts)
        )
    elif len(entries) >= s.max_entries:
        reply(ctx, ev, say(_TEXT, lang, "full", name=name, n=s.max_entries), "chain.full")
        return True
    else:
        _insert(ctx.conn, chain.id, ev, text, ev.message_id)
        credit(ctx, ev.sender.platform_id, "chain", f"chain:{chain.id}", ev.ts)
    _post_list(ctx, chain, "chain.list")
    return True


def _edit(ctx: Context, ev: MessagePosted) -> bool:
    """An edited message that carried an entry: the entry follows the new text."""
    e, c = schema.chain_entries, schema.chains
    row = ctx.conn.execute(
        select(e, c.c.title)
        .join(c, c.c.id == e.c.chain_id)
        .where(
            c.c.platform == ctx.platform.name,
            c.c.group_id == ev.group_id,
            c.c.status == "open",
            e.c.message_id == ev.message_id,
            e.c.status == "in",
        )
    ).first()
    if row is None:
        return False
    chain = ctx.conn.execute(select(c).where(c.c.id == row.chain_id)).one()
    text = ev.text.strip()
    others = [x.text for x in _entries(ctx.conn, chain.id) if x.id != row.id]
    new_text: str | None = None
    if (m := _APPEND.match(text)) is not None:
        new_text = (m.group("text") or "").strip() or row.name
    elif numbered := numbered_lines(text):
        new, _kept = diff_new_lines(numbered, others)
        new_text = new[-1] if new else None
    if new_text is None:
        ctx.conn.execute(update(e).where(e.c.id == row.id).values(status="withdrawn", ts=ev.ts))
    else:
        ctx.conn.execute(update(e).where(e.c.id == row.id).values(text=new_text[:500]))
    _post_list(ctx, chain, "chain.edit")
    return True


def _close(conn: Connection, chain: Row[Any], now: float, lang: str) -> str:
    c = schema.chains
    conn.execute(update(c).where(c.c.id == chain.id).values(status="closed", closed_at=now))
    return _list_text(conn, chain, lang, "closed")


def tick(
    conn: Connection,
    platforms: Mapping[str, Platform],
    settings_for: Callable[[str, str], Any],
    now: float,
) -> None:
    """Close the chains whose deadline has passed and post their final list."""
    for chain in due(conn, schema.chains, now):
        platform = platforms.get(chain.platform)
        if platform is None:
            continue
        text = _close(conn, chain, now, settings_for(chain.platform, chain.group_id).language)
        plan_send(
            conn,
            platform,
            chain.group_id,
            text,
            now=now,
            reason="chain.closed",
            key=f"activities.chain.close:{chain.id}",
        )
