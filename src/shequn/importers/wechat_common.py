"""What the WeChat importers share: message types, system lines, names, streamed CSV.

WeChatMsg/留痕 CSV and sjzar/chatlog read the same WeChat database, so they share the
numeric type codes (``Type``/``SubType``), the wording of system lines (``"A"邀请"B"
加入了群聊``) and the problem that those lines name people by display name only.
:class:`WeChatGroup` keeps the names seen on messages and holds membership events
until the end of the file, when each name is matched to the wxid its messages show.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shequn.events import (
    Event,
    JoinMethod,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MessageKind,
    MessagePosted,
)
from shequn.importers.base import ImportFormatError, Source, decode_text_line

__all__ = [
    "PLATFORM",
    "SELF",
    "SystemAction",
    "WeChatGroup",
    "content_kind",
    "csv_rows",
    "header_columns",
    "message_kind",
    "message_text",
    "parse_system",
]

PLATFORM = "wechat"

#: Stands for "你" (the exporting account) in a system line.
SELF = "\x00self"

_SYSTEM_TYPES = frozenset({10000, 10002})
_TYPE_KIND = {
    1: MessageKind.TEXT,
    3: MessageKind.IMAGE,
    34: MessageKind.VOICE,
    42: MessageKind.CARD,
    43: MessageKind.VIDEO,
    47: MessageKind.STICKER,
    48: MessageKind.LOCATION,
    50: MessageKind.OTHER,  # voice / video call
}
_APP_KIND = {
    4: MessageKind.LINK,  # share with description
    5: MessageKind.LINK,
    6: MessageKind.FILE,
    8: MessageKind.STICKER,  # GIF
    19: MessageKind.FORWARD,
    33: MessageKind.MINIPROGRAM,
    36: MessageKind.MINIPROGRAM,
    51: MessageKind.VIDEO,  # 视频号
    57: MessageKind.TEXT,  # quote: a reply whose text is the message
    2001: MessageKind.RED_PACKET,
}
#: The raw 64-bit code of a red packet, as some exporters leave it.
_RED_PACKET_RAW = 436207665
_URL = re.compile(r"https?://|www\.[a-z0-9-]+\.", re.IGNORECASE)


def message_kind(type_: int, subtype: int, text: str = "") -> MessageKind:
    """The archive kind for WeChat's ``Type``/``SubType`` pair."""
    if type_ in _SYSTEM_TYPES:
        return MessageKind.SYSTEM
    if type_ == 49:
        return _APP_KIND.get(subtype, MessageKind.OTHER)
    if type_ == _RED_PACKET_RAW:
        return MessageKind.RED_PACKET
    kind = _TYPE_KIND.get(type_, MessageKind.OTHER)
    if kind is MessageKind.TEXT and _URL.search(text):
        return MessageKind.LINK
    return kind


#: chatlog's plain-text rendering of non-text messages (``PlainTextContent``), first match wins.
_PLAIN_PREFIXES: tuple[tuple[str, MessageKind], ...] = (
    ("![图片]", MessageKind.IMAGE),
    ("[图片]", MessageKind.IMAGE),
    ("[语音通话]", MessageKind.OTHER),
    ("[语音", MessageKind.VOICE),
    ("[名片]", MessageKind.CARD),
    ("![视频]", MessageKind.VIDEO),
    ("[视频号", MessageKind.VIDEO),
    ("[视频]", MessageKind.VIDEO),
    ("[动画表情]", MessageKind.STICKER),
    ("[GIF表情]", MessageKind.STICKER),
    ("[表情]", MessageKind.STICKER),
    ("[链接|", MessageKind.LINK),
    ("[分享|", MessageKind.LINK),
    ("[文件|", MessageKind.FILE),
    ("[合并转发", MessageKind.FORWARD),
    ("[聊天记录", MessageKind.FORWARD),
    ("[小程序", MessageKind.MINIPROGRAM),
    ("[红包", MessageKind.RED_PACKET),
    ("[位置", MessageKind.LOCATION),
    ("[转账", MessageKind.OTHER),
)


def content_kind(text: str) -> MessageKind:
    """The kind of a message known only by its plain-text rendering (chatlog CSV)."""
    head = text.lstrip()
    for prefix, kind in _PLAIN_PREFIXES:
        if head.startswith(prefix):
            return kind
    if not head:
        return MessageKind.OTHER
    return MessageKind.LINK if _URL.search(text) else MessageKind.TEXT


