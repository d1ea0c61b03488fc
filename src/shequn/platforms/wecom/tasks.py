"""What replaces actions in WeCom customer groups: owner tasks, mass-send tasks, 活码.

An app cannot post into a customer group, recall a message in it, remove or mute a
member. The engine already turns each such action into a ``human_tasks`` row;
:func:`notify_human_tasks` tells the group's owner, through an app message, exactly
what to do (which message to recall, quoting it; whom to remove; the text to post),
and :func:`expire_owner_tasks` closes what was not marked done in time.

Mass messages become ``add_msg_template`` tasks the owner confirms in the WeCom
client; :func:`plan_mass_send` enforces WeCom's cap of one a day per group against
``wecom_mass_sends`` before anything is submitted.

Each task is followed to its effect, not only to a click in the console (the column
``confirmed_by`` says how it was known): a "remove member X" task is done when a sync
or a leave callback shows X gone from the group (:func:`confirm_removals`); a "recall
this message" task when the session archive records its recall, a "post this text"
task when the text appears in the group (:func:`confirm_from_archive`, for companies
with the archive licence); a mass send is ``sent`` when WeCom's
``get_groupmsg_send_result`` says the owner sent it to the group
(:func:`check_mass_sends`), and :func:`effects` compares the group's messages in the
day before and the day after it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import statistics
import zoneinfo
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from shequn.features.invites.codes import has_room
from shequn.platforms.port import MALFORMED, PlatformError
from shequn.store import Store, schema

__all__ = [
    "EFFECT_SECONDS",
    "MASS_SEND_SECONDS",
    "OWNER_TASK_SECONDS",
    "MassSendEffect",
    "MassSendPlan",
    "TaskEffects",
    "check_mass_sends",
    "confirm_from_archive",
    "confirm_removals",
    "effects",
    "expire_owner_tasks",
    "group_sizes",
    "next_group_with_room",
    "notify_human_tasks",
    "owner_message",
    "plan_mass_send",
    "save_groups",
    "submit_mass_sends",
]

log = logging.getLogger(__name__)

PLATFORM = "wecom"
#: An owner task not marked done within a day is expired (the moment has passed).
OWNER_TASK_SECONDS = 86400.0
#: WeCom's customer groups hold at most 500 members (200 before an upgrade).
GROUP_LIMIT = 500
DEFAULT_TZ = "Asia/Shanghai"

_LABEL = {"ad": "广告", "spam": "垃圾信息", "abuse": "辱骂", "sensitive": "敏感内容"}


def _when(ts: float, tz: str = DEFAULT_TZ) -> str:
    return dt.datetime.fromtimestamp(ts, zoneinfo.ZoneInfo(tz)).strftime("%m-%d %H:%M")


def owner_message(
    group_name: str,
    kind: str,
    *,
    member: str = "",
    params: Mapping[str, Any] | None = None,
    evidence: Mapping[str, Any] | None = None,
    posted_at: float | None = None,
    reason: str = "",
) -> str:
    """The app message telling an owner what to do by hand, in the WeCom client's words."""
    params, evidence = params or {}, evidence or {}
    rule = str(evidence.get("verdict") or reason.removeprefix("strike."))
    why = f"（原因：{_LABEL.get(rule, rule)}）" if rule else ""
    head = f"【{group_name}】社群机器人无法在企业微信客户群里直接操作，请您手动处理{why}："
    if kind == "delete":
        quoted = str(evidence.get("text") or "")[:200]
        at = f"{_when(posted_at)} " if posted_at else ""
        what = f"撤回 {member} {at}发的消息：「{quoted}」"
        what += "（群主可长按该消息 → 撤回）"
    elif kind in ("kick", "ban"):
        what = f"将 {member} 移出群聊（群详情 → 群成员 → 删除）"
        if kind == "ban":
            what += "，并留意其再次入群"
    elif kind == "mute":
        what = f"企业微信客户群没有禁言：请私下提醒 {member}，再犯请将其移出群聊"
    elif kind == "send":
        what = f"在群里发送以下内容：\n{params.get('text', '')}"
    elif kind == "unban":
        what = f"{member} 的处罚已撤销，可重新邀请其入群"
    elif kind in ("grant_role", "revoke_role"):
        act = "授予" if kind == "grant_role" else "取消"
        what = (f"为 {member} {act}身份「{params.get('role', '')}」"
                "（客户群没有身份组，可在客户标签中标注）")  # fmt: skip
    else:
        what = f"{kind} {member}".strip()
    return f"{head}\n{what}\n完成后请在控制台任务列表中标记完成。"


