"""Appeals (申诉): a member contests a strike; an operator accepts or rejects it.

A member appeals from the group (``申诉 <理由>`` / ``/appeal <reason>``, see
:mod:`shequn.features.strikes.appeals`) against their newest strike there that still
counts, or in a private chat with the bot (where a muted or removed member can still
write) against their newest strike in any group; the answer goes where they asked. One appeal per strike: it opens a human task with the strike's evidence, and
the console's answer closes both. Accepting takes the strike back the way undo does
(an unmute or unban where the strike led to one, the strike revoked) and tells the
member; rejecting tells the member, with the operator's note. Every step is an audit
row: the appeal's decision, the reversal's ``bot_actions`` rows, the console's row.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from shequn.actions.moderation import (
    REVERSIBLE,
    add_human_task,
    carry_out,
    mute_end,
    plan,
    plan_undo,
    revoke_strike,
)
from shequn.events import direct_chat
from shequn.platforms.port import Platform
from shequn.store import Store, schema

__all__ = ["appeal_of", "appealable_strike", "decide", "open_appeal", "say"]

_TEXT = {
    "zh": {
        "received": "@{name} 已收到你的申诉（#{id}），管理员会尽快处理。",
        "pending": "@{name} 你的申诉（#{id}）正在处理中，请耐心等待。",
        "decided": "@{name} 这次违规的申诉（#{id}）已经处理过了。",
        "no_strike": "@{name} 你目前没有可以申诉的违规记录。",
        "need_reason": "@{name} 请在「申诉」后写明理由，例如：申诉 我发的是本群的官方活动",
        "accepted": "@{name} 你的申诉（#{id}）已通过，这次违规记录已撤销。{note}",
        "rejected": "@{name} 你的申诉（#{id}）未通过。{note}",
        "note": "说明：{note}",
        "hint": "如有误判，可发送「申诉 理由」。",
        "hint_direct": "如有误判，可发送「申诉 理由」（被禁言后也可以私聊我发送）。",
        "hint_private": "如有误判，可私聊我发送「申诉 理由」。",
        "direct_help": "{name} 你好，我是群管理机器人。对违规记录有异议时，请发送「申诉 理由」，"
        "管理员会处理并在这里回复你。",
    },
    "en": {
        "received": "@{name} your appeal (#{id}) is in; an admin will look at it soon.",
        "pending": "@{name} your appeal (#{id}) is being looked at; please wait.",
        "decided": "@{name} the appeal (#{id}) against this strike has been decided already.",
        "no_strike": "@{name} you have no strike to appeal against.",
        "need_reason": "@{name} please give a reason after /appeal, e.g. "
        "/appeal that link is our group's own event",
        "accepted": "@{name} your appeal (#{id}) is accepted; the strike is taken back.{note}",
        "rejected": "@{name} your appeal (#{id}) is not accepted.{note}",
        "note": " Note: {note}",
        "hint": "If this is a mistake, send “/appeal <reason>”.",
        "hint_direct": "If this is a mistake, send “/appeal <reason>” (in private to me "
        "if you are muted).",
        "hint_private": "If this is a mistake, send me “/appeal <reason>” in private.",
        "direct_help": "Hello {name}, I am the group's moderation bot. To contest a strike, "
        "send “/appeal <reason>”; an admin will decide and answer you here.",
    },
}


def say(lang: str, key: str, **kw: object) -> str:
    return _TEXT["en" if lang == "en" else "zh"][key].format(**kw)


def appealable_strike(
    conn: Connection, platform: str, group_id: str | None, member_id: str, now: float
) -> Row[Any] | None:
    """The member's newest strike that still counts, in the group (any group of the
    platform when ``group_id`` is None: an appeal made in private), or None."""
    s = schema.strikes
    q = (
        select(s)
        .where(s.c.platform == platform, s.c.member_id == member_id)
        .where(s.c.status == "active", s.c.expires_at > now)
        .order_by(s.c.created_at.desc(), s.c.id.desc())
        .limit(1)
    )
    if group_id is not None:
        q = q.where(s.c.group_id == group_id)
    return conn.execute(q).first()


def appeal_of(conn: Connection, strike_id: int) -> Row[Any] | None:
    """The appeal already made against strike ``strike_id``, if any."""
    a = schema.appeals
    return conn.execute(select(a).where(a.c.strike_id == strike_id).order_by(a.c.id)).first()


def open_appeal(
    conn: Connection,
    strike: Row[Any],
    text: str,
    *,
    member_name: str,
    now: float,
    via: str = "group",
) -> int:
    """The appeal row and the human task that asks an operator to decide it."""
    evidence = json.loads(strike.evidence or "{}")
    said = str(evidence.get("text", ""))[:300]
    a = schema.appeals
    aid: int = conn.execute(
        insert(a).values(
            strike_id=strike.id, text=text, status="open", created_at=now,
            platform=strike.platform, member_id=strike.member_id, member_name=member_name,
            via=via,
        ).returning(a.c.id)
    ).scalar_one()  # fmt: skip
    task = add_human_task(
        conn,
        platform=strike.platform,
        group_id=strike.group_id,
        member_id=strike.member_id,
        kind="appeal",
        now=now,
        text=(
            f"申诉 / appeal #{aid}: {member_name} ({strike.member_id}) contests strike "
            f"#{strike.id} ({strike.rule}) for「{said}」— {text}"
        ),
    )
    conn.execute(update(a).where(a.c.id == aid).values(task_id=task))
    return aid


async def decide(
    store: Store,
    platform: Platform,
    appeal_id: int,
    *,
    accept: bool,
    operator: str,
    note: str = "",
    lang: str = "zh",
    now: float,
) -> list[int]:
    """Accept or reject open appeal ``appeal_id``; returns the new ``bot_actions`` ids.

    One transaction: the decision, the task closed, the reversal planned (accept), and
    the answer to the member planned; then the calls are carried out. Raises
    LookupError for an unknown appeal and ValueError for one already decided.
    """
    a, s = schema.appeals, schema.strikes
    with store.engine.begin() as conn:
        row = conn.execute(select(a).where(a.c.id == appeal_id)).first()
        if row is None:
            raise LookupError(f"no appeal {appeal_id}")
        status = "accepted" if accept else "rejected"
        done = conn.execute(
            update(a)
            .where(a.c.id == appeal_id, a.c.status == "open")
            .values(status=status, decided_by=operator, decided_at=now, note=note or None)
        ).rowcount
        if not done:
            raise ValueError(f"appeal {appeal_id} is already {row.status}")
        strike = conn.execute(select(s).where(s.c.id == row.strike_id)).one()
        if row.task_id is not None:
            t = schema.human_tasks
            conn.execute(
                update(t)
                .where(t.c.id == row.task_id, t.c.status == "open")
                .values(status="done", done_at=now)
            )
        new = _take_back(conn, platform, strike, operator, now) if accept else []
        name = row.member_name or strike.member_id
        remark = say(lang, "note", note=note) if note else ""
        text = say(lang, status, name=name, id=appeal_id, note=remark)
        # answered where the member asked: in private a muted or removed member hears it
        where = direct_chat(strike.member_id) if row.via == "dm" else strike.group_id
        new.append(
            plan(
                conn,
                platform,
                group_id=where,
                kind="send",
                now=now,
                member_id=strike.member_id,
                params={"text": text},
                reason=f"appeal.{status}",
                evidence={"appeal_id": appeal_id},
                strike_id=strike.id,
                operator=operator,
            )
        )
    await carry_out(store, platform, now=now, ids=new)
    return new


def _take_back(
    conn: Connection, platform: Platform, strike: Row[Any], operator: str, now: float
) -> list[int]:
    """Undo what the strike led to on the platform (a running mute, a kick or ban) and
    revoke the strike."""
    t = schema.bot_actions
    rows = conn.execute(
        select(t)
        .where(t.c.strike_id == strike.id, t.c.undo_of.is_(None), t.c.status != "undone")
        .order_by(t.c.id)
    ).all()
    new: list[int] = []
    for row in rows:
        if row.kind not in REVERSIBLE:
            continue
        if row.kind == "mute" and (row.status == "lifted" or _ended(row, now)):
            continue  # a mute that ran its course: nothing left to lift
        new += plan_undo(conn, platform, row.id, operator, now=now)
    # where no reversal took it back (nothing to reverse, or undone meanwhile)
    removed = revoke_strike(
        conn, platform.name, strike.id, operator, now=now, reason="appeal.accepted"
    )
    return new + ([removed] if removed is not None else [])


def _ended(row: Any, now: float) -> bool:
    end = mute_end(row)
    return end is None or end <= now
