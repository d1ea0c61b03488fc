"""QQ PC 消息管理器 "导出为 txt": one or many chats, local times, no message ids.

The file opens with ``消息记录（此消息记录为文本格式，不支持重新导入）``; each chat is a
section under ``消息分组:`` / ``消息对象:<name>`` between ``====`` rules; each message
is a line ``YYYY-MM-DD H:MM:SS[ AM|PM] nickname(QQ号)`` (or ``nickname<email>``)
after a blank line, its body on the lines that follow. Old QQ versions write UTF-16 LE.

Members are their QQ number (or email); the nickname shown is a name, and a new one
for the same number is a rename. ``系统消息(10000)`` lines report joins and leaves by
nickname only, so those events are held until the end of the file and matched to the
numbers that nickname posts under. With no message ids, a message's key is a hash of
its chat, local time, sender and text (plus its rank among identical ones), so the
same message in two overlapping exports is stored once.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from shequn.events import (
    Event,
    GroupSeen,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
)
from shequn.importers.base import (
    ContentKeys,
    CountingReader,
    ImportFormatError,
    Source,
    decode_text_line,
)

PLATFORM = "qq"
HEADER = "消息记录（此消息记录为文本格式，不支持重新导入）"
_HEADER_UTF16 = "消息记录".encode("utf-16-le")
_SYSTEM_IDS = frozenset({"10000", "1000000"})

_RULE = re.compile(r"^={16,}\s*$")
_MESSAGE_HEAD = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}) (?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?: (?P<ampm>AM|PM))? (?P<who>.*?)"
    r"(?:\((?P<qq>\d{3,12})\)|<(?P<email>[^<>\s@]+@[^<>\s]+)>)\s*$"
)
_INVITE = re.compile(r"^(?P<by>.+?)邀请(?P<who>.+?)加入了?本群")
_JOIN = re.compile(r"^(?P<who>.+?)加入了?本群")
_KICK = re.compile(r"^(?P<who>.+?)被(?P<by>.+?)移出了?本群")
_LEAVE = re.compile(r"^(?P<who>.+?)(?:已)?退出了?本群")
_URL = re.compile(r"https?://|www\.[a-z0-9-]+\.", re.IGNORECASE)
#: Body placeholders QQ writes for what a txt export cannot hold; first match wins.
_PLACEHOLDERS: tuple[tuple[str, MessageKind], ...] = (
    ("[文件]", MessageKind.FILE),
    ("[QQ红包]", MessageKind.RED_PACKET),
    ("[红包]", MessageKind.RED_PACKET),
    ("[语音]", MessageKind.VOICE),
    ("[视频]", MessageKind.VIDEO),
    ("[图片]", MessageKind.IMAGE),
    ("[闪照]", MessageKind.IMAGE),
    ("[表情]", MessageKind.STICKER),
)
_MAX_NAME = 40
_KEY_WINDOW = 8192


def _kind(text: str) -> MessageKind:
    if not text.strip():
        return MessageKind.OTHER
    for token, kind in _PLACEHOLDERS:
        if token in text:
            return kind
    return MessageKind.LINK if _URL.search(text) else MessageKind.TEXT


def _is_utf16(head: bytes) -> bool:
    """UTF-16 LE (old QQ), with or without BOM; UTF-8 text never holds NUL bytes."""
    return head.startswith((b"\xff\xfe", _HEADER_UTF16)) or head[1::2].count(0) > len(head) // 8


def _chat_kind(folder: str) -> str:
    """QQ files group chats under 我的群聊, discussions under 我的讨论组, friends elsewhere."""
    if "讨论组" in folder:
        return "discussion"
    if "群" in folder or not folder:
        return "group"
    return "private"


def _encoding(path: Path) -> str:
    with open(path, "rb") as f:
        return "utf-16-le" if _is_utf16(f.read(512)) else "utf-8"


def _utf16_lines(raw: CountingReader) -> Iterator[bytes]:
    """Split UTF-16 LE bytes at ``\\n\\0`` on code-unit boundaries, streaming."""
    buf = b""
    while chunk := raw.read(1 << 16):
        buf += chunk
        start = 0
        while True:
            i = buf.find(b"\n\x00", start)
            while i != -1 and (i - start) % 2:
                i = buf.find(b"\n\x00", i + 1)
            if i == -1:
                break
            yield buf[start : i + 2]
            start = i + 2
        buf = buf[start:]
    if buf:
        yield buf


def _lines(source: Source) -> Iterator[tuple[int, str]]:
    path = source.path
    encoding = _encoding(path)
    raw = source.open()
    lines = _utf16_lines(raw) if encoding == "utf-16-le" else io.BufferedReader(raw)
    for n, line in enumerate(lines, 1):
        text = decode_text_line(line, path, n, encoding)
        if n == 1:
            text = text.removeprefix("\ufeff")
        yield n, text.rstrip("\r\n")


@dataclass(slots=True)
class _Message:
    gid: str
    ts: float
    local: str  # wall-clock time as written, for the key (independent of --tz)
    sender_id: str
    name: str
    body: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    """A join or leave named by nickname, resolved once the whole file was read."""

    gid: str
    mid: str  # the system message that reported it
    ts: float
    who: str
    by: str | None
    join: bool
    method: JoinMethod = JoinMethod.UNKNOWN


class _Names:
    """Nickname → QQ number, per chat and for the whole file; ``None`` when ambiguous."""

    def __init__(self) -> None:
        self.by_chat: dict[str, dict[str, str | None]] = {}
        self.everywhere: dict[str, str | None] = {}
        self.ids: set[str] = set()
        #: (chat, number) → the nickname its latest message showed. Members found through
        #: a system line or a mention carry it: the archive takes the latest name it is
        #: given as the member's name, and joins are only sent at the end of the file.
        self.display: dict[tuple[str, str], str] = {}

    def learn(self, gid: str, name: str, sid: str) -> None:
        self.ids.add(sid)
        if not name:
            return
        self.display[(gid, sid)] = name
        for table in (self.by_chat.setdefault(gid, {}), self.everywhere):
            known = table.get(name, sid)
            table[name] = sid if known == sid else None

    def lookup(self, gid: str, name: str) -> str | None:
        chat = self.by_chat.get(gid, {})
        if name in chat:
            return chat[name]
        return self.everywhere.get(name)

    def ref(self, gid: str, name: str) -> MemberRef:
        sid = self.lookup(gid, name)
        if sid is None and name in self.ids:
            sid = name  # the line shows the number itself
        if sid is None:
            return MemberRef(f"name:{name}", name)
        return MemberRef(sid, self.display.get((gid, sid), name))

    def mentions(self, gid: str, text: str) -> tuple[MemberRef, ...]:
        """``@nickname`` → the longest known nickname at each ``@``."""
        found: dict[str, MemberRef] = {}
        pos = text.find("@")
        while pos != -1:
            for end in range(min(len(text), pos + 1 + _MAX_NAME), pos + 1, -1):
                name = text[pos + 1 : end]
                sid = self.lookup(gid, name)
                if sid is not None:
                    found.setdefault(sid, MemberRef(sid, self.display.get((gid, sid), name)))
                    break
            pos = text.find("@", pos + 1)
        return tuple(found.values())


class QQTxtImporter:
    name: ClassVar[str] = "qq"
    label: ClassVar[str] = "QQ 消息管理器 txt export"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        if _is_utf16(head):
            text = head[: len(head) // 2 * 2].decode("utf-16-le", "ignore")
        else:
            text = head.decode("utf-8", "ignore")
        return text.lstrip("\ufeff \t\r\n").startswith("消息记录") and "消息对象:" in text

    def read(self, source: Source) -> Iterator[Event]:
        try:
            yield from _Reader(source).events()
        finally:
            source.close()


class _Reader:
    """One pass over the file: sections, message heads and bodies, in order."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.path = source.path
        self.zone = source.zone
        self.names = _Names()
        self.keys = ContentKeys()
        self.last_name: dict[tuple[str, str], str] = {}
        self.pending: list[_Pending] = []

    def events(self) -> Iterator[Event]:
        path = self.path
        seen_header = False
        gid: str | None = None
        folder = ""
        msg: _Message | None = None
        after_rule = False
        may_start = True  # a message head must follow a blank line or a rule
        n = 0
        for n, line in _lines(self.source):
            if not seen_header:
                if not line.strip():
                    continue
                if not line.strip().startswith("消息记录"):
                    raise ImportFormatError(
                        path, f"not a QQ export header: {line[:60]!r}", line=n, expected=HEADER
                    )
                seen_header = True
                continue
            if _RULE.match(line):
                if msg is not None:  # body text, unless a section line follows
                    msg.body.append(line)
                after_rule = may_start = True
                continue
            if after_rule and line.startswith(("消息分组:", "消息对象:")) and msg is not None:
                msg.body.pop()  # the rule closed the last section
                yield from self._message(msg)
                msg = None
            if after_rule and line.startswith("消息分组:"):
                folder = line.removeprefix("消息分组:").strip()
                continue
            if after_rule and line.startswith("消息对象:"):
                name = line.removeprefix("消息对象:").strip()
                if not name:
                    raise ImportFormatError(
                        path, "消息对象 without a name", line=n, expected="消息对象:<chat name>"
                    )
                gid = name
                yield GroupSeen(PLATFORM, gid, name, kind=_chat_kind(folder))
                continue
            after_rule = False
            head = _MESSAGE_HEAD.match(line) if may_start else None
            if head is not None:
                if msg is not None:
                    yield from self._message(msg)
                if gid is None:
                    gid = self._implicit_group(n)
                    yield GroupSeen(PLATFORM, gid, gid, kind="group")
                msg = self._head(head, gid, n)
                may_start = False
                continue
            blank = not line.strip()
            if msg is None:
                if blank:
                    may_start = True
                    continue
                raise ImportFormatError(
                    path,
                    f"text outside any message: {line[:60]!r}",
                    line=n,
                    expected="a message line 'YYYY-MM-DD H:MM:SS nickname(QQ号)' after a blank line",
                )
            msg.body.append(line)
            may_start = blank
        if not seen_header:
            raise ImportFormatError(path, "empty file", line=max(n, 1), expected=HEADER)
        if msg is not None:
            yield from self._message(msg)
        yield from self._finish()

    def _implicit_group(self, line: int) -> str:
        if self.source.group_name:
            return self.source.group_name
        raise ImportFormatError(
            self.path,
            "message before any 消息对象 line, so its chat is unknown",
            line=line,
            expected="'消息对象:<chat name>' under the header (or pass --group)",
        )

    def _head(self, m: re.Match[str], gid: str, line: int) -> _Message:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        h, mi, s = int(m["h"]), int(m["mi"]), int(m["s"])
        ampm = m["ampm"]
        try:
            if ampm is not None:
                if not 1 <= h <= 12:
                    raise ValueError(f"hour {h} on a 12-hour clock")
                h = h % 12 + (12 if ampm == "PM" else 0)
            when = dt.datetime(y, mo, d, h, mi, s, tzinfo=self.zone)
        except ValueError as e:
            raise ImportFormatError(
                self.path,
                f"bad timestamp in message line ({e})",
                line=line,
                expected="YYYY-MM-DD H:MM:SS [AM|PM]",
            ) from None
        sid = m["qq"] or m["email"]
        name = m["who"].strip()
        local = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"
        if sid not in _SYSTEM_IDS:
            self.names.learn(gid, name, sid)
        return _Message(gid, when.timestamp(), local, sid, name)

    def _message(self, msg: _Message) -> Iterator[Event]:
        body = msg.body
        while body and not body[-1].strip():
            body.pop()
        text = "\n".join(body)
        gid, sid = msg.gid, msg.sender_id
        mid = self.keys.key(gid, msg.local, sid, text)
        if sid in _SYSTEM_IDS:
            self._system(gid, mid, msg.ts, text)
            yield MessagePosted(PLATFORM, gid, mid, msg.ts, None, text, MessageKind.SYSTEM)
            return
        sender = MemberRef(sid, msg.name)
        old = self.last_name.get((gid, sid))
        if msg.name:
            self.last_name[(gid, sid)] = msg.name
            if old is not None and old != msg.name:
                yield MemberRenamed(PLATFORM, gid, f"{mid}:rename", msg.ts, sender, old, msg.name)
        mentions = self.names.mentions(gid, text) if "@" in text else ()
        yield MessagePosted(
            PLATFORM, gid, mid, msg.ts, sender, text, _kind(text), mentions=mentions
        )

    def _system(self, gid: str, mid: str, ts: float, text: str) -> None:
        line = text.strip().split("\n", 1)[0].strip()
        if m := _INVITE.match(line):
            self.pending.append(_Pending(gid, mid, ts, m["who"], m["by"], True, JoinMethod.INVITED))
        elif m := _JOIN.match(line):
            self.pending.append(_Pending(gid, mid, ts, m["who"], None, True))
        elif m := _KICK.match(line):
            self.pending.append(_Pending(gid, mid, ts, m["who"], m["by"], False))
        elif m := _LEAVE.match(line):
            self.pending.append(_Pending(gid, mid, ts, m["who"], None, False))

    def _finish(self) -> Iterator[Event]:
        names = self.names
        for p in self.pending:
            # "A邀请B、C加入了本群" invites two, unless someone is really called "B、C"
            who = [p.who] if "、" not in p.who or names.lookup(p.gid, p.who) else p.who.split("、")
            for i, name in enumerate(n.strip() for n in who):
                member = names.ref(p.gid, name)
                if p.join:
                    inviter = names.ref(p.gid, p.by) if p.by else None
                    eid = f"{p.mid}:j{i}"
                    yield MemberJoined(PLATFORM, p.gid, eid, p.ts, member, inviter, p.method)
                elif p.by:
                    by = names.ref(p.gid, p.by)
                    eid = f"{p.mid}:l{i}"
                    if by.platform_id.startswith("name:"):
                        # "被管理员移出": the remover is only a role, not a member
                        yield MemberLeft(PLATFORM, p.gid, eid, p.ts, member, None, kicked=True)
                    else:
                        yield MemberLeft(PLATFORM, p.gid, eid, p.ts, member, by)
                else:
                    yield MemberLeft(PLATFORM, p.gid, f"{p.mid}:l{i}", p.ts, member)
        self.pending.clear()
