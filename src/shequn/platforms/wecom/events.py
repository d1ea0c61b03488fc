"""WeCom callbacks and group details → internal events (pure functions).

A customer-group callback (``change_external_chat``) names the group and, for member
changes, the userids; it never names the members or who invited them. The adapter
therefore fetches the group (``externalcontact/groupchat/get``) first and hands the
detail in as :class:`Facts`; :func:`translate` itself does no I/O, so what the tests
replay is exactly what runs.

Join scenes are numbered differently in the callback and in the group detail (the
callback's ``JoinScene`` 0/3 against ``join_scene`` 1/2/3 in ``groupchat/get``), hence
two tables; the detail's is preferred, as only it tells an invite link from a direct
invitation. A group QR code is a link here: :class:`JoinMethod` has no QR kind.

A join's event id is ``userid:join_time`` from the detail, so the callback and a
later sync of the same group name the same join and the engine keeps one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
)

__all__ = [
    "GROUP_KIND",
    "PLATFORM",
    "Facts",
    "GroupInfo",
    "contact_group",
    "group_info",
    "member_ref",
    "sync_events",
    "translate",
]

PLATFORM = "wecom"
GROUP_KIND = "customer_group"
#: callback ``JoinScene``: 0 invited by a member (directly or by an invite link), 3 group QR
CALLBACK_JOIN_SCENE = {0: JoinMethod.INVITED, 3: JoinMethod.LINK}
#: ``groupchat/get`` ``join_scene``: 1 invited directly, 2 invite link, 3 group QR code
DETAIL_JOIN_SCENE = {1: JoinMethod.INVITED, 2: JoinMethod.LINK, 3: JoinMethod.LINK}
#: ``member_list[].type``: 1 a member of the company (staff), 2 an external contact
STAFF = 1


@dataclass(frozen=True)
class GroupInfo:
    """One customer group as ``groupchat/get`` describes it."""

    chat_id: str
    name: str
    owner: str
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # userid -> member
    admins: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class Facts:
    """What the adapter knew or fetched when the callback came."""

    group: GroupInfo | None = None  # the group after the change
    before: GroupInfo | None = None  # the group as last seen (for leaves and renames)


def group_info(detail: dict[str, Any]) -> GroupInfo:
    """A :class:`GroupInfo` from ``groupchat/get``'s ``group_chat`` object."""
    members = {str(m["userid"]): m for m in detail.get("member_list") or []}
    admins = frozenset(str(a["userid"]) for a in detail.get("admin_list") or [])
    return GroupInfo(
        str(detail["chat_id"]), str(detail.get("name") or ""), str(detail.get("owner") or ""),
        members, admins,
    )  # fmt: skip


def member_ref(userid: str, member: dict[str, Any] | None, group: GroupInfo | None) -> MemberRef:
    """The member as shequn names them: the group nickname, else the WeCom name.

    Staff (company members), the owner and group admins are operators: moderation
    leaves them alone.
    """
    m = member or {}
    name = str(m.get("group_nickname") or m.get("name") or "")
    staff = int(m.get("type") or 0) == STAFF or (
        group is not None and (userid == group.owner or userid in group.admins)
    )
    return MemberRef(userid, name, is_operator=staff)


def _seconds(value: Any) -> float:
    """A Unix time from a callback or an API answer; ValueError unless a finite number.

    ``float("1e999")`` is infinity, and ``int(inf)`` would raise OverflowError in the
    event id, which is no ``ValueError``: a hostile ``CreateTime`` must be a skip.
    """
    t = float(value)
    if not math.isfinite(t):
        raise ValueError(f"not a time: {value!r}")
    return t


def _userids(msg: dict[str, Any]) -> list[str]:
    items = (msg.get("MemChangeList") or {}).get("Item")
    if items is None:
        return []
    return [str(i) for i in (items if isinstance(items, list) else [items])]


def _joined(group_id: str, userid: str, ts: float, facts: Facts, scene: Any) -> MemberJoined:
    g = facts.group
    m = g.members.get(userid) if g else None
    inviter_id = str(((m or {}).get("invitor") or {}).get("userid") or "")
    if m is not None and m.get("join_scene") is not None:  # tells a link from an invite
        method = DETAIL_JOIN_SCENE.get(int(m["join_scene"]), JoinMethod.UNKNOWN)
    elif scene is not None and str(scene).strip() != "":
        method = CALLBACK_JOIN_SCENE.get(int(scene), JoinMethod.UNKNOWN)
    else:
        method = JoinMethod.UNKNOWN
    joined_at = _seconds((m or {}).get("join_time") or ts)
    inviter = None
    if inviter_id and inviter_id != userid:
        # WeCom names an inviter only when a company member invited: always staff
        known = member_ref(inviter_id, g.members.get(inviter_id) if g else None, g)
        inviter = MemberRef(inviter_id, known.name, is_operator=True)
    # ``state``: the channel of the group QR code (活码) they scanned, when it set one
    state = str((m or {}).get("state") or "") or None
    return MemberJoined(
        PLATFORM, group_id, f"{userid}:{int(joined_at)}", joined_at,
        member_ref(userid, m, g), inviter=inviter, method=method, invite=state,
    )  # fmt: skip


