"""Entry-gate state changes: a newcomer is challenged, answers, passes, fails or times out.

Each function runs on the caller's connection, inside the transaction that recorded
the event (or the tick), and plans its platform calls through
:func:`shequn.actions.moderation.plan` so they survive a crash.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from shequn.actions.moderation import add_human_task, plan
from shequn.botconfig import GroupSettings
from shequn.events import JoinRequested, MemberRef, MessagePosted
from shequn.features.gate import check_answer, make_challenge, normalise, prompt
from shequn.platforms.port import Capability, Platform, capabilities_of
from shequn.store import schema

__all__ = [
    "LayerOf",
    "answer",
    "decide_manual",
    "expire",
    "join_request",
    "member_joined",
    "member_left",
    "pending_entry",
    "renamed",
]

#: ``layer_of(platform, group_id, member_id)``: the member's layer there (analytics),
#: ``None`` when unknown.
LayerOf = Callable[[str, str, str], int | None]

_WELCOME = {"zh": "欢迎 {name} 加入！", "en": "Welcome, {name}!"}
_RENAME = {
    "zh": "{name}，请按格式修改群昵称：{format}",
    "en": "{name}, please set your group nickname to the format {format}",
}


def pending_entry(conn: Connection, platform: str, group_id: str, member_id: str) -> Any:
    """The member's entry still waiting at the gate, or None (asked of every message)."""
    return conn.execute(
        _PENDING, {"platform": platform, "group_id": group_id, "member_id": member_id}
    ).first()


_g = schema.gate_entries
#: Built once: building it anew for each message cost ~200 µs more than running it.
_PENDING = (
    select(_g)
    .where(
        _g.c.platform == bindparam("platform"),
        _g.c.group_id == bindparam("group_id"),
        _g.c.member_id == bindparam("member_id"),
        _g.c.state == "pending",
    )
    .order_by(_g.c.id.desc())
)


def _welcome(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    group_id: str,
    member: MemberRef,
    now: float,
    key: str | None,
) -> list[int]:
    ids: list[int] = []
    gate, lang = settings.gate, settings.language
    name = member.name or member.platform_id
    text = (gate.welcome or _WELCOME[lang]).replace("{name}", name)
    ids.append(
        plan(
            conn,
            platform,
            group_id=group_id,
            kind="send",
            member_id=member.platform_id,
            params={"text": text},
            reason="gate.welcome",
            now=now,
            event_key=key,
        )
    )
    if gate.name_format and not re.fullmatch(gate.name_format, member.name):
        reminder = (gate.name_reminder or _RENAME[lang]).replace("{name}", name)
        ids.append(
            plan(
                conn,
                platform,
                group_id=group_id,
                kind="send",
                member_id=member.platform_id,
                params={"text": reminder.replace("{format}", gate.name_format)},
                reason="gate.rename",
                now=now,
                event_key=key,
            )
        )
    return ids


def member_joined(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    *,
    group_id: str,
    member: MemberRef,
    ts: float,
    now: float,
    rng: random.Random,
    layer_of: LayerOf | None,
    event_key: str | None = None,
) -> list[int]:
    """Welcome the newcomer, or hold them (muted where possible) until they pass."""
    ids: list[int] = []
    gate = settings.gate
    mid = member.platform_id
    if gate.mode == "open":
        return _welcome(conn, platform, settings, group_id, member, now, event_key)
    if gate.mode == "layer":
        layer = layer_of(platform.name, gate.layer_group, mid) if layer_of else None
        if layer is not None and layer >= gate.min_layer:
            return _welcome(conn, platform, settings, group_id, member, now, event_key)
        evidence = {"layer": layer, "min_layer": gate.min_layer}
        kick = plan(
            conn,
            platform,
            group_id=group_id,
            kind="kick",
            member_id=mid,
            now=now,
            reason="gate.layer",
            event_key=event_key,
            evidence=evidence,
        )
        return [kick]
    challenge = make_challenge(gate, rng)
    deadline = None if gate.mode == "manual" else now + gate.time_limit
    conn.execute(
        schema.gate_entries.insert().values(
            platform=platform.name,
            group_id=group_id,
            member_id=mid,
            mode=gate.mode,
            challenge=json.dumps(challenge, ensure_ascii=False),
            progress=0,
            correct=0,
            state="pending",
            joined_at=ts,
            deadline=deadline,
        )
    )
    # Held newcomers are muted only where they need not speak: a quiz, captcha or
    # invite code is answered in the group, and a muted member cannot post on any real
    # platform (QQ 禁言, Telegram restrictions, Matrix power levels, Discord timeouts).
    # Their messages count as answers instead, and all of them go if they fail.
    # "Where possible": no task when the platform cannot mute.
    if gate.mode == "manual" and Capability.MUTE in capabilities_of(platform, group_id):
        seconds = 7 * 86400
        ids.append(
            plan(
                conn,
                platform,
                group_id=group_id,
                kind="mute",
                member_id=mid,
                now=now,
                params={"seconds": seconds},
                reason="gate.hold",
                event_key=event_key,
            )
        )
    if gate.mode == "manual":
        add_human_task(
            conn,
            platform=platform.name,
            group_id=group_id,
            member_id=mid,
            kind="approve",
            now=now,
            text=f"approve or remove newcomer {member.name or mid} / 审核新成员",
        )
        return ids
    ids.append(
        plan(
            conn,
            platform,
            group_id=group_id,
            kind="send",
            member_id=mid,
            now=now,
            params={"text": prompt(challenge, 0, settings.language)},
            reason="gate.ask",
            event_key=event_key,
        )
    )
    return ids


