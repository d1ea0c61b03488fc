"""Slack workspace export, as the folder or the ``.zip`` Slack hands out.

Layout: ``users.json``, ``channels.json`` (public), ``groups.json`` (private),
``mpims.json`` / ``dms.json`` (direct messages), and one folder per conversation
(named by channel name, or id for DMs) holding ``YYYY-MM-DD.json`` arrays of messages.
Each conversation is a group (id and name from the metadata files); the day files are
read one at a time, in date order, so memory stays at one day of one channel (Slack
writes small day files). ``users.json`` is streamed and only ids, names and flags kept.

Messages: ``ts`` is the time and the natural key; ``thread_ts`` other than ``ts`` makes
a reply to the thread's parent; ``<@U123>`` in the text is a mention; each reacting
user is one reaction (any count beyond the listed users is kept as a count).
``channel_join`` / ``channel_leave`` (and ``group_*`` for private channels) are joins
and leaves as well as system messages; topic, purpose, pin and other housekeeping
subtypes are system messages. Bots (``bot_message``, ``bot_id``, ``is_bot``), admins,
owners and channel creators are staff; a bot posting only under its ``bot_id`` is
mapped back to its user through ``users.json`` so it is one member, not two.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, ClassVar

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

__all__ = ["SlackImporter"]

PLATFORM = "slack"

_META = {
    "channels.json": "public_channel",
    "groups.json": "private_channel",
    "mpims.json": "mpim",
    "dms.json": "im",
}
_JOIN_SUBTYPES = frozenset({"channel_join", "group_join"})
_LEAVE_SUBTYPES = frozenset({"channel_leave", "group_leave"})
_SYSTEM_SUBTYPES = frozenset(
    {
        "channel_topic", "channel_purpose", "channel_name", "channel_archive",
        "channel_unarchive", "channel_convert_to_private", "channel_convert_to_public",
        "group_topic", "group_purpose", "group_name", "group_archive", "group_unarchive",
        "pinned_item", "unpinned_item", "tombstone", "reminder_add", "bot_add",
        "bot_remove", "bot_enable", "bot_disable", "channel_posting_permissions",
        "sh_room_created", "huddle_thread",
    }
)  # fmt: skip
#: Edit and delete notifications repeat a message that is in the file already.
_SKIP_SUBTYPES = frozenset({"message_changed", "message_deleted", "message_replied"})
_OPERATOR_SUBTYPES = frozenset({"pinned_item", "unpinned_item", "channel_topic", "channel_purpose"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_URL = re.compile(r"https?://", re.IGNORECASE)
_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")


@dataclass(slots=True, frozen=True)
class _Conversation:
    folder: str
    gid: str
    name: str
    kind: str


class _Users:
    """Who is who: id → name and flags from ``users.json``; bot ids → their user."""

    def __init__(self) -> None:
        self.known: dict[str, MemberRef] = {}
        self.by_bot: dict[str, str] = {}
        self.staff: set[str] = set()  # channel creators: staff wherever they post

    def add(self, u: dict[str, Any]) -> None:
        uid = str(u["id"])
        profile = u.get("profile") or {}
        name = (
            profile.get("display_name")
            or u.get("real_name")
            or profile.get("real_name")
            or u.get("name")
            or ""
        )
        bot = bool(u.get("is_bot"))
        admin = bool(u.get("is_admin") or u.get("is_owner") or u.get("is_primary_owner"))
        self.known[uid] = MemberRef(uid, str(name).strip(), is_bot=bot, is_operator=bot or admin)
        if profile.get("bot_id"):
            self.by_bot[str(profile["bot_id"])] = uid

    def ref(
        self, uid: str, fallback: dict[str, Any] | None = None, *, bot: bool = False
    ) -> MemberRef:
        r = self.known.get(uid)
        if r is None:
            p = fallback or {}
            name = p.get("display_name") or p.get("real_name") or p.get("name") or ""
            r = MemberRef(uid, str(name))
        if (bot and not r.is_bot) or (uid in self.staff and not r.is_operator):
            r = MemberRef(r.platform_id, r.name, is_bot=r.is_bot or bot, is_operator=True)
        return r

    def sender(self, m: dict[str, Any]) -> MemberRef | None:
        uid = m.get("user")
        bot_id = m.get("bot_id")
        bot = m.get("subtype") == "bot_message" or (not uid and bool(bot_id))
        if uid:
            return self.ref(str(uid), m.get("user_profile"), bot=bot)
        if bot_id:
            owner = self.by_bot.get(str(bot_id))
            if owner is not None:
                return self.ref(owner, bot=True)
            name = m.get("username") or (m.get("bot_profile") or {}).get("name") or ""
            return MemberRef(str(bot_id), str(name), is_bot=True, is_operator=True)
        return None


class _Export:
    """The export's files, from a folder or a zip, by path relative to its root."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.path = source.path
        self.zip: zipfile.ZipFile | None = None
        self.root = ""
        if self.path.is_dir():
            self.files = {
                p.relative_to(self.path).as_posix()
                for p in self.path.rglob("*.json")
                if p.is_file() and len(p.relative_to(self.path).parts) <= 2
            }
        else:
            try:
                self.zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise ImportFormatError(self.path, f"not a readable zip: {e}") from None
            self.root = _zip_root(self.zip.namelist())
            n = len(self.root)
            self.files = {
                name[n:]
                for name in self.zip.namelist()
                if name.startswith(self.root)
                and name.endswith(".json")
                and name[n:].count("/") <= 1
            }

    def where(self, rel: str) -> str:
        if self.zip is not None:
            return f"{self.path}!{self.root}{rel}"
        return str(self.path / rel)

    def open(self, rel: str) -> io.RawIOBase | IO[bytes]:
        if self.zip is None:
            return self.source.open(self.path / rel)
        info = self.zip.getinfo(self.root + rel)
        report: Callable[[int], None] | None = self.source.on_progress
        if report is not None:
            report(info.compress_size)
        return self.zip.open(info)

    def read(self, rel: str) -> bytes:
        with self.open(rel) as f:
            return f.read()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def conversations(self) -> dict[str, list[str]]:
        """Conversation folder → its day files (``YYYY-MM-DD.json``) in date order.

        Anything else (``__MACOSX`` resource forks, stray files) is not a conversation.
        """
        folders: dict[str, list[str]] = {}
        for rel in self.files:
            folder, sep, name = rel.partition("/")
            if sep and _DAY_FILE.match(name) and not folder.startswith(("__MACOSX", ".")):
                folders.setdefault(folder, []).append(name)
        return {folder: sorted(days) for folder, days in sorted(folders.items())}


