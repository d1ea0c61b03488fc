"""QQ bot dispatches (``{"op": 0, "t": ..., "d": ...}``) → internal events.

**Two kinds of group, told apart by the group id.** A QQ group (QQ群) is
``group:<group_openid>``; a guild's text sub-channel (QQ频道 子频道) is
``channel:<channel_id>``. They differ in everything shequn cares about: a group bot
sees only messages that @ it, never learns nicknames or QQ numbers (members are
per-bot ``member_openid``\\s), may only answer within the passive-reply window and
cannot recall, mute or remove anyone; a guild bot sees every message in a private
guild (``MESSAGE_CREATE``) or the @-messages in a public one, and may recall, mute and
remove. The prefix keeps that difference in every id the engine stores, so an action
planned months ago still knows where it goes.

As on Discord, sanctions in a guild hold guild-wide, and joins and leaves (which
happen to the guild) go to the guild's *home channel*: the one configured for it,
else the first text channel the adapter looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shequn.events import (
    Event,
    GroupSeen,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MessageKind,
    MessagePosted,
)

__all__ = [
    "CHANNEL",
    "GROUP",
    "PLATFORM",
    "STAFF_ROLES",
    "Routes",
    "kind_of",
    "split_group",
    "translate",
]

PLATFORM = "qqbot"
GROUP, CHANNEL = "group", "channel"
#: default guild roles that are staff: 管理员, 频道主 (owner), 子频道管理员
STAFF_ROLES = frozenset({"2", "4", "5"})
GUILD_MESSAGES = ("AT_MESSAGE_CREATE", "MESSAGE_CREATE")
_URL = re.compile(r"https?://\S|www\.\S", re.I)
_MENTION = re.compile(r"<@!?(\d+)>")


def split_group(group_id: str) -> tuple[str, str]:
    """(kind, platform id) of a shequn group id; ValueError for anything else."""
    kind, sep, rest = group_id.partition(":")
    if not sep or not rest or kind not in (GROUP, CHANNEL):
        raise ValueError(f"not a QQ bot group id (group:<openid> or channel:<id>): {group_id!r}")
    return kind, rest


def kind_of(group_id: str) -> str:
    return split_group(group_id)[0]


def _time(value: Any) -> float:
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return float(value)
    return datetime.fromisoformat(str(value)).timestamp()


@dataclass
class Routes:
    """What the translation remembers: which guild a channel is in, guilds' homes."""

    #: guild -> channel that stands for the guild in joins and leaves (operator's choice)
    home_channels: dict[str, str] = field(default_factory=dict)
    channel_guild: dict[str, str] = field(default_factory=dict)
    self_id: str | None = None

    def home_of(self, guild_id: str) -> str | None:
        return self.home_channels.get(guild_id)


def _url(raw: str) -> str:
    # guild attachments come without a scheme ("gchat.qpic.cn/..."), group ones with
    return raw if raw.startswith(("http://", "https://")) else f"https://{raw}"


def _kind(d: dict[str, Any]) -> MessageKind:
    attachments = d.get("attachments") or []
    if attachments:
        ctype = str(attachments[0].get("content_type") or "")
        if ctype.startswith("image/"):
            return MessageKind.IMAGE
        if ctype.startswith("video/"):
            return MessageKind.VIDEO
        if ctype.startswith(("voice", "audio/")):
            return MessageKind.VOICE
        return MessageKind.FILE
    if d.get("ark") or d.get("embed"):
        return MessageKind.CARD
    return MessageKind.LINK if _URL.search(str(d.get("content") or "")) else MessageKind.TEXT


def _media(d: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        _url(str(a["url"]))
        for a in d.get("attachments") or []
        if str(a.get("content_type") or "").startswith("image/") and a.get("url")
    )


def _group_message(d: dict[str, Any]) -> list[Event]:
    author = d["author"]
    member = str(author.get("member_openid") or author["id"])
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=f"{GROUP}:{d['group_openid']}",
            message_id=str(d["id"]),
            ts=_time(d["timestamp"]),
            # a group bot is told no nickname, only the member's openid for this bot
            sender=MemberRef(member),
            text=str(d.get("content") or "").strip(),
            kind=_kind(d),
            media=_media(d),
        )
    ]


