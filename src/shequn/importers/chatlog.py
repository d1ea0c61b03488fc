"""sjzar/chatlog output: its JSON message list, or its CSV.

JSON (``/api/v1/chatlog?format=json``) is an array of messages ``seq, time (RFC 3339),
talker, talkerName, isChatRoom, sender, senderName, isSelf, type, subType, content,
contents?``, streamed item by item; ``seq`` (10-digit time + 3-digit counter) is the
message key. CSV is ``Time,SenderName,Sender,TalkerName,Talker,Content`` with local
times and no type: the kind is read off chatlog's plain-text rendering, and the key
is a hash of what the row says. Either may hold several chats (``talker``); each is
its own group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import ijson

from shequn.events import Event, GroupSeen, MemberRef, MessageKind
from shequn.importers.base import ContentKeys, ImportFormatError, Source
from shequn.importers.wechat_common import (
    PLATFORM,
    WeChatGroup,
    content_kind,
    csv_rows,
    header_columns,
    message_kind,
    message_text,
)

CSV_COLUMNS = ("Time", "SenderName", "Sender", "TalkerName", "Talker", "Content")
_SYSTEM_SENDER = "系统消息"
_JSON_KEYS = (b'"talker"', b'"seq"', b'"sender"')


def _contents_text(type_: int, subtype: int, content: str, contents: Any) -> str:
    """A share's text from ``contents`` (title and link) when ``content`` is empty."""
    if content or not isinstance(contents, dict):
        return message_text(type_, subtype, content)
    title = str(contents.get("title") or "")
    url = str(contents.get("url") or "") if subtype in (4, 5, 33, 36, 51) else ""
    return " ".join(p for p in (title, url) if p)


def _unquote(text: str) -> str:
    """A reply's own text: chatlog renders the quoted message first, as ``> `` lines."""
    if not text.startswith("> "):
        return text
    lines = text.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("> "):
        i += 1
    return "\n".join(lines[i:])


class _Chats:
    """The groups met so far in a file, each announced once before its first message."""

    def __init__(self) -> None:
        self.groups: dict[str, WeChatGroup] = {}

    def get(self, talker: str, name: str, kind: str) -> tuple[WeChatGroup, GroupSeen | None]:
        group = self.groups.get(talker)
        if group is not None:
            return group, None
        group = self.groups[talker] = WeChatGroup(talker)
        return group, GroupSeen(PLATFORM, talker, name or talker, kind=kind)

    def finish(self) -> Iterator[Event]:
        for group in self.groups.values():
            yield from group.finish()


