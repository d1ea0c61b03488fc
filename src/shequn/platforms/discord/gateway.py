"""Discord gateway dispatches (``{"op": 0, "t": ..., "d": ...}``) → internal events.

**A group is a guild text channel.** Everything shequn posts without a message to
answer (a warning, a check-in confirmation, a reminder, the entry gate's question)
goes to ``group_id``, and the member who broke a rule in ``#general`` should read the
warning in ``#general``, not in a channel chosen for the whole server. So per-group
settings, strikes, check-ins and analytics are per channel, as they are per chat on
Telegram and QQ. Sanctions are per server because Discord's are: a timeout, kick or
ban in one channel holds in all of them (the adapter finds the channel's guild).
A member spamming the same text across channels is caught by the flood watch's
``duplicate_groups`` rule rather than by one channel's strike count.

Two refinements follow from that choice:

* Threads (and forum posts) belong to their parent channel's group. A message in a
  thread gets the id ``<thread id>/<message id>``: the thread is where it can be
  deleted or replied to, and the composite id carries that without any state.
* Joins, leaves and renames happen to the guild, not to a channel; they are given to
  the guild's *home channel*: the one configured for it, else the guild's system
  channel (where Discord itself posts "X joined"), else its first text channel.

:class:`GatewayState` is what the translation remembers of guilds (channels, threads,
owners, staff roles, members' names); :func:`translate` reads and updates it. Facts
only the REST API knows (which invite a newcomer used, whether a departure was a
kick) are looked up by the adapter and handed in as :class:`Facts`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shequn.events import (
    DirectMessage,
    Event,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
    ReactionAdded,
    direct_chat,
)
from shequn.platforms.discord.slash import slash_text
from shequn.platforms.discord.state import PLATFORM, GatewayState, display_name, snowflake_time

__all__ = ["Facts", "translate"]

#: message types that are members talking; joins, pins, boosts, thread starters are not
CHAT_TYPES = (0, 19, 20, 23)  # DEFAULT, REPLY, CHAT_INPUT_COMMAND, CONTEXT_MENU_COMMAND
FORWARD = 1  # message_reference.type
IS_VOICE_MESSAGE = 1 << 13  # message flag
_URL = re.compile(r"https?://\S", re.I)


def _time(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


@dataclass(frozen=True)
class Facts:
    """What the adapter learned over REST for one dispatch."""

    invite: dict[str, Any] | None = None  # the invite a newcomer used
    removal: dict[str, Any] | None = None  # the audit-log entry of a kick or ban


def _kind(msg: dict[str, Any]) -> MessageKind:
    if msg.get("poll"):
        return MessageKind.POLL
    if msg.get("sticker_items") or msg.get("stickers"):
        return MessageKind.STICKER
    attachments = msg.get("attachments") or []
    if attachments:
        if int(msg.get("flags") or 0) & IS_VOICE_MESSAGE:
            return MessageKind.VOICE
        ctype = str(attachments[0].get("content_type") or "")
        if ctype.startswith("image/"):
            return MessageKind.IMAGE
        if ctype.startswith("video/"):
            return MessageKind.VIDEO
        return MessageKind.FILE  # audio files too, as on Telegram
    content = str(msg.get("content") or "")
    if _URL.search(content):
        return MessageKind.LINK
    embeds = msg.get("embeds") or []
    if embeds and not content:
        # a bot's rich embed, or a link preview left after the text was edited away
        return MessageKind.LINK if embeds[0].get("url") else MessageKind.OTHER
    return MessageKind.TEXT


def _media(msg: dict[str, Any]) -> tuple[str, ...]:
    """The CDN URLs of the message's images, for :meth:`DiscordAdapter.fetch_media`."""
    return tuple(
        str(a["url"])
        for a in msg.get("attachments") or []
        if str(a.get("content_type") or "").startswith("image/") and a.get("url")
    )


def _mentions(msg: dict[str, Any], state: GatewayState) -> tuple[MemberRef, ...]:
    """Users, then ``@everyone``/``@here``, then roles (``&<role id>``): each counts."""
    refs = [
        MemberRef(str(u["id"]), display_name(u, u.get("member")), is_bot=bool(u.get("bot")))
        for u in msg.get("mentions") or []
    ]
    if msg.get("mention_everyone"):
        content = str(msg.get("content") or "")
        for who in ("@everyone", "@here"):
            if who in content:
                refs.append(MemberRef(who, who[1:]))
        if not any(r.platform_id.startswith("@") for r in refs):
            refs.append(MemberRef("@everyone", "everyone"))
    for rid in msg.get("mention_roles") or []:
        refs.append(MemberRef(f"&{rid}", state.role_names.get(str(rid), "")))
    return tuple(refs)