def _guild_message(d: dict[str, Any], routes: Routes) -> list[Event]:
    cid, gid = str(d["channel_id"]), str(d["guild_id"])
    routes.channel_guild[cid] = gid
    author, member = d["author"], d.get("member") or {}
    roles = set(map(str, member.get("roles") or ()))
    sender = MemberRef(
        str(author["id"]),
        str(member.get("nick") or author.get("username") or ""),
        is_bot=bool(author.get("bot")),
        is_operator=bool(roles & STAFF_ROLES),
    )
    mentions = [
        MemberRef(str(u["id"]), str(u.get("username") or ""), is_bot=bool(u.get("bot")))
        for u in d.get("mentions") or []
    ]
    bots = {m.platform_id for m in mentions if m.is_bot} | {routes.self_id or ""}
    # "<@!bot> 签到" is the member talking to the bot: what they said is "签到"
    text = _MENTION.sub(
        lambda m: "" if m.group(1) in bots else m.group(0), str(d.get("content") or "")
    )
    if d.get("mention_everyone"):
        mentions.append(MemberRef("@everyone", "everyone"))
    ref = d.get("message_reference") or {}
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=f"{CHANNEL}:{cid}",
            message_id=str(d["id"]),
            ts=_time(d["timestamp"]),
            sender=sender,
            text=text.strip(),
            kind=_kind(d),
            reply_to=str(ref["message_id"]) if ref.get("message_id") else None,
            mentions=tuple(m for m in mentions if m.platform_id not in bots),
            media=_media(d),
        )
    ]


def _guild_member(t: str, d: dict[str, Any], routes: Routes, now: float) -> list[Event]:
    gid, user = str(d["guild_id"]), d["user"]
    uid = str(user["id"])
    home = routes.home_of(gid)
    if home is None or uid == routes.self_id:
        return []
    group = f"{CHANNEL}:{home}"
    member = MemberRef(uid, str(d.get("nick") or user.get("username") or ""),
                       is_bot=bool(user.get("bot")))  # fmt: skip
    if t == "GUILD_MEMBER_ADD":
        ts = _time(d["joined_at"]) if d.get("joined_at") else now
        return [MemberJoined(PLATFORM, group, f"{gid}:{uid}:{int(ts)}", ts, member)]
    # op_user_id is who did it: the member themself when they left
    op = str(d.get("op_user_id") or uid)
    by = MemberRef(op) if op != uid else None
    return [
        MemberLeft(PLATFORM, group, f"{gid}:{uid}:{int(now)}", now, member,
                   removed_by=by, kicked=by is not None)
    ]  # fmt: skip


def translate(payload: dict[str, Any], routes: Routes, *, now: float) -> list[Event]:
    """Internal events for one payload (gateway frame or webhook body).

    ``now`` times what carries no time of its own (guild departures).
    """
    if payload.get("op") != 0 or not isinstance(payload.get("d"), dict):
        return []  # hello, heartbeat acks, validation: the connection's own business
    t, d = payload.get("t"), payload["d"]
    if t == "READY":
        routes.self_id = str(d["user"]["id"])
        return []
    if t == "GROUP_AT_MESSAGE_CREATE":
        return _group_message(d)
    if t in GUILD_MESSAGES:
        return _guild_message(d, routes)
    if t in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE"):
        return _guild_member(t, d, routes, now)
    if t == "GROUP_ADD_ROBOT":
        # the bot was added to a group: the group exists for shequn from now on (its
        # name is not told to the bot). Members joining a QQ group are never told.
        ts = _time(d["timestamp"])
        return [GroupSeen(PLATFORM, f"{GROUP}:{d['group_openid']}", "", ts, "qq_group")]
    if t in ("GUILD_CREATE", "GUILD_UPDATE"):
        return []  # guild names are not groups; channels are (CHANNEL_CREATE)
    if t in ("CHANNEL_CREATE", "CHANNEL_UPDATE") and d.get("type") == 0:  # text channels
        routes.channel_guild[str(d["id"])] = str(d["guild_id"])
        return [GroupSeen(PLATFORM, f"{CHANNEL}:{d['id']}", str(d.get("name") or ""), None,
                          "qq_channel")]  # fmt: skip
    # GROUP_DEL_ROBOT (the bot removed), C2C and direct messages, reactions: nothing
    return []