def _zip_root(names: list[str]) -> str:
    """The folder inside the zip that holds ``channels.json`` / ``users.json``."""
    best: str | None = None
    for name in names:
        p = PurePosixPath(name)
        if p.name in ("channels.json", "users.json"):
            parent = "" if str(p.parent) == "." else f"{p.parent}/"
            if best is None or parent.count("/") < best.count("/"):
                best = parent
    return best or ""


class SlackImporter:
    name: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack workspace export (folder or .zip)"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return (path / "channels.json").is_file() or (
                (path / "users.json").is_file() and any((path / meta).is_file() for meta in _META)
            )
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as z:
                names = {PurePosixPath(n).name for n in z.namelist()}
        except (zipfile.BadZipFile, OSError):
            return False
        return "channels.json" in names or ("users.json" in names and bool(names & set(_META)))

    def read(self, source: Source) -> Iterator[Event]:
        export = _Export(source)
        try:
            users = self._users(export)
            convs = self._conversations(export, users)
            folders = export.conversations()
            only_one = len(folders) == 1
            for folder, days in folders.items():
                conv = convs.get(folder) or _Conversation(folder, folder, "", "")
                name = conv.name
                if source.group_name and (only_one or not name):
                    name = source.group_name
                yield GroupSeen(PLATFORM, conv.gid, name or conv.gid, kind=conv.kind)
                for day in days:
                    yield from self._day(export, f"{folder}/{day}", conv.gid, users)
        finally:
            export.close()

    # -- metadata -------------------------------------------------------------------

    @staticmethod
    def _items(export: _Export, rel: str) -> Iterator[dict[str, Any]]:
        f = export.open(rel)
        try:
            for n, item in enumerate(
                ijson.items(f, "item", use_float=True, buf_size=JSON_BUF_SIZE)
            ):
                if not isinstance(item, dict) or not item.get("id"):
                    raise ImportFormatError(
                        export.where(rel), f"entry #{n} has no id", expected="objects with an id"
                    )
                yield item
        except ijson.JSONError as e:
            offset = f.pos if isinstance(f, CountingReader) else f.tell()
            raise ImportFormatError(
                export.where(rel), f"broken JSON: {e}", offset=offset, expected="a JSON array"
            ) from None
        finally:
            f.close()

    def _users(self, export: _Export) -> _Users:
        if "users.json" not in export.files:
            raise ImportFormatError(
                export.where("users.json"),
                "missing",
                expected="a Slack export with users.json next to channels.json",
            )
        users = _Users()
        for u in self._items(export, "users.json"):
            users.add(u)
        return users

    def _conversations(self, export: _Export, users: _Users) -> dict[str, _Conversation]:
        convs: dict[str, _Conversation] = {}
        for meta, kind in _META.items():
            if meta not in export.files:
                continue
            for c in self._items(export, meta):
                cid = str(c["id"])
                name = str(c.get("name") or "")
                if not name and kind == "im":
                    name = " & ".join(
                        users.ref(str(u)).name or str(u) for u in c.get("members") or ()
                    )
                if c.get("creator"):
                    users.staff.add(str(c["creator"]))
                conv = _Conversation(c.get("name") or cid, cid, name, kind)
                convs[cid] = conv  # folders are named by name, DMs by id
                if c.get("name"):
                    convs[str(c["name"])] = conv
        return convs

    # -- messages -------------------------------------------------------------------

    def _day(self, export: _Export, rel: str, gid: str, users: _Users) -> Iterator[Event]:
        where = export.where(rel)
        try:
            data = orjson.loads(export.read(rel))
        except orjson.JSONDecodeError as e:
            raise ImportFormatError(
                where, f"broken JSON: {e.msg}", line=e.lineno, expected="a JSON array of messages"
            ) from None
        if not isinstance(data, list):
            raise ImportFormatError(where, "not a list of messages", expected="a JSON array")
        for n, m in enumerate(data):
            try:
                yield from self._message(m, gid, users)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                ts = m.get("ts") if isinstance(m, dict) else None
                raise ImportFormatError(
                    where,
                    f"message #{n} (ts={ts}) does not parse ({type(e).__name__}: {e})",
                    expected="message fields ts (string), user, text",
                ) from None

    def _message(self, m: Any, gid: str, users: _Users) -> Iterator[Event]:
        if not isinstance(m, dict):
            raise TypeError("message is not an object")
        mid = m["ts"]
        if not isinstance(mid, str) or not mid:
            raise ValueError(f"ts {mid!r} is not a Slack timestamp string")
        ts = float(mid)
        subtype = m.get("subtype")
        if subtype in _SKIP_SUBTYPES:
            return
        sender = users.sender(m)
        if sender is not None and subtype in _OPERATOR_SUBTYPES and not sender.is_operator:
            sender = MemberRef(sender.platform_id, sender.name, sender.is_bot, True)
        text = m.get("text") or ""
        if not isinstance(text, str):
            raise TypeError("text is not a string")
        named = {uid: label for uid, label in _MENTION.findall(text)}
        mentions = tuple(users.ref(uid, {"name": label}) for uid, label in named.items())
        if subtype in _JOIN_SUBTYPES or subtype in _LEAVE_SUBTYPES or subtype in _SYSTEM_SUBTYPES:
            yield MessagePosted(
                PLATFORM, gid, mid, ts, sender, text or str(subtype), MessageKind.SYSTEM,
                mentions=mentions,
            )  # fmt: skip
            if sender is not None and subtype in _JOIN_SUBTYPES:
                inviter = users.ref(str(m["inviter"])) if m.get("inviter") else None
                method = JoinMethod.INVITED if inviter else JoinMethod.UNKNOWN
                yield MemberJoined(PLATFORM, gid, mid, ts, sender, inviter, method)
            elif sender is not None and subtype in _LEAVE_SUBTYPES:
                yield MemberLeft(PLATFORM, gid, mid, ts, sender)
        else:
            thread = m.get("thread_ts")
            reply = str(thread) if thread and thread != mid else None
            yield MessagePosted(
                PLATFORM, gid, mid, ts, sender, text, _kind(text, m.get("files")), reply,
                mentions, False, "edited" in m,
            )  # fmt: skip
        for r in m.get("reactions") or ():
            emoji = str(r["name"])
            who = [str(u) for u in r.get("users") or ()]
            for uid in dict.fromkeys(who):
                yield ReactionAdded(PLATFORM, gid, mid, emoji, 1, users.ref(uid))
            rest = int(r.get("count", len(who))) - len(set(who))
            if rest > 0:  # Slack lists only the first reactors of a popular emoji
                yield ReactionAdded(PLATFORM, gid, mid, emoji, rest)


def _kind(text: str, files: Any) -> MessageKind:
    if not text and files:
        kinds = {_file_kind(f) for f in files if isinstance(f, dict)}
        return kinds.pop() if len(kinds) == 1 else MessageKind.FILE
    return MessageKind.LINK if _URL.search(text) else MessageKind.TEXT


def _file_kind(f: dict[str, Any]) -> MessageKind:
    mime = str(f.get("mimetype") or "")
    if f.get("subtype") == "slack_audio":
        return MessageKind.VOICE
    if mime.startswith("image/"):
        return MessageKind.IMAGE
    if mime.startswith("video/"):
        return MessageKind.VIDEO
    return MessageKind.FILE