def _decide(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    entry: Any,
    member: MemberRef,
    passed: bool,
    now: float,
    key: str | None,
    state: str = "",
    operator: str | None = None,
) -> list[int]:
    ids: list[int] = []
    g = schema.gate_entries
    state = state or ("passed" if passed else "failed")
    conn.execute(update(g).where(g.c.id == entry.id).values(state=state, decided_at=now))
    mid = entry.member_id
    if passed:
        if entry.mode == "manual" and Capability.MUTE in capabilities_of(platform, entry.group_id):
            ids.append(
                plan(
                    conn,
                    platform,
                    group_id=entry.group_id,
                    kind="mute",
                    member_id=mid,
                    params={"seconds": 0},
                    reason="gate.pass",
                    now=now,
                    event_key=key,
                    operator=operator,
                )
            )
        return ids + _welcome(conn, platform, settings, entry.group_id, member, now, key)
    reason = f"gate.{state}"
    for message_id in _messages_since(conn, platform.name, entry.group_id, mid, entry.joined_at):
        ids.append(
            plan(
                conn,
                platform,
                group_id=entry.group_id,
                kind="delete",
                member_id=mid,
                params={"message_id": message_id},
                reason=reason,
                now=now,
                event_key=key,
                operator=operator,
            )
        )
    ids.append(
        plan(
            conn,
            platform,
            group_id=entry.group_id,
            kind="kick",
            member_id=mid,
            now=now,
            reason=reason,
            event_key=key,
            operator=operator,
            evidence={"mode": entry.mode, "correct": entry.correct, "progress": entry.progress},
        )
    )
    return ids


def _messages_since(
    conn: Connection, platform: str, group_id: str, member_id: str, since: float
) -> list[str]:
    """What the member posted since joining, read back from the archive."""
    m, gr, mem = schema.messages, schema.groups, schema.members
    q = (
        select(m.c.platform_id)
        .join(gr, gr.c.id == m.c.group_id)
        .join(mem, mem.c.id == m.c.member_id)
        .where(
            gr.c.platform == platform,
            gr.c.platform_id == group_id,
            mem.c.platform == platform,
            mem.c.platform_id == member_id,
            m.c.ts >= since,
        )
        .order_by(m.c.ts, m.c.id)
    )
    return list(conn.execute(q).scalars())


def answer(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    entry: Any,
    message: MessagePosted,
    *,
    now: float,
    event_key: str | None = None,
) -> list[int]:
    """Count ``message`` as the answer to the pending question; ask on, pass or fail."""
    assert message.sender is not None
    if entry.mode == "manual":
        return []  # they wait for a human; the message stays for the reviewer to read
    challenge = json.loads(entry.challenge)
    right = check_answer(challenge, entry.progress, message.text)
    progress, correct = entry.progress + 1, entry.correct + int(right)
    g = schema.gate_entries
    conn.execute(update(g).where(g.c.id == entry.id).values(progress=progress, correct=correct))
    entry = conn.execute(select(g).where(g.c.id == entry.id)).one()
    total = len(challenge["questions"])
    needed = settings.gate.pass_mark if entry.mode == "quiz" else total
    if correct >= needed:
        return _decide(conn, platform, settings, entry, message.sender, True, now, event_key)
    if correct + (total - progress) < needed:  # can no longer reach the mark
        return _decide(conn, platform, settings, entry, message.sender, False, now, event_key)
    return [
        plan(
            conn,
            platform,
            group_id=entry.group_id,
            kind="send",
            member_id=entry.member_id,
            params={"text": prompt(challenge, progress, settings.language)},
            reason="gate.ask",
            now=now,
            event_key=event_key,
        )
    ]


