"""Plain-text IRC channel logs in the Ubuntu IRC log layout (irclogs.ubuntu.com).

One file is one channel over one stretch of time; the date is in the file name
(``2004-11-15_03.raw.txt``, ``2007-12-17.train-a.raw.txt``, ``.../2006-01-02/#ubuntu.txt``)
and each chat line carries only ``[HH:MM]``, read as UTC. Recognised lines::

    [HH:MM] <nick> text                    message
    [HH:MM]  * nick does something         /me action (older logs: "=== nick does ...")
    [HH:MM] -nick:#chan- text              notice to the channel
    [HH:MM] (nick/#chan) text              message sent from outside the channel
    === nick [user@host]  has joined #chan
    === nick [user@host]  has left #chan [reason]      (also "has quit")
    === nick is now known as newnick
    === nick was kicked off #chan by op (reason)
    === mode/#chan [+o nick]  by op

**Time.** Some of these logs use a 12-hour clock without AM/PM (``12:59`` is followed by
``01:00``, or ``11:59`` by ``00:00``), others a 24-hour one. A time earlier than the
line before means the clock wrapped: the log moves on by the smallest step that keeps
time going forward (12 hours while no hour above 12 has been seen, else a day).
Lines without a time (``===``) take the time of the line before them. Which half of
the day a 12-hour log starts in is not knowable; the file's first time is read as is.

**Identity** is the nick, per file: the first nick a person is seen under (lower-cased)
is their ``platform_id``, a nick change keeps it (:class:`MemberRenamed`), leaving and
rejoining under the same nick keeps it, and a nick given up by a rename and later used
again (``ubuntu`` is every live CD's default) is a new person (``ubuntu~2``). Across
files the nick is all there is, so one nick is one member. These logs also put a space
after ``]`` inside nicks (``<Cre[a] tiveEmb[a]>``); it is dropped, as IRC nicks have none.

**Addressing.** ``othernick: text`` or ``othernick, text`` where ``othernick`` is a nick
seen in the channel mentions that member and replies to their latest message (or the
one before it, when that one was addressed to the sender: measured better against the
human reply annotations, see ``tests/importers/test_irc.py``).

**Natural keys** hash the line itself with its minute and how often that same line
occurred in that minute, so re-importing a file, or a file that overlaps it, adds
nothing twice (a line number would shift with the overlap).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from shequn.events import (
    Event,
    GroupSeen,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessageKind,
    MessagePosted,
)
from shequn.importers.base import ImportFormatError, Source, decode_text_line

__all__ = ["IrcImporter"]

PLATFORM = "irc"
DEFAULT_CHANNEL = "#ubuntu"

_TIME = r"^\[(?P<hh>\d{1,2}):(?P<mm>\d{2})(?::(?P<ss>\d{2}))?\] "
_SAY = re.compile(_TIME + r"<(?P<nick>[^>]+)>(?: (?P<text>.*))?$")
_ACTION = re.compile(_TIME + r"\s*\* (?P<nick>\S+)(?: (?P<text>.*))?$")
_NOTICE = re.compile(_TIME + r"-(?P<nick>[^\s:]+):(?P<chan>#\S+)-(?: (?P<text>.*))?$")
_OUTSIDE = re.compile(_TIME + r"\((?P<nick>[^\s/]+)/(?P<chan>#\S+)\)(?: (?P<text>.*))?$")
_JOIN = re.compile(r"^=== (.+?) +\[.*\] +has joined (#\S+)")
_LEFT = re.compile(r"^=== (.+?) +\[.*\] +has left (#\S+)")
_QUIT = re.compile(r"^=== (.+?) +(?:\[.*\] +)?has quit\b")
_RENAME = re.compile(r"^=== (.+?) is now known as (.+?)\s*$")
_KICK = re.compile(r"^=== (.+?) was kicked off (#\S+) by (\S+)")
_MODE = re.compile(r"^=== mode/(#\S+) \[([^\]]*)\]\s+by (\S+)")
_TIMED = re.compile(_TIME)
_OLD_ACTION = re.compile(r"^=== (\S+) (.+)$")
_SERVER_NOTICES = ("=== netjoined:", "=== netsplit:")
# Hosts may hold brackets too ("[n=[cc] smar@host]"), hence the greedy "\[.*\]" above.
_CHANNEL_LINE = (_JOIN, _LEFT, _KICK, _MODE, _NOTICE, _OUTSIDE)
_OPS_GIVEN = re.compile(r"\+(o+) (.+)")
_NICK_SPACE = re.compile(r"\]\s+")

_ADDRESS = re.compile(r"^([^\s:,]+)[:,](?:\s|$)")
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SNIFF = re.compile(
    rb"^(?:\[\d{1,2}:\d{2}(?::\d{2})?\] (?:<[^>]+>|\s*\* |-\S+:#|\(\S+/#)|=== \S+ )"
)

#: Lines read ahead to find the channel name and the first time before the first event.
_LOOKAHEAD = 2000
#: A time this many minutes earlier than the previous line is clock jitter, not a wrap.
_JITTER_MIN = 5
#: Messages remembered per member to pick the one an addressed line answers; more
#: looks further back for one addressed to the asker, which measured worse.
_RECENT = 2


def log_date(path: Path) -> dt.date:
    """The date a log starts on, from its file name (or its folder's)."""
    for part in (path.name, path.parent.name):
        m = _DATE.search(part)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
    raise ImportFormatError(
        path,
        "no date in the file name",
        expected="a name like 2004-11-15.txt (IRC logs carry only HH:MM per line)",
    )


class _Clock:
    """Turns ``HH:MM[:SS]`` into epoch seconds, following the clock across wraps."""

    __slots__ = ("base", "max_hour", "offset", "prev")

    def __init__(self, day: dt.date) -> None:
        self.base = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
        self.offset = 0  # minutes added for wraps so far
        self.prev: int | None = None  # absolute minute of the last timed line
        self.max_hour = 0

    def minute(self, hh: str, mm: str) -> int:
        hour = int(hh)
        self.max_hour = max(self.max_hour, hour)
        m = self.offset + hour * 60 + int(mm)
        if self.prev is not None and m < self.prev - _JITTER_MIN:
            step = 720 if self.max_hour <= 12 else 1440
            while m < self.prev - _JITTER_MIN:
                self.offset += step
                m += step
        self.prev = m
        return m

    def ts(self, minute: int, ss: str | None = None) -> float:
        return self.base + minute * 60 + (int(ss) if ss else 0)

    def label(self, minute: int) -> str:
        stamp = dt.datetime.fromtimestamp(self.base + minute * 60, tz=dt.UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M")


class _Log:
    """Per-file state: who holds which nick, their latest messages, and line keys."""

    def __init__(self, gid: str, day: dt.date) -> None:
        self.gid = gid
        self.clock = _Clock(day)
        self.current: dict[str, str] = {}  # casefolded nick -> identity holding it now
        self.used: set[str] = set()  # identities handed out in this file
        self.nick_of: dict[str, str] = {}  # identity -> the nick it goes by now
        self.operators: set[str] = set()
        # identity -> its latest messages, each with whom it addressed (newest last)
        self.recent: dict[str, collections.deque[tuple[str, str | None]]] = {}
        # minute -> (its label, line -> times seen so far in that minute)
        self.seen: dict[int, tuple[str, dict[str, int]]] = {}
        self.minute = 0

    # -- identities ---------------------------------------------------------------

    def who(self, nick: str) -> str:
        """The identity holding ``nick`` now, or a new one if nobody does.

        A nick given up by a rename is free: whoever uses it next is someone new.
        Leaving keeps the nick, so a rejoin under it is the same person.
        """
        key = nick.casefold()
        pid = self.current.get(key)
        if pid is None:
            pid, n = key, 1
            while pid in self.used:
                n += 1
                pid = f"{key}~{n}"  # "~" cannot occur in a nick
            self.used.add(pid)
            self.current[key] = pid
            self.nick_of[pid] = nick
        return pid

    def rename(self, old: str, new: str) -> str:
        pid = self.who(old)
        del self.current[old.casefold()]
        self.current[new.casefold()] = pid
        self.nick_of[pid] = new
        return pid

    def said(self, pid: str, mid: str, to: str | None) -> None:
        q = self.recent.get(pid)
        if q is None:
            q = self.recent[pid] = collections.deque(maxlen=_RECENT)
        q.append((mid, to))

    def answered(self, target: str, asker: str) -> str | None:
        """The message of ``target`` that a line addressed to them by ``asker`` answers.

        Their latest, unless the one before it was addressed to ``asker``: measured on
        the annotated Ubuntu logs, that beats "latest" alone (see tests/importers).
        """
        q = self.recent.get(target)
        if not q:
            return None
        for mid, to in reversed(q):
            if to == asker:
                return mid
        return q[-1][0]

    def ref(self, pid: str, nick: str) -> MemberRef:
        return MemberRef(pid, nick, is_operator=pid in self.operators)

    # -- keys -----------------------------------------------------------------------

    def key(self, line: str) -> str:
        """A stable id for this line: its minute, a hash of it, and its repeat count."""
        entry = self.seen.get(self.minute)
        if entry is None:
            # Only recent minutes can recur (time moves forward): memory stays bounded.
            for old in [k for k in self.seen if k < self.minute - 2 * _JITTER_MIN]:
                del self.seen[old]
            entry = self.seen[self.minute] = (self.clock.label(self.minute), {})
        label, counts = entry
        occ = counts.get(line, 0)
        counts[line] = occ + 1
        digest = hashlib.blake2b(f"{line}\x00{occ}".encode(), digest_size=8).hexdigest()
        return f"{label}/{digest}"


class IrcImporter:
    name: ClassVar[str] = "irc"
    label: ClassVar[str] = "IRC channel log (Ubuntu IRC log layout, [HH:MM] <nick> text)"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        if path.is_dir() or not head:
            return False
        lines = [ln for ln in head.split(b"\n")[:40] if ln.strip()]
        if len(head) >= 64 * 1024 and len(lines) > 1:
            lines = lines[:-1]  # the last one may be cut off
        hits = sum(1 for ln in lines if _SNIFF.match(ln))
        return bool(lines) and hits >= min(3, len(lines)) and hits >= 0.8 * len(lines)

    def read(self, source: Source) -> Iterator[Event]:
        for _, ev in self.read_numbered(source):
            yield ev

    def read_numbered(self, source: Source) -> Iterator[tuple[int | None, Event]]:
        """Events with the 0-based line each came from (``None`` for the group).

        Line numbers are what the Ubuntu IRC reply annotations refer to; :meth:`read`
        drops them.
        """
        path = source.path
        day = log_date(path)
        f = source.open()
        try:
            lines = _lines(io.BufferedReader(f), path)
            # Read ahead (bounded) for the channel name: GroupSeen must come first.
            ahead: list[tuple[int, str]] = []
            channel = None
            for item in lines:
                ahead.append(item)
                channel = _channel_of(item[1])
                if channel is not None or len(ahead) >= _LOOKAHEAD:
                    break
            gid = channel or DEFAULT_CHANNEL
            yield None, GroupSeen(PLATFORM, gid, source.group_name or gid, kind="irc_channel")
            log = _Log(gid, day)
            recognised = 0
            for no, text in _held_until_timed(log, itertools.chain(ahead, lines)):
                events = self._line(log, text)
                if events is not None:
                    recognised += 1
                    for ev in events:
                        yield no, ev
            if recognised == 0:
                raise ImportFormatError(
                    path, "no IRC log line found", expected="lines like '[12:34] <nick> text'"
                )
        finally:
            f.close()

    def _line(self, log: _Log, text: str) -> list[Event] | None:
        """The events of one line; ``None`` when it is not an IRC log line."""
        if text.startswith("["):
            return self._timed(log, text)
        if text.startswith("=== "):
            return self._system(log, text)
        return None

    def _timed(self, log: _Log, text: str) -> list[Event] | None:
        m = _SAY.match(text) or _ACTION.match(text) or _NOTICE.match(text)
        m = m or _OUTSIDE.match(text)
        if m is None:
            return None
        log.minute = log.clock.minute(m["hh"], m["mm"])
        raw_nick = m["nick"].strip()
        nick = _nick(raw_nick)
        if raw_nick.startswith("@"):  # clients that show channel operators with "@"
            log.operators.add(log.who(nick))
        body = (m["text"] or "").rstrip()
        ts = log.clock.ts(log.minute, m["ss"])
        return [self._message(log, text, ts, nick, body, action=m.re is _ACTION)]

    def _message(
        self, log: _Log, line: str, ts: float, nick: str, body: str, *, action: bool
    ) -> MessagePosted:
        pid = log.who(nick)
        mid = log.key(line)
        mentions: tuple[MemberRef, ...] = ()
        reply = None
        addressed = None if action else _ADDRESS.match(body)
        if addressed is not None:
            target = log.current.get(addressed[1].casefold())
            if target is not None and target != pid:
                mentions = (log.ref(target, log.nick_of[target]),)
                reply = log.answered(target, pid)
        log.said(pid, mid, mentions[0].platform_id if mentions else None)
        kind = MessageKind.LINK if _URL.search(body) else MessageKind.TEXT
        text = f"/me {body}" if action else body
        return MessagePosted(
            PLATFORM, log.gid, mid, ts, log.ref(pid, nick), text, kind, reply, mentions
        )

    def _system(self, log: _Log, text: str) -> list[Event] | None:
        ts = log.clock.ts(log.minute)
        gid = log.gid
        if m := _JOIN.match(text):
            nick = _nick(m[1])
            pid = log.who(nick)
            return [MemberJoined(PLATFORM, gid, log.key(text), ts, log.ref(pid, nick))]
        if m := _LEFT.match(text) or _QUIT.match(text):
            nick = _nick(m[1])
            pid = log.who(nick)
            return [MemberLeft(PLATFORM, gid, log.key(text), ts, log.ref(pid, nick))]
        if m := _RENAME.match(text):
            old, new = _nick(m[1]), _nick(m[2])
            pid = log.rename(old, new)
            ev = MemberRenamed(PLATFORM, gid, log.key(text), ts, log.ref(pid, new), old, new)
            return [ev]
        if m := _KICK.match(text):
            nick, op_nick = _nick(m[1]), _nick(m[3])
            op = log.who(op_nick)
            log.operators.add(op)
            pid = log.who(nick)
            by = log.ref(op, op_nick)
            return [MemberLeft(PLATFORM, gid, log.key(text), ts, log.ref(pid, nick), by)]
        if m := _MODE.match(text):
            op_nick = _nick(m[3])
            op = log.who(op_nick)
            log.operators.add(op)
            mode = m[2].strip()
            mentions = []
            if given := _OPS_GIVEN.fullmatch(mode):
                for nick in given[2].split()[: len(given[1])]:
                    target = log.who(nick)
                    log.operators.add(target)
                    mentions.append(log.ref(target, nick))
            sender = log.ref(op, op_nick)
            return [
                MessagePosted(
                    PLATFORM, gid, log.key(text), ts, sender, f"mode {mode}",
                    MessageKind.SYSTEM, mentions=tuple(mentions),
                )
            ]  # fmt: skip
        if text.startswith(_SERVER_NOTICES):  # the server's, not a member's ("netjoined:")
            body = text[4:].strip()
            return [MessagePosted(PLATFORM, gid, log.key(text), ts, None, body, MessageKind.SYSTEM)]
        if m := _OLD_ACTION.match(text):  # older logs write /me as "=== nick does ..."
            return [self._message(log, text, ts, _nick(m[1]), m[2].rstrip(), action=True)]
        return None


def _nick(raw: str) -> str:
    """A nick as the server knows it: these logs put a space after "]" inside nicks
    (``<Cre[a] tiveEmb[a]>``), and some clients prefix ``@``/``+`` for op/voice."""
    return _NICK_SPACE.sub("]", raw.strip()).lstrip("@+%&~")


def _held_until_timed(log: _Log, lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Lines in order; untimed ones before the first time wait until it is known."""
    pending: list[tuple[int, str]] = []
    for no, text in lines:
        if log.clock.prev is None:
            t = _TIMED.match(text)
            if t is None and len(pending) < _LOOKAHEAD:
                pending.append((no, text))
                continue
            if t is not None:
                log.minute = log.clock.minute(t["hh"], t["mm"])
            else:  # no time anywhere near the top: midnight of the file's date
                log.clock.prev = 0
            yield from pending
            pending.clear()
        yield no, text
    yield from pending


def _lines(f: io.BufferedReader, path: Path) -> Iterator[tuple[int, str]]:
    for no, raw in enumerate(f):
        text = decode_text_line(raw, path, no + 1)
        if no == 0 and text.startswith("\ufeff"):
            text = text[1:]
        yield no, text.rstrip("\r\n")


def _channel_of(line: str) -> str | None:
    for rx in _CHANNEL_LINE:
        m = rx.match(line)
        if m is not None:
            for g in m.groups():
                if g and g.startswith("#"):
                    return g.lower()
    return None