async def notify_human_tasks(
    store: Store,
    notify_owner: Callable[[str, str], Awaitable[tuple[str, str]]],
    *,
    now: float,
    names: Callable[[str, str], str] = lambda _g, m: m,
    group_names: Callable[[str], str] = lambda g: g,
    tz: str = DEFAULT_TZ,
) -> int:
    """Send each open WeCom human task without a notice to its group's owner, once.

    ``notify_owner(group_id, text)`` sends and returns ``(owner, msgid)``. A task whose
    notice failed is recorded ``failed`` (the console still lists the task itself) and
    not retried on every call. Returns how many notices were sent.
    """
    h, a, o = schema.human_tasks, schema.bot_actions, schema.wecom_owner_tasks
    q = (
        select(h, a.c.params, a.c.evidence, a.c.reason)
        .outerjoin(a, a.c.id == h.c.action_id)
        .outerjoin(o, o.c.human_task_id == h.c.id)
        .where(h.c.platform == PLATFORM, h.c.status == "open", o.c.id.is_(None))
        .order_by(h.c.id)
    )
    with store.engine.connect() as conn:
        tasks = conn.execute(q).all()
    sent = 0
    for t in tasks:
        evidence = json.loads(t.evidence or "{}")
        posted = _posted_at(store, t.group_id, evidence.get("message_id"))
        text = owner_message(
            group_names(t.group_id), t.kind,
            member=names(t.group_id, t.member_id) if t.member_id else "",
            params=json.loads(t.params or "{}"), evidence=evidence,
            posted_at=posted, reason=t.reason or "",
        )  # fmt: skip
        row: dict[str, Any] = dict(
            human_task_id=t.id, chat_id=t.group_id, kind=t.kind, text=text,
            created_at=now, expires_at=now + OWNER_TASK_SECONDS,
        )  # fmt: skip
        try:
            owner, msgid = await notify_owner(t.group_id, text)
            row |= dict(owner=owner, msgid=msgid, status="notified")
            sent += 1
        except PlatformError as exc:
            log.warning("WeCom: owner of %s not notified of task %s: %s", t.group_id, t.id, exc)
            row |= dict(owner="", status="failed", error=str(exc)[:2000])
        with store.engine.begin() as conn:
            conn.execute(o.insert().values(**row))
    return sent


def _posted_at(store: Store, group_id: str, message_id: Any) -> float | None:
    """When the message was posted, from the archive (the owner looks for it by time)."""
    if not message_id:
        return None
    m, g = schema.messages, schema.groups
    q = (
        select(m.c.ts)
        .join(g, g.c.id == m.c.group_id)
        .where(g.c.platform == PLATFORM, g.c.platform_id == group_id,
               m.c.platform_id == str(message_id))
    )  # fmt: skip
    with store.engine.connect() as conn:
        ts = conn.execute(q).scalar()
    return float(ts) if ts is not None else None


def expire_owner_tasks(conn: Connection, now: float) -> int:
    """Close owner tasks: done when their human task is, else expired when time is up.

    Returns how many expired (their human tasks are marked expired too).
    """
    o, h = schema.wecom_owner_tasks, schema.human_tasks
    # a task an operator marked done in the console closes its notice first
    conn.execute(
        update(o)
        .where(
            o.c.status == "notified",
            o.c.human_task_id.in_(select(h.c.id).where(h.c.status == "done")),
        )
        .values(status="done", done_at=now, confirmed_by="console")
    )
    rows = conn.execute(
        select(o.c.id, o.c.human_task_id).where(o.c.status == "notified", o.c.expires_at <= now)
    ).all()
    for r in rows:
        conn.execute(update(o).where(o.c.id == r.id).values(status="expired", done_at=now))
        conn.execute(
            update(h)
            .where(h.c.id == r.human_task_id, h.c.status == "open")
            .values(status="expired", done_at=now)
        )
    return len(rows)


# -- effects: a task is done when its effect is seen --------------------------------


def _open_tasks(conn: Connection, chat_id: str, kinds: tuple[str, ...]) -> list[Any]:
    """The owner tasks of ``kinds`` in a group not yet done or expired, with their action."""
    o, h, a = schema.wecom_owner_tasks, schema.human_tasks, schema.bot_actions
    q = (
        select(o.c.id, o.c.human_task_id, h.c.member_id, h.c.created_at, a.c.params)
        .join(h, h.c.id == o.c.human_task_id)
        .outerjoin(a, a.c.id == h.c.action_id)
        .where(o.c.chat_id == chat_id, o.c.kind.in_(kinds), o.c.status.in_(("notified", "failed")))
        .order_by(o.c.id)
    )
    return list(conn.execute(q).all())