def expire(
    conn: Connection,
    platforms: dict[str, Platform],
    settings_for: Callable[[str, str], GroupSettings],
    now: float,
) -> set[str]:
    """Time out pending entries past their deadline; the platform names that got actions."""
    g = schema.gate_entries
    rows = conn.execute(
        select(g).where(g.c.state == "pending", g.c.deadline.is_not(None), g.c.deadline <= now)
    ).all()
    touched: set[str] = set()
    for entry in rows:
        platform = platforms.get(entry.platform)
        if platform is None:
            continue  # not connected (yet): it expires once the adapter is back
        settings = settings_for(entry.platform, entry.group_id)
        member = MemberRef(entry.member_id)
        _decide(conn, platform, settings, entry, member, False, now, None, state="expired")
        touched.add(entry.platform)
    return touched


def join_request(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    request: JoinRequested,
    *,
    now: float,
    layer_of: LayerOf | None,
    event_key: str | None = None,
) -> list[int]:
    """Answer a join request where the gate can decide it alone (invite code, layer)."""
    gate = settings.gate
    if gate.mode == "invite_code":
        ok = normalise(request.answer) in {normalise(c) for c in gate.invite_codes}
    elif gate.mode == "layer":
        layer = (
            layer_of(platform.name, gate.layer_group, request.member.platform_id)
            if layer_of
            else None
        )
        ok = layer is not None and layer >= gate.min_layer
    elif gate.mode == "open":
        ok = True
    else:
        return []  # quiz / captcha / manual: let them in, the gate holds them after joining
    return [
        plan(
            conn,
            platform,
            group_id=request.group_id,
            kind="approve_join",
            member_id=request.member.platform_id,
            now=now,
            event_key=event_key,
            params={"request_id": request.request_id, "approve": ok},
            reason="gate.request",
        )
    ]


def _close_tasks(conn: Connection, entry: Any, status: str, now: float) -> None:
    t = schema.human_tasks
    conn.execute(
        update(t)
        .where(
            t.c.platform == entry.platform,
            t.c.group_id == entry.group_id,
            t.c.member_id == entry.member_id,
            t.c.kind == "approve",
            t.c.status == "open",
        )
        .values(status=status, done_at=now)
    )


def decide_manual(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    entry_id: int,
    approve: bool,
    operator: str,
    *,
    now: float,
) -> list[int]:
    """A person approved (unmute, welcome) or refused (kick, delete) a manual entry."""
    g, m = schema.gate_entries, schema.members
    entry = conn.execute(select(g).where(g.c.id == entry_id)).first()
    if entry is None:
        raise LookupError(f"no gate entry {entry_id}")
    if entry.state != "pending":
        raise ValueError(f"gate entry {entry_id} is already {entry.state}")
    name = conn.execute(
        select(m.c.name).where(m.c.platform == entry.platform, m.c.platform_id == entry.member_id)
    ).scalar()
    member = MemberRef(entry.member_id, name or "")
    ids = _decide(conn, platform, settings, entry, member, approve, now, None, operator=operator)
    _close_tasks(conn, entry, "done", now)
    return ids


def member_left(conn: Connection, platform: str, group_id: str, member_id: str, now: float) -> None:
    """A newcomer left before passing: the entry ends and its approval task expires."""
    entry = pending_entry(conn, platform, group_id, member_id)
    if entry is None:
        return
    g = schema.gate_entries
    conn.execute(update(g).where(g.c.id == entry.id).values(state="left", decided_at=now))
    _close_tasks(conn, entry, "expired", now)


def renamed(
    conn: Connection,
    platform: Platform,
    settings: GroupSettings,
    group_id: str,
    member: MemberRef,
    new_name: str,
    now: float,
    event_key: str | None = None,
) -> list[int]:
    """Remind a member whose new group nickname does not follow the format."""
    gate = settings.gate
    if not gate.name_format or re.fullmatch(gate.name_format, new_name):
        return []
    text = (gate.name_reminder or _RENAME[settings.language]).replace("{name}", new_name)
    params = {"text": text.replace("{format}", gate.name_format)}
    return [
        plan(conn, platform, group_id=group_id, kind="send", member_id=member.platform_id,
             params=params, reason="gate.rename", now=now, event_key=event_key)
    ]  # fmt: skip
