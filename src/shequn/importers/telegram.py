"""Telegram Desktop JSON export (``result.json``): one chat, or a whole account.

Streams with ijson's C backend. A single-chat export puts ``name``, ``type`` and
``id`` before ``messages``, so those are read from the head and the messages are
taken with the fast native ``items`` path. A whole-account export (``chats.list[]``,
``left_chats.list[]``) is walked through the event stream so each message is
attributed to the chat around it, still in bounded memory.

Service messages become archive events: ``invite_members`` / ``join_group_by_link``
/ ``join_group_by_request`` → joins (with inviter and method), ``remove_members`` →
leave (self) or kick (by the actor), ``create_group`` and ``pin_message`` mark the
actor as staff. Invitations name the invitees only by display name, so those joins
are held until the end of the chat and matched to the ids their later messages show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import ijson
import orjson

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
from shequn.importers.base import JSON_BUF_SIZE, CountingReader, ImportFormatError, Source

PLATFORM = "telegram"
#: Single-chat exports up to this size are parsed whole (see ``_messages``): as Python
#: objects a file costs about 5x its size, so 64 MiB stays near 350 MB of RSS.
WHOLE_FILE_MAX = 64 * 1024 * 1024

_MEDIA_KIND = {
    "sticker": MessageKind.STICKER,
    "animation": MessageKind.VIDEO,
    "video_file": MessageKind.VIDEO,
    "video_message": MessageKind.VIDEO,
    "voice_message": MessageKind.VOICE,
    "audio_file": MessageKind.FILE,
}
_LINK_ENTITIES = frozenset({"link", "text_link"})


def _flatten(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in text)
    return ""


class _Chat:
    """State for one chat while its messages stream past."""

    __slots__ = ("gid", "ids_by_name", "pending_invites", "refs", "tz")

    def __init__(self, gid: str, tz: dt.tzinfo) -> None:
        self.gid = gid
        self.tz = tz
        self.ids_by_name: dict[str, str] = {}
        self.refs: dict[tuple[Any, Any, bool], MemberRef] = {}
        self.pending_invites: list[tuple[str, float, str, MemberRef | None, JoinMethod]] = []

    def ts(self, m: dict[str, Any]) -> float:
        unix = m.get("date_unixtime")
        if unix is not None:
            return float(unix)
        date = m.get("date")
        if not isinstance(date, str):
            raise ValueError("message without date")
        return dt.datetime.fromisoformat(date).replace(tzinfo=self.tz).timestamp()

    def ref(self, name: Any, pid: Any, *, operator: bool = False) -> MemberRef:
        if pid is not None:  # the common case: a sender seen before under this name
            cached = self.refs.get((name, pid, operator))
            if cached is not None:
                return cached
        ref = self._new_ref(name, pid, operator)
        if pid is not None:
            self.refs[(name, pid, operator)] = ref
        return ref

    def _new_ref(self, name: Any, pid: Any, operator: bool) -> MemberRef:
        name = name if isinstance(name, str) else ""
        if pid is None:
            pid = self.ids_by_name.get(name) or f"name:{name}"
        else:
            pid = str(pid)
            if name:
                self.ids_by_name[name] = pid
        return MemberRef(pid, name, is_operator=operator)

    def convert(self, m: dict[str, Any]) -> list[Event]:
        """The events one exported message stands for (a list: cheaper than a generator)."""
        if m.get("type") == "service":
            return list(self._service(m))
        mid = str(m["id"])
        unix = m.get("date_unixtime")
        ts = float(unix) if unix is not None else self.ts(m)
        frm, fid = m.get("from"), m.get("from_id")
        sender = self.refs.get((frm, fid, False)) or self.ref(frm, fid)
        text = m.get("text", "")
        if type(text) is not str:
            text = _flatten(text)
        media = m.get("media_type")
        if media is not None:
            kind = _MEDIA_KIND.get(media, MessageKind.FILE)
        elif "photo" in m:
            kind = MessageKind.IMAGE
        elif "poll" in m:
            kind = MessageKind.POLL
            text = text or str(m["poll"].get("question", ""))
        elif "contact_information" in m:
            kind = MessageKind.CARD
        elif "location_information" in m:
            kind = MessageKind.LOCATION
        elif "file" in m:
            kind = MessageKind.FILE
        else:
            kind = MessageKind.TEXT
        mentions: tuple[MemberRef, ...] = ()
        entities = m.get("text_entities")
        if entities:
            for ent in entities:
                etype = ent.get("type")
                if etype == "plain":
                    continue
                if etype == "mention_name" and ent.get("user_id") is not None:
                    who = MemberRef(f"user{ent['user_id']}", str(ent.get("text", "")))
                    mentions = (*mentions, who)
                elif etype in _LINK_ENTITIES and kind is MessageKind.TEXT:
                    kind = MessageKind.LINK
        reply = m.get("reply_to_message_id")
        out: list[Event] = [
            MessagePosted(
                PLATFORM,
                self.gid,
                mid,
                ts,
                sender,
                text,
                kind,
                str(reply) if reply is not None else None,
                mentions,
                "forwarded_from" in m,
                "edited" in m,
            )
        ]
        for r in m.get("reactions") or ():
            emoji = str(r.get("emoji") or r.get("document_id") or r.get("type") or "?")
            recent = r.get("recent") or []
            count = int(r.get("count", 1))
            if recent and len(recent) == count:
                for who in recent:
                    who_ref = self.ref(who.get("from"), who.get("from_id"))
                    out.append(ReactionAdded(PLATFORM, self.gid, mid, emoji, 1, who_ref))
            else:
                out.append(ReactionAdded(PLATFORM, self.gid, mid, emoji, count))
        return out

    def _service(self, m: dict[str, Any]) -> Iterator[Event]:
        action = m.get("action", "")
        mid = str(m["id"])
        ts = self.ts(m)
        staff = action in ("create_group", "create_channel", "migrate_from_group", "pin_message")
        actor = self.ref(m.get("actor"), m.get("actor_id"), operator=staff)
        yield MessagePosted(PLATFORM, self.gid, mid, ts, actor, action, MessageKind.SYSTEM)
        names = [n for n in (m.get("members") or []) if isinstance(n, str)]
        if action == "invite_members":
            for i, name in enumerate(names):
                self.pending_invites.append((f"{mid}:{i}", ts, name, actor, JoinMethod.INVITED))
        elif action in ("join_group_by_link", "join_group_by_request"):
            method = JoinMethod.LINK if action == "join_group_by_link" else JoinMethod.REQUEST
            yield MemberJoined(PLATFORM, self.gid, mid, ts, actor, None, method)
        elif action == "create_group":
            yield MemberJoined(PLATFORM, self.gid, mid, ts, actor, None, JoinMethod.CREATOR)
            for i, name in enumerate(names):
                if name != actor.name:
                    self.pending_invites.append((f"{mid}:{i}", ts, name, actor, JoinMethod.INVITED))
        elif action == "remove_members":
            for i, name in enumerate(names or [actor.name]):
                if name == actor.name:
                    yield MemberLeft(PLATFORM, self.gid, f"{mid}:{i}", ts, actor)
                else:
                    yield MemberLeft(
                        PLATFORM, self.gid, f"{mid}:{i}", ts, self.ref(name, None), actor
                    )

    def finish(self) -> Iterator[Event]:
        """Joins by invitation, now that names can be matched to ids."""
        for eid, ts, name, inviter, method in self.pending_invites:
            member = self.ref(name, None)
            yield MemberJoined(PLATFORM, self.gid, eid, ts, member, inviter, method)
        self.pending_invites.clear()


class TelegramImporter:
    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram Desktop JSON (result.json)"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head.lstrip().startswith(b"{"):
            return False
        sample = head[:65536]
        account = b'"chats"' in sample and b'"list"' in sample
        single = b'"messages"' in sample and (
            b'"date_unixtime"' in sample or b'"from_id"' in sample
        )
        has_type = b'"type"' in sample and (b'_supergroup"' in sample or b'_group"' in sample
                                           or b'"personal_chat"' in sample or b'"channel"' in sample
                                           or b'"bot_chat"' in sample)  # fmt: skip
        return account or (single and has_type)

    def read(self, source: Source) -> Iterator[Event]:
        path = source.path
        tz = source.zone
        head = self._head_meta(path)
        f = source.open()
        try:
            if head is not None:
                chat = _Chat(str(head["id"]), tz)
                yield GroupSeen(
                    PLATFORM, chat.gid, source.group_name or str(head.get("name") or chat.gid),
                    kind=str(head.get("type", "")),
                )  # fmt: skip
                convert = chat.convert
                for m in self._messages(f, path):
                    try:
                        events = convert(m)
                    except (KeyError, TypeError, ValueError, AttributeError) as e:
                        raise _unparsable(chat, m, path, e) from None
                    yield from events
                yield from chat.finish()
            else:
                yield from self._account(f, path, tz)
        except ijson.JSONError as e:
            raise ImportFormatError(
                path, f"broken JSON: {e}", offset=f.pos, expected="a complete Telegram export"
            ) from None
        finally:
            f.close()

    @staticmethod
    def _messages(f: CountingReader, path: Path) -> Iterable[Any]:
        """The ``messages`` array: parsed whole when small, streamed when large.

        orjson parses twice as fast as ijson's streaming, and a file up to
        :data:`WHOLE_FILE_MAX` costs at most a few hundred MB as Python objects; past
        that, streaming keeps memory flat however large the export.
        """
        if path.stat().st_size > WHOLE_FILE_MAX:
            return ijson.items(f, "messages.item", use_float=True, buf_size=JSON_BUF_SIZE)
        raw = f.read()
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise ImportFormatError(
                path, f"broken JSON: {e.msg}", line=e.lineno, expected="a complete Telegram export"
            ) from None
        messages = doc.get("messages") if isinstance(doc, dict) else None
        if not isinstance(messages, list):
            raise ImportFormatError(path, "no messages list", expected='a "messages": [...] array')
        return messages

    @staticmethod
    def _guarded(chat: _Chat, m: Any, path: Path) -> list[Event]:
        try:
            return chat.convert(m)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise _unparsable(chat, m, path, e) from None

    @staticmethod
    def _head_meta(path: Path) -> dict[str, Any] | None:
        """``name/type/id`` of a single-chat export, read from the first bytes only."""
        meta: dict[str, Any] = {}
        with open(path, "rb") as f:
            try:
                for prefix, event, value in ijson.parse(f, buf_size=16384):
                    if prefix in ("name", "type", "id") and event in ("string", "number"):
                        meta[prefix] = value
                    elif prefix == "messages" and event == "start_array":
                        break
                    elif prefix == "chats":
                        return None
            except ijson.JSONError:
                return None
        return meta if "id" in meta else None

    def _account(self, f: Any, path: Path, tz: dt.tzinfo) -> Iterator[Event]:
        chat: _Chat | None = None
        events = ijson.parse(f, use_float=True, buf_size=JSON_BUF_SIZE)
        for chat_prefix, item in _chat_items(events):
            if chat_prefix == "meta":
                chat = _Chat(str(item.get("id", "")), tz)
                name = str(item.get("name") or chat.gid)
                yield GroupSeen(PLATFORM, chat.gid, name, kind=str(item.get("type", "")))
            elif chat_prefix == "message" and chat is not None:
                yield from self._guarded(chat, item, path)
            elif chat_prefix == "end" and chat is not None:
                yield from chat.finish()
                chat = None


def _unparsable(chat: _Chat, m: Any, path: Path, e: Exception) -> ImportFormatError:
    mid = m.get("id") if isinstance(m, dict) else None
    return ImportFormatError(
        path,
        f"message id={mid} in chat {chat.gid} does not parse ({type(e).__name__}: {e})",
        expected="Telegram message fields id, type, date/date_unixtime",
    )


def _chat_items(events: Iterable[tuple[str, str, Any]]) -> Iterator[tuple[str, Any]]:
    """Walk an account export's parse events: chat metadata, then each message, then end.

    Messages are rebuilt with ijson's object builder one at a time, so memory stays at
    one message however large the chat.
    """
    builder: ijson.ObjectBuilder | None = None
    meta: dict[str, Any] = {}
    meta_sent = False
    for prefix, event, value in events:
        if builder is not None:
            builder.event(event, value)
            if prefix.endswith(".list.item.messages.item") and event == "end_map":
                yield "message", builder.value
                builder = None
            continue
        if prefix.endswith(".list.item.messages.item") and event == "start_map":
            if not meta_sent:
                yield "meta", meta
                meta_sent = True
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
        elif prefix.endswith(".list.item") and event == "start_map" and prefix.count(".") == 2:
            meta, meta_sent = {}, False
        elif prefix.endswith(".list.item") and event == "end_map" and prefix.count(".") == 2:
            if not meta_sent:
                yield "meta", meta
            yield "end", None
        elif (
            prefix.count(".") == 3
            and prefix.rsplit(".", 1)[1] in ("name", "type", "id")
            and event in ("string", "number")
        ):
            meta[prefix.rsplit(".", 1)[1]] = value