def _confirm(conn: Connection, row: Any, at: float, by: str) -> None:
    o, h = schema.wecom_owner_tasks, schema.human_tasks
    conn.execute(update(o).where(o.c.id == row.id).values(status="done", done_at=at,
                                                          confirmed_by=by))  # fmt: skip
    conn.execute(
        update(h)
        .where(h.c.id == row.human_task_id, h.c.status == "open")
        .values(status="done", done_at=at)
    )


def confirm_removals(conn: Connection, chat_id: str, members: Collection[str], now: float) -> int:
    """Close the "remove X" tasks of a group whose member X is no longer in ``members``
    (the group as a sync or a callback just showed it). Returns how many."""
    n = 0
    for r in _open_tasks(conn, chat_id, ("kick", "ban")):
        if r.member_id and r.member_id not in members:
            _confirm(conn, r, now, "sync")
            n += 1
    return n


def _norm(text: str) -> str:
    return " ".join(text.split())


def confirm_from_archive(conn: Connection, records: Iterable[Mapping[str, Any]]) -> int:
    """Close the tasks that decrypted session-archive ``records`` show done.

    A recall (``msgtype: revoke``, ``revoke.pre_msgid``) closes the "recall this
    message" task of that message; a text in the group that contains a "post this
    text" task's text (blanks aside), posted after the task was made, closes that
    task. The time done is the record's. Returns how many were closed.
    """
    n = 0
    for rec in records:
        try:
            room, kind = str(rec.get("roomid") or ""), rec.get("msgtype")
            if not room or kind not in ("revoke", "text"):
                continue
            at = float(rec["msgtime"]) / 1000
            if kind == "revoke":
                pre = str(rec["revoke"]["pre_msgid"])
                for r in _open_tasks(conn, room, ("delete",)):
                    if str(json.loads(r.params or "{}").get("message_id") or "") == pre:
                        _confirm(conn, r, at, "archive")
                        n += 1
                continue
            said = _norm(str(rec["text"]["content"]))
            for r in _open_tasks(conn, room, ("send",)):
                text = _norm(str(json.loads(r.params or "{}").get("text") or ""))
                if text and text in said and at >= r.created_at:
                    _confirm(conn, r, at, "archive")
                    n += 1
        except MALFORMED as exc:
            log.warning("wecom: archive record not checked against tasks (%s): %.200r",
                        exc, rec)  # fmt: skip
    return n


def save_groups(
    conn: Connection, groups: Mapping[str, Any], now: float, *, gone: Sequence[str] = ()
) -> None:
    """Remember each group's name, owner and size as of a sync (``wecom_groups``)."""
    g = schema.wecom_groups
    for chat, info in groups.items():
        values = dict(name=info.name, owner=info.owner, size=info.size, status="active",
                      synced_at=now)  # fmt: skip
        if conn.execute(update(g).where(g.c.chat_id == chat).values(**values)).rowcount == 0:
            conn.execute(g.insert().values(chat_id=chat, **values))
    if gone:
        conn.execute(
            update(g).where(g.c.chat_id.in_(list(gone))).values(status="dismissed", synced_at=now)
        )


def group_sizes(conn: Connection) -> dict[str, int]:
    """Active groups and their sizes as of the last sync, for :func:`next_group_with_room`."""
    g = schema.wecom_groups
    rows = conn.execute(select(g.c.chat_id, g.c.size).where(g.c.status == "active")).all()
    return {r.chat_id: int(r.size) for r in rows}


# -- mass sends ----------------------------------------------------------------------


@dataclass(frozen=True)
class MassSendPlan:
    """What :func:`plan_mass_send` decided: rows planned, and groups over today's cap."""

    planned: dict[str, int]  # chat_id -> wecom_mass_sends.id
    capped: list[str]  # already have today's mass message
    no_owner: list[str]  # unknown group or owner: sync first


def _day(now: float, tz: str) -> str:
    return dt.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(tz)).date().isoformat()