class ChatlogImporter:
    name: ClassVar[str] = "chatlog"
    label: ClassVar[str] = "sjzar/chatlog JSON or CSV"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"["):
            return all(k in head for k in _JSON_KEYS) and b'"talkerName"' in head
        first = text.split(b"\n", 1)[0].decode("utf-8", "ignore").strip()
        return set(CSV_COLUMNS) <= {f.strip() for f in first.split(",")}

    def read(self, source: Source) -> Iterator[Event]:
        with open(source.path, "rb") as f:
            start = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        try:
            if start == b"[":
                yield from self._json(source)
            elif start == b"{":
                raise ImportFormatError(
                    source.path,
                    "a JSON object, not chatlog's message list",
                    offset=0,
                    expected="a JSON array (/api/v1/chatlog?format=json)",
                )
            else:
                yield from self._csv(source)
        finally:
            source.close()

    # -- JSON -------------------------------------------------------------------

    def _json(self, source: Source) -> Iterator[Event]:
        path = source.path
        f = source.open()
        chats = _Chats()
        n = 0
        try:
            for n, item in enumerate(ijson.items(f, "item", use_float=True), 1):
                if not isinstance(item, dict):
                    raise ImportFormatError(
                        path, f"item {n} is not an object", offset=f.pos, expected="message objects"
                    )
                try:
                    yield from self._json_message(chats, item, source.zone)
                except KeyError as e:
                    raise ImportFormatError(
                        path,
                        f"message {n} (seq={item.get('seq')!r}) has no field {e}",
                        offset=f.pos,
                        expected="chatlog message fields seq, time, talker, sender, type",
                    ) from None
                except (TypeError, ValueError) as e:
                    raise ImportFormatError(
                        path,
                        f"message {n} (seq={item.get('seq')!r}) does not parse: {e}",
                        offset=f.pos,
                        expected="chatlog message fields seq, time, talker, sender, type",
                    ) from None
        except ijson.JSONError as e:
            problem = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ImportFormatError(
                path,
                f"broken JSON after {n} messages: {problem}",
                offset=f.pos,
                expected="a complete JSON array of chatlog messages",
            ) from None
        yield from chats.finish()

    @staticmethod
    def _json_message(chats: _Chats, m: dict[str, Any], zone: dt.tzinfo) -> Iterator[Event]:
        seq = m["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError(f"seq {seq!r} is not an integer")
        talker = m["talker"]
        if not isinstance(talker, str) or not talker:
            raise ValueError(f"talker {talker!r} is not a chat id")
        when = dt.datetime.fromisoformat(str(m["time"]))
        if when.tzinfo is None:
            when = when.replace(tzinfo=zone)
        type_ = m["type"]
        if not isinstance(type_, int):
            raise ValueError(f"type {type_!r} is not an integer")
        subtype = m.get("subType") or 0
        if not isinstance(subtype, int):
            raise ValueError(f"subType {subtype!r} is not an integer")
        room = bool(m.get("isChatRoom"))
        group, seen = chats.get(
            talker, str(m.get("talkerName") or ""), "chatroom" if room else "private"
        )
        if seen is not None:
            yield seen
        content = m.get("content")
        text = _contents_text(
            type_, subtype, content if isinstance(content, str) else "", m.get("contents")
        )
        kind = message_kind(type_, subtype, text)
        sender: MemberRef | None = None
        wxid = str(m.get("sender") or "")
        if kind is not MessageKind.SYSTEM and wxid != _SYSTEM_SENDER:
            sender = group.sender(
                wxid, str(m.get("senderName") or ""), is_self=m.get("isSelf") is True
            )
        yield from group.post(str(seq), when.timestamp(), sender, text, kind)

    # -- CSV --------------------------------------------------------------------

    def _csv(self, source: Source) -> Iterator[Event]:
        path = source.path
        zone = source.zone
        rows = csv_rows(source)
        first = next(rows, None)
        if first is None:
            raise ImportFormatError(path, "empty file", line=1, expected=",".join(CSV_COLUMNS))
        cols = header_columns(path, first[1], CSV_COLUMNS)
        c_time, c_name, c_sender = cols["Time"], cols["SenderName"], cols["Sender"]
        c_tname, c_talker, c_text = cols["TalkerName"], cols["Talker"], cols["Content"]
        width = len(first[1])
        chats = _Chats()
        keys = ContentKeys()
        for line, row in rows:
            if len(row) != width:
                if not any(f.strip() for f in row):
                    continue
                raise ImportFormatError(
                    path,
                    f"row has {len(row)} fields, the header {width}",
                    line=line,
                    expected=f"{width} comma-separated fields",
                )
            stamp = row[c_time].strip()
            try:
                when = dt.datetime.fromisoformat(stamp)
            except ValueError:
                raise ImportFormatError(
                    path, f"Time {stamp!r} is not a time", line=line, expected="YYYY-MM-DD HH:MM:SS"
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=zone)
            talker = row[c_talker].strip()
            if not talker:
                raise ImportFormatError(path, "empty Talker", line=line, expected="a chat id")
            room = talker.endswith("@chatroom")
            group, seen = chats.get(talker, row[c_tname].strip(), "chatroom" if room else "private")
            if seen is not None:
                yield seen
            wxid, content = row[c_sender].strip(), row[c_text]
            mid = keys.key(talker, stamp, wxid, content)
            if wxid == _SYSTEM_SENDER:
                text, kind, sender = content, MessageKind.SYSTEM, None
            else:
                text = _unquote(content)
                kind = content_kind(text)
                sender = group.sender(wxid, row[c_name].strip())
            yield from group.post(mid, when.timestamp(), sender, text, kind)
        yield from chats.finish()