def _direct(d: dict[str, Any], state: GatewayState) -> list[Event]:
    """A member's private message to the bot (a DM: no ``guild_id``)."""
    author = d.get("author") or {}
    text = str(d.get("content") or "")
    if not author.get("id") or author.get("bot") or not text.strip():
        return []
    uid = str(author["id"])
    state.dm_channels[uid] = str(d["channel_id"])  # where to answer, without a lookup
    sender = MemberRef(uid, display_name(author, None))
    ts = _time(d.get("timestamp"))
    return [
        DirectMessage(PLATFORM, direct_chat(uid), str(d["id"]),
                      ts if ts is not None else snowflake_time(d["id"]), sender, text)
    ]  # fmt: skip


def _message(d: dict[str, Any], state: GatewayState, *, edited: bool) -> list[Event]:
    if "guild_id" not in d and not edited and int(d.get("type", 0)) in CHAT_TYPES:
        return _direct(d, state)
    if "guild_id" not in d or int(d.get("type", 0)) not in CHAT_TYPES:
        return []  # system messages (joins, pins, boosts, thread starters), DM edits
    gid, cid = str(d["guild_id"]), str(d["channel_id"])
    state.channel_guild.setdefault(cid, gid)
    author, member = d["author"], d.get("member")
    sender = state.member(gid, author, member)
    if d.get("webhook_id"):  # integrations post as webhooks: not a member
        sender = MemberRef(str(author["id"]), sender.name, is_bot=True)
    elif member is not None:
        state.names[(gid, sender.platform_id)] = sender.name
    ref = d.get("message_reference") or {}
    body, forwarded, reply_to = d, False, None
    if int(ref.get("type", 0)) == FORWARD:
        snaps = d.get("message_snapshots") or [{}]
        body, forwarded = snaps[0].get("message") or {}, True
    elif ref.get("message_id"):
        ref_channel = str(ref.get("channel_id") or cid)
        reply_to = state.message_id(ref_channel, str(ref["message_id"]))
    ts = _time(d.get("edited_timestamp")) if edited else _time(d.get("timestamp"))
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=state.group_of(cid),
            message_id=state.message_id(cid, str(d["id"])),
            ts=ts if ts is not None else snowflake_time(d["id"]),
            sender=sender,
            text=str(body.get("content") or ""),
            kind=_kind(body),
            reply_to=reply_to,
            mentions=_mentions(d, state),
            forwarded=forwarded,
            edited=edited,
            media=_media(body),
        )
    ]


def _member_add(d: dict[str, Any], state: GatewayState, facts: Facts) -> list[Event]:
    gid, user = str(d["guild_id"]), d["user"]
    member = state.member(gid, user, d)
    state.names[(gid, member.platform_id)] = member.name
    home = state.home_of(gid)
    if home is None or user.get("id") == state.self_id:
        return []
    ts = _time(d.get("joined_at")) or snowflake_time(user["id"])
    invite, inviter, method = facts.invite, None, JoinMethod.UNKNOWN
    if invite is not None and isinstance(invite.get("inviter"), dict):
        inv = invite["inviter"]
        inviter, method = state.member(gid, inv, None), JoinMethod.INVITED
    elif invite is not None:  # the vanity URL, or an invite whose creator is gone
        method = JoinMethod.LINK
    return [
        MemberJoined(PLATFORM, home, f"{gid}:{user['id']}:{int(ts)}", ts, member,
                     inviter=inviter, method=method,
                     invite=str(invite["code"]) if invite and invite.get("code") else None)
    ]  # fmt: skip


def _member_remove(d: dict[str, Any], state: GatewayState, now: float, facts: Facts) -> list[Event]:
    gid, user = str(d["guild_id"]), d["user"]
    name = state.names.pop((gid, str(user["id"])), None)
    home = state.home_of(gid)
    if home is None or user.get("id") == state.self_id:
        return []
    member = MemberRef(str(user["id"]), name or display_name(user), is_bot=bool(user.get("bot")))
    entry = facts.removal
    if entry is not None:
        ts = snowflake_time(entry["id"])
        by = MemberRef(str(entry["user_id"])) if entry.get("user_id") else None
        return [
            MemberLeft(PLATFORM, home, f"{gid}:{user['id']}:{entry['id']}", ts, member,
                       removed_by=by, kicked=True)
        ]  # fmt: skip
    return [MemberLeft(PLATFORM, home, f"{gid}:{user['id']}:{int(now)}", now, member)]


