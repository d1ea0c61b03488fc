"""DiscordChatExporter JSON (one channel or thread per file).

The export puts ``guild`` and ``channel`` before ``messages``, so those are read from
the head and the messages are streamed with ijson's native ``items`` path, one at a
time. The group is the channel (threads are channels too); its name is
``guild / channel`` (``guild / parent / thread`` for threads).

``Default`` and ``Reply`` messages become posts (a reply through ``reference``);
``GuildMemberJoin`` is a join and a system message; ``RecipientAdd`` /
``RecipientRemove`` (group DMs) are invites and removals; every other type
(``ThreadCreated``, ``ChannelPinnedMessage``, boosts, calls ...) is a system message.
Bots count as staff, and so does whoever pins. Reactions carry only a count unless
the exporter listed who reacted. ``exportedAt``, ``roles``, ``components`` and
``inlineEmojis`` appear only in newer exporter versions and are not needed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import ijson

from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MessageKind,
    MessagePosted,
    ReactionAdded,
)
from shequn.importers.base import JSON_BUF_SIZE, ImportFormatError, Source

__all__ = ["DiscordImporter"]

PLATFORM = "discord"

#: Message types that are people (or bots) talking; every other type is a system event.
_CHAT_TYPES = frozenset(
    {"Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "ThreadStarterMessage"}
)
_IMAGE_EXT = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "heic", "avif"})
_VIDEO_EXT = frozenset({"mp4", "mov", "webm", "mkv", "avi", "m4v", "wmv", "flv"})
_URL = re.compile(r"https?://", re.IGNORECASE)
_HEAD_KEYS = frozenset(
    {"guild.id", "guild.name", "channel.id", "channel.name", "channel.type", "channel.category"}
)
_EXPECTED = "DiscordChatExporter JSON: guild{id,name}, channel{id,name}, messages[]"


def _ts(value: Any) -> float:
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} is not an ISO time")
    t = dt.datetime.fromisoformat(value)
    if t.tzinfo is None:  # the exporter always writes an offset; if not, it is UTC
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _ref(user: Any, *, operator: bool = False) -> MemberRef:
    if not isinstance(user, dict) or user.get("id") in (None, ""):
        raise ValueError("author/mention without id")
    name = user.get("nickname") or user.get("name") or ""
    bot = bool(user.get("isBot"))
    return MemberRef(str(user["id"]), str(name), is_bot=bot, is_operator=bot or operator)


def _attachment_kind(attachments: list[Any]) -> MessageKind:
    kinds = set()
    for a in attachments:
        name = str(a.get("fileName") or a.get("url") or "") if isinstance(a, dict) else ""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kinds.add(
            MessageKind.IMAGE
            if ext in _IMAGE_EXT
            else MessageKind.VIDEO
            if ext in _VIDEO_EXT
            else MessageKind.FILE
        )
    return kinds.pop() if len(kinds) == 1 else MessageKind.FILE


class _Channel:
    __slots__ = ("gid",)

    def __init__(self, gid: str) -> None:
        self.gid = gid

    def convert(self, m: dict[str, Any]) -> Iterator[Event]:
        mid = m["id"]
        if mid in (None, ""):
            raise ValueError("message without id")
        mid = str(mid)
        ts = _ts(m.get("timestamp"))
        mtype = str(m.get("type") or "Default")
        content = m.get("content") or ""
        if not isinstance(content, str):
            raise ValueError("content is not a string")
        mentioned = (_ref(u) for u in m.get("mentions") or ())
        mentions = tuple({r.platform_id: r for r in mentioned}.values())
        if mtype not in _CHAT_TYPES:
            yield from self._system(m, mid, ts, mtype, content, mentions)
            return
        author = _ref(m.get("author"))
        attachments = m.get("attachments") or []
        kind = MessageKind.TEXT
        if not content:
            embeds = m.get("embeds") or []
            if attachments:
                kind = _attachment_kind(attachments)
            elif m.get("stickers"):
                kind = MessageKind.STICKER
                content = str(m["stickers"][0].get("name") or "")
            elif embeds and isinstance(embeds[0], dict):  # bot cards: keep their title
                content = str(embeds[0].get("title") or embeds[0].get("description") or "")
                kind = MessageKind.LINK if embeds[0].get("url") else MessageKind.TEXT
        if kind is MessageKind.TEXT and _URL.search(content):
            kind = MessageKind.LINK
        ref = m.get("reference")
        reply = ref.get("messageId") if isinstance(ref, dict) else None
        yield MessagePosted(
            PLATFORM,
            self.gid,
            mid,
            ts,
            author,
            content,
            kind,
            str(reply) if reply is not None else None,
            mentions,
            False,
            m.get("timestampEdited") is not None,
        )
        yield from self._reactions(m, mid)

    def _system(
        self,
        m: dict[str, Any],
        mid: str,
        ts: float,
        mtype: str,
        content: str,
        mentions: tuple[MemberRef, ...],
    ) -> Iterator[Event]:
        actor = _ref(m.get("author"), operator=mtype == "ChannelPinnedMessage")
        yield MessagePosted(
            PLATFORM, self.gid, mid, ts, actor, content or mtype, MessageKind.SYSTEM,
            mentions=mentions,
        )  # fmt: skip
        if mtype == "GuildMemberJoin":
            yield MemberJoined(PLATFORM, self.gid, mid, ts, actor)
        elif mtype == "RecipientAdd":
            for i, who in enumerate(mentions or (actor,)):
                inviter = actor if who.platform_id != actor.platform_id else None
                method = JoinMethod.INVITED if inviter else JoinMethod.UNKNOWN
                yield MemberJoined(PLATFORM, self.gid, f"{mid}:{i}", ts, who, inviter, method)
        elif mtype == "RecipientRemove":
            for i, who in enumerate(mentions or (actor,)):
                by = actor if who.platform_id != actor.platform_id else None
                yield MemberLeft(PLATFORM, self.gid, f"{mid}:{i}", ts, who, by)
        yield from self._reactions(m, mid)

    def _reactions(self, m: dict[str, Any], mid: str) -> Iterator[Event]:
        for r in m.get("reactions") or ():
            emoji = r.get("emoji") or {}
            name = str(emoji.get("name") or emoji.get("id") or "?")
            count = int(r.get("count", 1))
            users = r.get("users") or []
            if users and len(users) == count:  # newer exporters list who reacted
                for u in users:
                    yield ReactionAdded(PLATFORM, self.gid, mid, name, 1, _ref(u))
            else:
                yield ReactionAdded(PLATFORM, self.gid, mid, name, count)


class DiscordImporter:
    name: ClassVar[str] = "discord"
    label: ClassVar[str] = "DiscordChatExporter JSON"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head.lstrip().startswith(b"{"):
            return False
        return b'"guild"' in head and b'"channel"' in head and b'"messages"' in head

    def read(self, source: Source) -> Iterator[Event]:
        path = source.path
        head = self._head_meta(path)
        gid = head["channel.id"]
        yield GroupSeen(
            PLATFORM, gid, source.group_name or _group_name(head), kind=head.get("channel.type", "")
        )
        chan = _Channel(gid)
        f = source.open()
        try:
            for n, m in enumerate(
                ijson.items(f, "messages.item", use_float=True, buf_size=JSON_BUF_SIZE)
            ):
                try:
                    if not isinstance(m, dict):
                        raise TypeError("message is not an object")
                    yield from chan.convert(m)
                except (KeyError, TypeError, ValueError, AttributeError) as e:
                    mid = m.get("id") if isinstance(m, dict) else None
                    raise ImportFormatError(
                        path,
                        f"message #{n} (id={mid}) does not parse ({type(e).__name__}: {e})",
                        offset=f.pos,
                        expected="message fields id, type, timestamp, author{id,name}",
                    ) from None
        except ijson.JSONError as e:
            raise ImportFormatError(
                path,
                f"broken JSON: {e}",
                offset=f.pos,
                expected="a complete DiscordChatExporter file",
            ) from None
        finally:
            f.close()

    @staticmethod
    def _head_meta(path: Path) -> dict[str, str]:
        """Guild and channel fields, read from the bytes before ``messages``."""
        meta: dict[str, str] = {}
        found = False
        with open(path, "rb") as f:
            try:
                for prefix, event, value in ijson.parse(f):
                    if prefix in _HEAD_KEYS and event in ("string", "number"):
                        meta[prefix] = str(value)
                    elif prefix == "messages" and event == "start_array":
                        found = True
                        break
            except ijson.JSONError as e:
                raise ImportFormatError(
                    path,
                    f"broken JSON before the messages: {e}",
                    offset=f.tell(),
                    expected=_EXPECTED,
                ) from None
        if not found or "channel.id" not in meta:
            missing = "messages[]" if not found else "channel.id"
            raise ImportFormatError(path, f"no {missing} before the messages", expected=_EXPECTED)
        return meta


def _group_name(head: dict[str, str]) -> str:
    channel = head.get("channel.name") or head["channel.id"]
    parts = [head.get("guild.name", "")]
    if "Thread" in head.get("channel.type", ""):  # a thread lives under its channel
        parts.append(head.get("channel.category", ""))
    parts.append(channel)
    return " / ".join(p for p in parts if p)