def plan_mass_send(
    conn: Connection,
    chat_ids: Sequence[str],
    text: str,
    *,
    now: float,
    tz: str = DEFAULT_TZ,
) -> MassSendPlan:
    """Plan one mass message to each group, unless it has had one today (WeCom's cap).

    The day is the group's local day (``tz``). Planned rows carry the group's owner,
    who will confirm the ``add_msg_template`` task; :func:`submit_mass_sends` submits
    them, one task per owner.
    """
    ms, wg = schema.wecom_mass_sends, schema.wecom_groups
    day = _day(now, tz)
    taken = set(
        conn.execute(
            select(ms.c.chat_id).where(
                ms.c.day == day, ms.c.chat_id.in_(list(chat_ids)), ms.c.status != "failed"
            )
        ).scalars()
    )
    owners = dict(
        conn.execute(
            select(wg.c.chat_id, wg.c.owner).where(
                wg.c.chat_id.in_(list(chat_ids)), wg.c.status == "active"
            )
        ).all()
    )
    planned: dict[str, int] = {}
    capped: list[str] = []
    no_owner: list[str] = []
    for chat in dict.fromkeys(chat_ids):
        if chat in taken:
            capped.append(chat)
        elif not owners.get(chat):
            no_owner.append(chat)
        else:
            # a failed attempt today frees the day again; its row makes way
            conn.execute(ms.delete().where(and_(ms.c.chat_id == chat, ms.c.day == day)))
            res = conn.execute(
                ms.insert().values(chat_id=chat, owner=owners[chat], day=day, text=text,
                                   status="planned", created_at=now)
            )  # fmt: skip
            planned[chat] = int(res.inserted_primary_key[0])  # type: ignore[index]
    return MassSendPlan(planned, capped, no_owner)


async def submit_mass_sends(
    store: Store,
    add_msg_template: Callable[[str, list[str], str], Awaitable[str]],
    *,
    now: float,
) -> int:
    """Submit planned mass sends: one ``add_msg_template`` per owner and text.

    Returns how many groups were submitted. A refusal marks the rows ``failed``
    with the error (which frees the day for another attempt).
    """
    ms = schema.wecom_mass_sends
    with store.engine.connect() as conn:
        rows = conn.execute(select(ms).where(ms.c.status == "planned").order_by(ms.c.id)).all()
    batches: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        batches.setdefault((r.owner, r.text), []).append(r)
    done = 0
    for (owner, text), batch in batches.items():
        ids = [r.id for r in batch]
        try:
            msgid = await add_msg_template(owner, [r.chat_id for r in batch], text)
            values: dict[str, Any] = dict(status="submitted", msgid=msgid, submitted_at=now)
            done += len(batch)
        except PlatformError as exc:
            values = dict(status="failed", error=str(exc)[:2000])
        with store.engine.begin() as conn:
            conn.execute(update(ms).where(ms.c.id.in_(ids)).values(**values))
    return done


#: A mass-send task its owner has not sent within this long is expired.
MASS_SEND_SECONDS = 3 * 86400.0
#: WeCom's ``send_list`` statuses that mean it will not arrive (2: the customer is not
#: a contact; 3: the customer or group already had a mass message, the cap)
_UNSENT = {2: "not a contact", 3: "already had a mass message (the cap)"}


async def check_mass_sends(
    store: Store,
    send_result: Callable[[str, str], Awaitable[list[dict[str, Any]]]],
    *,
    now: float,
) -> int:
    """Follow submitted mass sends to the groups: ``sent`` with the time, or not.

    ``send_result(msgid, owner)`` is ``get_groupmsg_send_result``'s ``send_list``. A
    group WeCom reports sent becomes ``sent`` (``sent_at``), one it refused
    ``unsent`` with the reason, one still waiting after :data:`MASS_SEND_SECONDS`
    ``expired``. Returns how many became ``sent``.
    """
    ms = schema.wecom_mass_sends
    with store.engine.connect() as conn:
        rows = conn.execute(select(ms).where(ms.c.status == "submitted").order_by(ms.c.id)).all()
    batches: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        if r.msgid:
            batches.setdefault((r.msgid, r.owner), []).append(r)
    sent = 0
    for (msgid, owner), batch in batches.items():
        try:
            results = await send_result(msgid, owner)
            by_chat = {str(x["chat_id"]): x for x in results if x.get("chat_id")}
        except PlatformError as exc:  # next round
            log.warning("WeCom: mass send %s not checked: %s", msgid, exc)
            continue
        except MALFORMED as exc:
            log.warning("WeCom: mass send %s: malformed send result (%s)", msgid, exc)
            continue
        with store.engine.begin() as conn:
            for r in batch:
                x = by_chat.get(r.chat_id) or {}
                status = int(x.get("status") or 0)
                values: dict[str, Any]
                if status == 1:
                    values = dict(status="sent", sent_at=float(x.get("send_time") or now))
                    sent += 1
                elif status in _UNSENT:
                    values = dict(status="unsent", error=f"WeCom: {_UNSENT[status]}")
                elif now - (r.submitted_at or r.created_at) >= MASS_SEND_SECONDS:
                    values = dict(status="expired", error="the owner did not send it")
                else:
                    continue
                conn.execute(update(ms).where(ms.c.id == r.id).values(**values))
    return sent