def _member_update(d: dict[str, Any], state: GatewayState, now: float) -> list[Event]:
    gid, user = str(d["guild_id"]), d["user"]
    key = (gid, str(user["id"]))
    old, new = state.names.get(key), display_name(user, d)
    state.names[key] = new
    home = state.home_of(gid)
    if old is None or old == new or home is None:
        return []  # roles, avatars, timeouts; or a name we never knew
    member = state.member(gid, user, d)
    return [MemberRenamed(PLATFORM, home, f"{gid}:{user['id']}:{int(now * 1000)}", now, member,
                          old, new)]  # fmt: skip


def _reaction(d: dict[str, Any], state: GatewayState) -> list[Event]:
    if "guild_id" not in d:
        return []
    gid, cid = str(d["guild_id"]), str(d["channel_id"])
    emoji = d.get("emoji") or {}
    name = str(emoji.get("name") or "")
    if emoji.get("id"):  # a custom emoji, written the way Discord's markup writes it
        name = f"<{'a' if emoji.get('animated') else ''}:{name}:{emoji['id']}>"
    member = d.get("member")
    who = (
        state.member(gid, member["user"], member)
        if isinstance(member, dict) and isinstance(member.get("user"), dict)
        else MemberRef(str(d["user_id"]))
    )
    return [
        ReactionAdded(PLATFORM, state.group_of(cid), state.message_id(cid, str(d["message_id"])),
                      name, member=who)
    ]  # fmt: skip


def _interaction(d: dict[str, Any], state: GatewayState) -> list[Event]:
    text = slash_text(d)
    member = d.get("member")
    if text is None or not isinstance(member, dict):
        return []
    gid, cid = str(d["guild_id"]), str(d["channel_id"])
    if isinstance(d.get("channel"), dict):
        state.learn_channel(d["channel"], gid)
    return [
        MessagePosted(
            platform=PLATFORM,
            group_id=state.group_of(cid),
            # an interaction is no message; its id is a snowflake all the same, and a
            # delete of it is answered "Unknown Message", which the adapter takes as done
            message_id=state.message_id(cid, str(d["id"])),
            ts=snowflake_time(d["id"]),
            sender=state.member(gid, member["user"], member),
            text=text,
        )
    ]


def translate(
    frame: dict[str, Any], state: GatewayState, *, now: float, facts: Facts | None = None
) -> list[Event]:
    """Internal events for one gateway frame; ``state`` learns from it too.

    ``now`` times the dispatches that carry no time of their own (leaves, renames).
    """
    if frame.get("op") != 0 or not isinstance(frame.get("d"), dict):
        return []  # heartbeats, hello, reconnect: the gateway's own business
    t, d, facts = frame.get("t"), frame["d"], facts or Facts()
    if t == "READY":
        state.self_id = str(d["user"]["id"])
        return []
    if t in ("GUILD_CREATE", "GUILD_UPDATE"):
        return [*state.learn_guild(d)]
    if t in ("CHANNEL_CREATE", "CHANNEL_UPDATE", "THREAD_CREATE", "THREAD_UPDATE"):
        seen = state.learn_channel(d)
        return [seen] if seen is not None else []
    if t == "THREAD_LIST_SYNC":
        for thread in d.get("threads") or []:
            state.learn_channel(thread, str(d["guild_id"]))
        return []
    if t in ("GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE"):
        state.learn_roles(str(d["guild_id"]), [d["role"]])
        return []
    if t == "MESSAGE_CREATE":
        return _message(d, state, edited=False)
    if t == "MESSAGE_UPDATE":
        # an update without an edit time is Discord adding a link preview: no edit
        if not d.get("edited_timestamp") or "author" not in d:
            return []
        return _message(d, state, edited=True)
    if t == "GUILD_MEMBER_ADD":
        return _member_add(d, state, facts)
    if t == "GUILD_MEMBER_REMOVE":
        return _member_remove(d, state, now, facts)
    if t == "GUILD_MEMBER_UPDATE":
        return _member_update(d, state, now)
    if t == "MESSAGE_REACTION_ADD":
        return _reaction(d, state)
    if t == "INTERACTION_CREATE":
        return _interaction(d, state)
    return []
