"""Writing events into the archive, fast and without duplicates.

:class:`ArchiveWriter` runs inside one caller-owned transaction (one per imported
file, see :mod:`shequn.actions.imports`), so a crash or Ctrl-C leaves nothing
behind. Rows are buffered and flushed with driver-level ``executemany`` using
``ON CONFLICT DO NOTHING`` against each table's natural key: re-importing the same
file or an overlapping export inserts nothing twice. Member and group ids are cached
per writer, so a message costs one dict lookup and one tuple.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from shequn.events import (
    DirectMessage,
    Event,
    GroupSeen,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRef,
    MemberRenamed,
    MessagePosted,
    ReactionAdded,
)
from shequn.store import schema

#: Texts longer than this are cut (and counted in ``WriteStats.truncated``): one
#: pasted 50 MB log must not blow up an archive meant for chat.
MAX_TEXT = 64 * 1024
_FLUSH_AT = 20_000


@dataclass(slots=True)
class WriteStats:
    """What a write did: events seen, and rows really inserted (duplicates are not)."""

    events: int = 0
    messages: int = 0
    memberships: int = 0
    reactions: int = 0
    renames: int = 0
    members: int = 0
    groups: int = 0
    truncated: int = 0
    duplicates: int = 0  # rows already in the archive (re-import, overlapping export)
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def new_rows(self) -> int:
        return self.messages + self.memberships + self.reactions + self.renames


def _insert_sql(dialect: str, table: str, cols: tuple[str, ...]) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    values = ", ".join([mark] * len(cols))
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values}) ON CONFLICT DO NOTHING"


_MSG_COLS = (
    "group_id", "platform_id", "member_id", "ts", "kind", "text", "reply_to",
    "forwarded", "edited", "n_mentions", "import_id",
)  # fmt: skip
_MENTION_COLS = ("group_id", "message_pid", "member_id")
_MEMBERSHIP_COLS = (
    "group_id", "platform_id", "member_id", "ts", "action", "method", "actor_id", "import_id",
)  # fmt: skip
_REACTION_COLS = ("group_id", "message_pid", "emoji", "member_id", "count")
_RENAME_COLS = ("group_id", "platform_id", "member_id", "ts", "old_name", "new_name")
_NAME_COLS = ("member_id", "name", "first_ts")


#: A group's row by its platform id; built once (the live bot asks it for every event).
_GROUP = select(schema.groups.c.id, schema.groups.c.name).where(
    schema.groups.c.platform == bindparam("platform"),
    schema.groups.c.platform_id == bindparam("platform_id"),
)


class ArchiveWriter:
    """Buffers events and writes them on ``conn``; call :meth:`flush` before commit."""

    def __init__(self, conn: Connection, *, import_id: int | None = None) -> None:
        self.conn = conn
        self.import_id = import_id
        self.stats = WriteStats()
        dialect = conn.dialect.name
        self._sql = {
            "messages": _insert_sql(dialect, "messages", _MSG_COLS),
            "mentions": _insert_sql(dialect, "mentions", _MENTION_COLS),
            "membership_events": _insert_sql(dialect, "membership_events", _MEMBERSHIP_COLS),
            "reactions": _insert_sql(dialect, "reactions", _REACTION_COLS),
            "renames": _insert_sql(dialect, "renames", _RENAME_COLS),
            "member_names": _insert_sql(dialect, "member_names", _NAME_COLS),
        }
        self._buf: dict[str, list[tuple[Any, ...]]] = {k: [] for k in self._sql}
        m = "?" if dialect == "sqlite" else "%s"
        self._sql["find_member"] = (
            f"SELECT id FROM members WHERE platform = {m} AND platform_id = {m}"
        )
        self._sql["add_member"] = (
            "INSERT INTO members (platform, platform_id, name, is_bot, is_operator) "
            f"VALUES ({m}, {m}, {m}, {m}, {m}) ON CONFLICT DO NOTHING RETURNING id"
        )
        self._sql["set_operator"] = f"UPDATE members SET is_operator = TRUE WHERE id = {m}"
        self._sql["set_name"] = f"UPDATE members SET name = {m} WHERE id = {m}"
        self._sql["latest_name"] = (
            f"SELECT name, first_ts FROM member_names WHERE member_id = {m} "
            "AND first_ts IS NOT NULL ORDER BY first_ts DESC LIMIT 1"
        )
        self._renamed: dict[int, str] = {}
        self._current_name: dict[int, tuple[str, float | None]] = {}
        self._groups: dict[tuple[str, str], int] = {}
        self._members: dict[tuple[str, str], int] = {}
        self._seen: dict[tuple[str, str, str, bool], int] = {}
        self._names: set[tuple[int, str]] = set()
        self._operators: set[int] = set()
        self._pending = 0
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    # -- identities -------------------------------------------------------------

    def group_id(self, platform: str, platform_id: str, name: str = "", kind: str = "") -> int:
        key = (platform, platform_id)
        gid = self._groups.get(key)
        if gid is not None:
            return gid
        platform_id, name = platform_id.replace("\x00", ""), name.replace("\x00", "")
        t = schema.groups
        row = self.conn.execute(_GROUP, {"platform": platform, "platform_id": platform_id}).first()
        if row is None:
            gid = self.conn.execute(
                t.insert().values(
                    platform=platform, platform_id=platform_id, name=name or platform_id, kind=kind
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self.stats.groups += 1
        else:
            gid = row.id
            if name and name != row.name:
                self.conn.execute(t.update().where(t.c.id == gid).values(name=name))
        self._groups[key] = gid
        return gid

    def member_id(self, platform: str, ref: MemberRef, ts: float | None = None) -> int:
        """The archive id for ``ref``, creating the member and recording names as needed."""
        # Fast path: one tuple and one dict lookup for a (member, name, staff) seen before.
        key = (platform, ref.platform_id, ref.name, ref.is_operator)
        mid = self._seen.get(key)
        if mid is None:
            mid = self._member_slow(platform, ref, ts)
            self._seen[key] = mid
        return mid

    def _member_slow(self, platform: str, ref: MemberRef, ts: float | None) -> int:
        ident = (platform, ref.platform_id)
        mid = self._members.get(ident)
        if mid is None:
            mid = self._resolve_member(platform, ref)
            self._members[ident] = mid
        if ref.name and (mid, ref.name) not in self._names:
            self._names.add((mid, ref.name))
            self._buf["member_names"].append((mid, ref.name.replace("\x00", ""), ts))
            # The name shown most recently wins, by event time, not by arrival order:
            # importers may send a join (with an old nickname) after later messages.
            cur_name, cur_ts = self._current_name.get(mid, ("", None))
            newer = ts is not None and (cur_ts is None or ts >= cur_ts)
            if ref.name == cur_name:
                if cur_ts is None:
                    self._current_name[mid] = (cur_name, ts)
            elif newer or not cur_name:
                self._current_name[mid] = (ref.name, ts)
                self._renamed[mid] = ref.name.replace("\x00", "")
        if ref.is_operator and mid not in self._operators:
            self._operators.add(mid)
            self._cursor.execute(self._sql["set_operator"], (mid,))
        return mid

    def _resolve_member(self, platform: str, ref: MemberRef) -> int:
        # On the raw DB-API cursor, inside the same transaction: an import meets tens of
        # thousands of members, and SQLAlchemy's ~40 µs per statement made member
        # lookups a quarter of a 1M-message import.
        cur = self._cursor
        pid = ref.platform_id.replace("\x00", "")  # PostgreSQL refuses NUL in text
        name = (ref.name or pid).replace("\x00", "")
        cur.execute(self._sql["add_member"], (platform, pid, name, ref.is_bot, ref.is_operator))
        row = cur.fetchone()
        if row is not None:  # new
            self.stats.members += 1
            self._current_name[int(row[0])] = (name, None)
            return int(row[0])
        cur.execute(self._sql["find_member"], (platform, pid))
        found = cur.fetchone()
        assert found is not None, "member vanished inside the import transaction"
        mid = int(found[0])
        cur.execute(self._sql["latest_name"], (mid,))
        latest = cur.fetchone()
        if latest is not None:
            self._current_name[mid] = (latest[0], latest[1])
        return mid

    def _gid(self, platform: str, group: str) -> int:
        gid = self._groups.get((platform, group))
        return gid if gid is not None else self.group_id(platform, group)

    # -- events -----------------------------------------------------------------

    def add(self, ev: Event) -> None:
        """Buffer one event (flushing when the buffers are full)."""
        self.stats.events += 1
        if type(ev) is MessagePosted:
            self._message(ev)
        elif type(ev) is MemberJoined:
            self._membership(ev, "join", ev.inviter, ev.method.value)
        elif type(ev) is MemberLeft:
            action = "kick" if ev.kicked or ev.removed_by is not None else "leave"
            self._membership(ev, action, ev.removed_by, "unknown")
        elif type(ev) is ReactionAdded:
            gid = self._gid(ev.platform, ev.group_id)
            who = self.member_id(ev.platform, ev.member) if ev.member else 0
            self._buf["reactions"].append((gid, ev.message_id, ev.emoji[:128], who, ev.count))
        elif type(ev) is MemberRenamed:
            gid = self._gid(ev.platform, ev.group_id)
            mid = self.member_id(ev.platform, ev.member, ev.ts)
            self._buf["renames"].append((gid, ev.event_id, mid, ev.ts, ev.old_name, ev.new_name))
        elif type(ev) is GroupSeen:
            self.group_id(ev.platform, ev.group_id, ev.name, ev.kind)
            return
        elif type(ev) is JoinRequested:
            return  # a request is not membership; the join that follows is recorded
        elif type(ev) is DirectMessage:
            return  # a private chat with the bot is not group content
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(f"not an archive event: {ev!r}")
        self._pending += 1
        if self._pending >= _FLUSH_AT:
            self.flush()

    def add_all(self, events: Iterable[Event]) -> WriteStats:
        """Write all ``events`` (messages take a shortcut past :meth:`add`)."""
        message, add, stats = self._message, self.add, self.stats
        for ev in events:
            if type(ev) is MessagePosted:
                stats.events += 1
                message(ev)
                self._pending += 1
                if self._pending >= _FLUSH_AT:
                    self.flush()
            else:
                add(ev)
        self.flush()
        return self.stats

    def _message(self, ev: MessagePosted) -> None:
        # The hot path of every import: identities come from the per-writer caches
        # inline (a tuple and a dict lookup each), the slow paths only on a miss.
        platform = ev.platform
        gid = self._groups.get((platform, ev.group_id))
        if gid is None:
            gid = self.group_id(platform, ev.group_id)
        sender = ev.sender
        mid: int | None = None
        if sender is not None:
            mid = self._seen.get((platform, sender.platform_id, sender.name, sender.is_operator))
            if mid is None:
                mid = self.member_id(platform, sender, ev.ts)
        text = ev.text
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            self.stats.truncated += 1
        if "\x00" in text:  # PostgreSQL refuses NUL in text; it never carries meaning
            text = text.replace("\x00", "")
        kind = ev.kind._value_
        by_kind = self.stats.by_kind
        by_kind[kind] = by_kind.get(kind, 0) + 1
        mentions = ev.mentions
        self._buf["messages"].append(
            (gid, ev.message_id, mid, ev.ts, kind, text, ev.reply_to, ev.forwarded, ev.edited,
             min(len(mentions), 32767), self.import_id)
        )  # fmt: skip
        if mentions:
            buf = self._buf["mentions"]
            for ref in mentions:
                buf.append((gid, ev.message_id, self.member_id(platform, ref)))

    def _membership(
        self, ev: MemberJoined | MemberLeft, action: str, actor: MemberRef | None, method: str
    ) -> None:
        gid = self._gid(ev.platform, ev.group_id)
        mid = self.member_id(ev.platform, ev.member, ev.ts)
        aid = self.member_id(ev.platform, actor) if actor is not None else None
        self._buf["membership_events"].append(
            (gid, ev.event_id, mid, ev.ts, action, method, aid, self.import_id)
        )

    def flush(self) -> None:
        """Write every buffered row; counts only rows that were really new."""
        stats = self.stats
        for table, rows in self._buf.items():
            if not rows:
                continue
            self._cursor.executemany(self._sql[table], rows)
            inserted = max(self._cursor.rowcount, 0)
            if table in ("messages", "membership_events", "reactions", "renames"):
                stats.duplicates += len(rows) - inserted
            if table == "messages":
                stats.messages += inserted
            elif table == "membership_events":
                stats.memberships += inserted
            elif table == "reactions":
                stats.reactions += inserted
            elif table == "renames":
                stats.renames += inserted
            rows.clear()
        if self._renamed:
            self._cursor.executemany(
                self._sql["set_name"], [(name, mid) for mid, name in self._renamed.items()]
            )
            self._renamed.clear()
        self._pending = 0