# -- measuring -----------------------------------------------------------------------

#: A mass message's effect: the group's messages this long before and after it.
EFFECT_SECONDS = 86400.0


@dataclass(frozen=True)
class MassSendEffect:
    chat_id: str
    sent_at: float
    before: int  # messages in the group in the EFFECT_SECONDS before the send
    after: int | None  # ... and after it; None until that much time has passed


@dataclass(frozen=True)
class TaskEffects:
    """What came of the WeCom tasks: how many got done, how, how fast; mass-send reach."""

    owner_tasks: dict[str, dict[str, int]]  # kind -> status -> count
    confirmed_by: dict[str, int]  # console | sync | archive -> count of done tasks
    median_minutes_to_done: float | None  # notice to done, over the done tasks
    mass_sends: dict[str, int]  # status -> count
    sent: list[MassSendEffect]  # the sent ones, newest first


def _count(conn: Connection, chat_id: str, start: float, end: float) -> int:
    m, g = schema.messages, schema.groups
    q = (
        select(func.count())
        .select_from(m.join(g, g.c.id == m.c.group_id))
        .where(g.c.platform == PLATFORM, g.c.platform_id == chat_id)
        .where(m.c.ts >= start, m.c.ts < end)
    )
    return int(conn.execute(q).scalar_one())


def effects(conn: Connection, now: float, *, window: float = EFFECT_SECONDS) -> TaskEffects:
    """The WeCom tasks' outcome and effect, from the archive as it stands at ``now``."""
    o, ms = schema.wecom_owner_tasks, schema.wecom_mass_sends
    kinds: dict[str, dict[str, int]] = {}
    confirmed: dict[str, int] = {}
    minutes: list[float] = []
    for r in conn.execute(select(o.c.kind, o.c.status, o.c.confirmed_by, o.c.created_at,
                                 o.c.done_at)):  # fmt: skip
        kinds.setdefault(r.kind, {}).setdefault(r.status, 0)
        kinds[r.kind][r.status] += 1
        if r.status == "done":
            by = r.confirmed_by or "console"
            confirmed[by] = confirmed.get(by, 0) + 1
            if r.done_at is not None:
                minutes.append(max(0.0, r.done_at - r.created_at) / 60)
    statuses = {str(k): int(v) for k, v in conn.execute(
        select(ms.c.status, func.count()).group_by(ms.c.status)).all()}  # fmt: skip
    sent = [
        MassSendEffect(
            r.chat_id,
            r.sent_at,
            _count(conn, r.chat_id, r.sent_at - window, r.sent_at),
            _count(conn, r.chat_id, r.sent_at, r.sent_at + window)
            if r.sent_at + window <= now
            else None,
        )
        for r in conn.execute(
            select(ms.c.chat_id, ms.c.sent_at)
            .where(ms.c.status == "sent", ms.c.sent_at.is_not(None))
            .order_by(ms.c.sent_at.desc())
        )
    ]
    return TaskEffects(
        kinds, confirmed, statistics.median(minutes) if minutes else None, statuses, sent
    )


# -- 活码 --------------------------------------------------------------------------


def next_group_with_room(
    sizes: Mapping[str, int], *, limit: int = GROUP_LIMIT, reserve: int = 10, take: int = 5
) -> list[str]:
    """The groups a group QR code should route to, fullest first among those with room.

    A group counts as having room while it has ``reserve`` places left (joins through
    the code race the sync). Filling the fullest first keeps groups lively rather than
    spreading newcomers thinly; WeCom takes at most five chat ids per code and, with
    ``auto_create_room``, opens a new group when all of them are full. An empty list
    means: every group is full, let WeCom create the next one.
    """
    open_ = [(n, c) for c, n in sizes.items() if has_room(n, limit, reserve)]
    open_.sort(key=lambda nc: (-nc[0], nc[1]))
    return [c for _n, c in open_[:take]]