_XML_FIELD = {
    name: re.compile(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", re.DOTALL)
    for name in ("title", "url", "des")
}
_WC_LINK = re.compile(r"<_wc_custom_link_[^>]*>.*?</_wc_custom_link_>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _xml_field(xml: str, name: str) -> str:
    m = _XML_FIELD[name].search(xml)
    return html.unescape(m.group(1)).strip() if m else ""


def message_text(type_: int, subtype: int, content: str) -> str:
    """What a message says: its text, a share's title (and link), never a media XML blob."""
    if type_ in _SYSTEM_TYPES:
        # "你撤回了一条消息 <_wc_custom_link_ ...>重新编辑</_wc_custom_link_>"
        return _TAG.sub("", _WC_LINK.sub("", content)).strip()
    if type_ == 1 or not content.lstrip().startswith("<"):
        return content  # text is text, even when it starts with "<"
    if type_ != 49:
        return ""
    title = _xml_field(content, "title")
    if subtype in (4, 5, 33, 36):
        return " ".join(p for p in (title, _xml_field(content, "url")) if p)
    return title


@dataclass(slots=True, frozen=True)
class SystemAction:
    """A membership change a system line reports, by display name (:data:`SELF` = 你)."""

    action: str  # join | leave
    members: tuple[str, ...]
    actor: str | None = None
    method: JoinMethod = JoinMethod.UNKNOWN


#: WeChat prints ASCII quotes around names; some versions print curly ones.
_Q = '["“”]'
_WHO = rf"(?:{_Q}(.+?){_Q}|(你))"
_INVITE = re.compile(rf"^{_WHO}邀请{_Q}?(.+?){_Q}?加入了群聊")
_INVITE_YOU = re.compile(rf"^{_Q}(.+?){_Q}邀请你加入了群聊")
_QR = re.compile(rf"^{_WHO}通过扫描(?:{_Q}(.+?){_Q}|(你))?(?:分享的)?二维码加入群聊")
_JOIN = re.compile(rf"^{_WHO}加入了群聊")
_KICK = re.compile(rf"^{_WHO}将{_Q}(.+?){_Q}移出了群聊")
_LEAVE = re.compile(rf"^{_WHO}退出了群聊")


def _who(name: str | None, you: str | None) -> str | None:
    if name:
        return name
    return SELF if you else None


def parse_system(text: str) -> SystemAction | None:
    """The membership change in a WeChat system line, if it reports one."""
    text = text.strip()
    if m := _INVITE_YOU.match(text):
        return SystemAction("join", (SELF,), m.group(1), JoinMethod.INVITED)
    if m := _INVITE.match(text):
        actor = _who(m.group(1), m.group(2))
        return SystemAction("join", (m.group(3),), actor, JoinMethod.INVITED)
    if m := _QR.match(text):
        member = _who(m.group(1), m.group(2))
        sharer = _who(m.group(3), m.group(4))
        return SystemAction("join", (member,) if member else (), sharer, JoinMethod.LINK)
    if m := _KICK.match(text):
        actor = _who(m.group(1), m.group(2))
        return SystemAction("leave", (m.group(3),), actor)
    if m := _LEAVE.match(text):
        member = _who(m.group(1), m.group(2))
        return SystemAction("leave", (member,) if member else ())
    if m := _JOIN.match(text):
        member = _who(m.group(1), m.group(2))
        return SystemAction("join", (member,) if member else ())
    return None


_MENTION = re.compile("@([^@\u2005\n]{1,40})\u2005")


class WeChatGroup:
    """One chat while its rows stream past: the names seen, membership events on hold."""

    __slots__ = ("display", "gid", "ids_by_name", "pending", "self_id")

    def __init__(self, gid: str) -> None:
        self.gid = gid
        #: display name (nickname, remark, group nickname) → wxid; ``None`` when two
        #: different people showed the same name, so it cannot be trusted.
        self.ids_by_name: dict[str, str | None] = {}
        #: wxid → the name its latest message showed. Members found through a system
        #: line or a mention carry it too: the archive takes the latest name it is
        #: given as the member's name, and those events come late or use nicknames.
        self.display: dict[str, str] = {}
        self.self_id: str | None = None
        self.pending: list[tuple[str, float, SystemAction]] = []

    def _learn(self, wxid: str, name: str) -> None:
        if not name or name.startswith("name:"):
            return
        known = self.ids_by_name.get(name, wxid)
        self.ids_by_name[name] = wxid if known == wxid else None

    def sender(
        self, wxid: str, name: str, *, aliases: Iterable[str] = (), is_self: bool = False
    ) -> MemberRef | None:
        """The sender of a message; learns its names for the system lines to come."""
        if not wxid:
            if not name:
                return None
            wxid = self.ids_by_name.get(name) or f"name:{name}"
        else:
            self._learn(wxid, name)
            for alias in aliases:
                self._learn(wxid, alias)
            if name:
                self.display[wxid] = name
        if is_self and self.self_id is None:
            self.self_id = wxid
        return MemberRef(wxid, name, is_operator=is_self)

    def post(
        self, mid: str, ts: float, sender: MemberRef | None, text: str, kind: MessageKind
    ) -> Iterator[Event]:
        """A message; a system line also queues the joins or leaves it reports."""
        mentions: tuple[MemberRef, ...] = ()
        if kind is MessageKind.SYSTEM:
            sender = None
            action = parse_system(text)
            if action is not None and action.members:
                self.pending.append((mid, ts, action))
        elif "@" in text:
            mentions = self._mentions(text)
        yield MessagePosted(PLATFORM, self.gid, mid, ts, sender, text, kind, mentions=mentions)

    def _mentions(self, text: str) -> tuple[MemberRef, ...]:
        found: dict[str, MemberRef] = {}
        for m in _MENTION.finditer(text):
            name = m.group(1)
            wxid = self.ids_by_name.get(name)
            if wxid is not None and wxid not in found:
                found[wxid] = MemberRef(wxid, self.display.get(wxid, name))
        return tuple(found.values())

    def ref(self, name: str) -> MemberRef:
        """A member named in a system line, matched to a wxid when the file shows one."""
        if name == SELF:
            return MemberRef(self.self_id or "name:你", "", is_operator=True)
        wxid = self.ids_by_name.get(name)
        if wxid is None:
            return MemberRef(f"name:{name}", name)
        return MemberRef(wxid, self.display.get(wxid, name))

    def _split(self, names: tuple[str, ...]) -> list[str]:
        """``"B、C"`` names several people, unless someone is really called ``B、C``."""
        out: list[str] = []
        for raw in names:
            if raw == SELF or raw in self.ids_by_name or "、" not in raw:
                out.append(raw)
            else:
                out.extend(n for n in (p.strip() for p in raw.split("、")) if n)
        return out

    def finish(self) -> Iterator[Event]:
        """The joins and leaves held back, now that every name in the file is known."""
        for mid, ts, action in self.pending:
            actor = self.ref(action.actor) if action.actor is not None else None
            for i, name in enumerate(self._split(action.members)):
                member = self.ref(name)
                if action.action == "join":
                    yield MemberJoined(
                        PLATFORM, self.gid, f"{mid}:j{i}", ts, member, actor, action.method
                    )
                elif actor is not None and actor.platform_id != member.platform_id:
                    yield MemberLeft(PLATFORM, self.gid, f"{mid}:l{i}", ts, member, actor)
                else:
                    yield MemberLeft(PLATFORM, self.gid, f"{mid}:l{i}", ts, member)
        self.pending.clear()


_FIELD_LIMIT = 64 << 20


def _decoded_lines(source: Source) -> Iterator[str]:
    """The file's lines, each decoded on its own so a bad byte is reported by line."""
    raw = io.BufferedReader(source.open())
    for n, line in enumerate(raw, 1):
        text = decode_text_line(line, source.path, n)
        yield text[1:] if n == 1 and text.startswith("\ufeff") else text


def csv_rows(source: Source) -> Iterator[tuple[int, list[str]]]:
    """``(first line number, fields)`` for each CSV record, multi-line fields included.

    ``strict`` makes a stray quote or a file cut inside a quoted field an error
    instead of a silently merged row.
    """
    # A merged forward's XML can pass csv's 128 KiB field limit; the archive cuts long
    # texts itself (writer.MAX_TEXT), so allow big fields rather than fail the file.
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(_decoded_lines(source), strict=True)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as e:
        raise ImportFormatError(
            source.path, f"not valid CSV: {e}", line=start, expected="RFC 4180 CSV"
        ) from None


def header_columns(
    path: Path, header: list[str], required: tuple[str, ...], line: int = 1
) -> dict[str, int]:
    """Column positions by name; raises when a required column is missing."""
    cols = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in required if c not in cols]
    if missing:
        raise ImportFormatError(
            path,
            f"header lacks column(s) {', '.join(missing)}",
            line=line,
            expected="header " + ",".join(required),
        )
    return cols
