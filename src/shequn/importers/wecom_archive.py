"""WeCom session archive (会话内容存档): the decrypted messages, one JSON object per line.

The finance SDK (``GetChatData`` then ``DecryptData``) yields one JSON object per
message, fields as WeCom's 会话内容存档 documentation gives them: ``msgid``,
``action`` (``send`` | ``recall`` | ``switch``), ``from``, ``tolist``, ``roomid`` (empty
for one-to-one chats), ``msgtime`` (epoch milliseconds), ``msgtype`` and a body named
after the type (``text.content``, ``link.title`` / ``link_url``, ``weapp.title``, ...).
Companies dump these as JSON lines; this reads such a file.

Group chats only: a record without ``roomid`` is a one-to-one chat and is skipped, as
are ``switch`` records (a staff member switched company) and ``agree`` /
``disagree`` (consent to archiving). A recall (``msgtype: revoke``) is skipped too:
the recalled message stays in the archive, as it does in WeCom's own.

Senders: ids starting ``wo`` / ``wm`` are external contacts (customers), ``wb``
robots; every other id is a company member, that is staff (``is_operator``). The
record names no group; the group is its ``roomid`` (the same id the customer-group
API calls ``chat_id``), named ``--group`` when given; otherwise the name the
archive already has (from the adapter's sync) is kept, and a new group is named by id.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from shequn.events import Event, GroupSeen, MemberRef, MessageKind, MessagePosted
from shequn.importers.base import ImportFormatError, Source, decode_text_line

__all__ = ["PLATFORM", "WeComArchiveImporter", "record_events", "sender_ref"]

PLATFORM = "wecom"
EXPECTED = "one decrypted message per line with msgid, action, from, roomid, msgtime, msgtype"

_KINDS = {
    "text": MessageKind.TEXT,
    "markdown": MessageKind.TEXT,
    "image": MessageKind.IMAGE,
    "emotion": MessageKind.STICKER,
    "voice": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.FILE,
    "link": MessageKind.LINK,
    "news": MessageKind.LINK,
    "weapp": MessageKind.MINIPROGRAM,
    "card": MessageKind.CARD,
    "location": MessageKind.LOCATION,
    "chatrecord": MessageKind.FORWARD,
    "redpacket": MessageKind.RED_PACKET,
    "external_redpacket": MessageKind.RED_PACKET,
    "vote": MessageKind.POLL,
}
_SKIP_TYPES = frozenset({"revoke", "agree", "disagree"})
_URL = re.compile(r"https?://", re.IGNORECASE)
_SNIFF_KEYS = (b'"msgid"', b'"msgtime"', b'"action"')


def sender_ref(userid: str) -> MemberRef:
    """Customers (``wo``/``wm``) and robots (``wb``) as WeCom's ids tell them apart."""
    if userid.startswith(("wo", "wm")):
        return MemberRef(userid)
    robot = userid.startswith("wb")
    return MemberRef(userid, is_bot=robot, is_operator=True)


def _text(msgtype: str, r: dict[str, Any]) -> str:
    body = r.get(msgtype)
    if not isinstance(body, dict):
        return ""
    if msgtype in ("text", "markdown"):
        return str(body.get("content") or "")
    if msgtype == "link":
        parts = (body.get("title"), body.get("description"), body.get("link_url"))
        return " ".join(str(p) for p in parts if p)
    if msgtype in ("weapp", "chatrecord", "news", "vote"):
        return str(body.get("title") or body.get("votetitle") or "")
    if msgtype == "file":
        return str(body.get("filename") or "")
    if msgtype == "location":
        return " ".join(str(body[k]) for k in ("title", "address") if body.get(k))
    if msgtype in ("redpacket", "external_redpacket"):
        return str(body.get("wish") or "")
    return ""


def record_events(r: dict[str, Any]) -> list[Event]:
    """Internal events for one decrypted archive record (group messages only).

    Raises ``KeyError`` / ``TypeError`` / ``ValueError`` when the record is not in the
    documented shape.
    """
    if not isinstance(r, dict):
        raise TypeError(f"a record is a JSON object, not {type(r).__name__}")
    msgid = r["msgid"]
    if not isinstance(msgid, str) or not msgid:
        raise ValueError(f"msgid must be a non-empty string, not {msgid!r}")
    if r["action"] == "switch":
        return []
    room = r.get("roomid") or ""
    if not isinstance(room, str):
        raise TypeError(f"roomid must be a string, not {type(room).__name__}")
    msgtype = r["msgtype"]
    if not isinstance(msgtype, str):
        raise TypeError(f"msgtype must be a string, not {type(msgtype).__name__}")
    if not room or msgtype in _SKIP_TYPES or r["action"] != "send":
        return []
    sender = r["from"]
    msgtime = r["msgtime"]
    if not isinstance(sender, str) or not sender:
        raise ValueError(f"from must be a non-empty string, not {sender!r}")
    if isinstance(msgtime, bool) or not isinstance(msgtime, int | float):
        raise TypeError(f"msgtime must be epoch milliseconds, not {msgtime!r}")
    text = _text(msgtype, r)
    kind = _KINDS.get(msgtype, MessageKind.OTHER)
    if kind is MessageKind.TEXT and _URL.search(text):
        kind = MessageKind.LINK
    return [
        MessagePosted(
            PLATFORM, room, msgid, msgtime / 1000, sender_ref(sender), text=text, kind=kind
        )
    ]


class WeComArchiveImporter:
    name: ClassVar[str] = "wecom_archive"
    label: ClassVar[str] = "WeCom session archive (会话存档), decrypted JSON lines"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return False
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
        return first.startswith(b"{") and all(k in first for k in _SNIFF_KEYS)

    def read(self, source: Source) -> Iterator[Event]:
        path = source.path
        seen: set[str] = set()
        try:
            f = io.BufferedReader(source.open())
            for n, raw in enumerate(f, 1):
                line = decode_text_line(raw, path, n).strip().lstrip("\ufeff")
                if not line:
                    continue
                try:
                    record = json.loads(line)
                    events = record_events(record)
                except json.JSONDecodeError as e:
                    raise ImportFormatError(
                        path, f"not JSON: {e.msg} at column {e.colno}", line=n, expected=EXPECTED
                    ) from None
                except KeyError as e:
                    raise ImportFormatError(
                        path, f"the record has no field {e}", line=n, expected=EXPECTED
                    ) from None
                except (TypeError, ValueError) as e:
                    raise ImportFormatError(path, str(e), line=n, expected=EXPECTED) from None
                for ev in events:
                    if ev.group_id not in seen:
                        seen.add(ev.group_id)
                        # no name unless given: an empty one keeps what the archive
                        # has (the adapter's sync names groups), a new group is its id
                        yield GroupSeen(
                            PLATFORM, ev.group_id, source.group_name or "", kind="customer_group"
                        )
                    yield ev
        finally:
            source.close()