def _chat_event(msg: dict[str, Any], facts: Facts) -> list[Event]:
    group_id, ts = str(msg["ChatId"]), _seconds(msg["CreateTime"])
    change = str(msg["ChangeType"])
    g = facts.group
    if change == "create":
        return [GroupSeen(PLATFORM, group_id, g.name if g else group_id, ts, GROUP_KIND)]
    if change != "update":
        return []  # dismiss: the adapter forgets the group; the archive keeps its history
    detail = str(msg.get("UpdateDetail") or "")
    if detail == "add_member":
        ids = _userids(msg)
        if not ids and g and facts.before:  # callbacks before MemChangeList existed
            ids = sorted(set(g.members) - set(facts.before.members))
        return [_joined(group_id, u, ts, facts, msg.get("JoinScene")) for u in ids]
    if detail == "del_member":
        ids = _userids(msg)
        if not ids and g and facts.before:
            ids = sorted(set(facts.before.members) - set(g.members))
        kicked = int(msg.get("QuitScene") or 0) == 1  # 1: removed by the owner or an admin
        before = facts.before
        return [
            MemberLeft(
                PLATFORM, group_id, f"{u}:{int(ts)}", ts,
                member_ref(u, before.members.get(u) if before else None, before),
                kicked=kicked,
            )
            for u in ids
        ]  # fmt: skip
    if detail == "change_name" and g is not None:
        return [GroupSeen(PLATFORM, group_id, g.name, ts, GROUP_KIND)]
    return []  # change_owner, change_notice: no event (the adapter notes the new owner)


def contact_group(staff_userid: str) -> str:
    """The pseudo-group of one staff member's customer contacts (``contacts:<userid>``)."""
    return f"contacts:{staff_userid}"


def _contact_event(msg: dict[str, Any]) -> list[Event]:
    """1:1 customer contacts, as joins and leaves of the staff member's contact book.

    ``State`` is the channel parameter of the 「联系我」 code the customer scanned: such
    an add is a link join with the staff member as inviter, so referral analytics can
    credit channels the way they credit invite links.
    """
    change = str(msg["ChangeType"])
    staff, customer = str(msg["UserID"]), str(msg["ExternalUserID"])
    group, ts = contact_group(staff), _seconds(msg["CreateTime"])
    event_id = f"{change}:{customer}:{int(ts)}"  # a delete and an unfollow may share a second
    who = MemberRef(customer)
    if change in ("add_external_contact", "add_half_external_contact"):
        state = str(msg.get("State") or "")
        return [
            MemberJoined(
                PLATFORM, group, event_id, ts, who,
                inviter=MemberRef(staff, is_operator=True),
                method=JoinMethod.LINK if state else JoinMethod.UNKNOWN,
            )
        ]  # fmt: skip
    if change == "del_external_contact":  # the staff member deleted the customer
        return [
            MemberLeft(PLATFORM, group, event_id, ts, who,
                       removed_by=MemberRef(staff, is_operator=True), kicked=True)
        ]  # fmt: skip
    if change == "del_follow_user":  # the customer deleted the staff member
        return [MemberLeft(PLATFORM, group, event_id, ts, who)]
    return []  # edit_external_contact, transfer_fail


def translate(msg: dict[str, Any], facts: Facts | None = None) -> list[Event]:
    """Internal events for one decrypted callback (its ``<xml>`` fields as a dict)."""
    if msg.get("MsgType") != "event":
        return []
    event = msg.get("Event")
    if event == "change_external_chat":
        return _chat_event(msg, facts or Facts())
    if event == "change_external_contact":
        return _contact_event(msg)
    return []


def sync_events(
    before: GroupInfo | None, after: GroupInfo, now: float, *, since: float = 0.0
) -> list[Event]:
    """What a sync of one group learned that no callback told: joins, leaves, renames.

    The first sync of a group (``before`` is None) announces the group and the members
    who joined at or after ``since`` (a restart's gap), with their real join time; join
    ids match the callbacks', so nothing doubles. Members from before ``since`` are
    remembered but not announced: a join event would have the entry gate welcome (or
    challenge) people who have been in the group for years.
    Leaves and renames found by a sync carry the sync's time: WeCom does not say when.
    """
    out: list[Event] = []
    if before is None or before.name != after.name:
        out.append(GroupSeen(PLATFORM, after.chat_id, after.name, now, GROUP_KIND))
    old = before.members if before else {}
    for userid, m in sorted(after.members.items()):
        if userid not in old:
            if before is None and _seconds(m.get("join_time") or 0) < since:
                continue
            out.append(_joined(after.chat_id, userid, now, Facts(after), None))
            continue
        was, now_name = member_ref(userid, old[userid], before), member_ref(userid, m, after)
        if was.name and now_name.name and was.name != now_name.name:
            out.append(
                MemberRenamed(
                    PLATFORM, after.chat_id, f"{userid}:{int(now)}", now, now_name,
                    was.name, now_name.name,
                )
            )  # fmt: skip
    for userid in sorted(set(old) - set(after.members)):
        out.append(
            MemberLeft(PLATFORM, after.chat_id, f"{userid}:{int(now)}", now,
                       member_ref(userid, old[userid], before))
        )  # fmt: skip
    return out
