"""Small archives written by hand through the real writer, for numbers checkable by hand.

A :class:`Chat` collects events: say who wrote what when, then ``chat.write(store)``.
Times are given as ``at(day, hour, minute)``: local time in Asia/Shanghai (the
analytics default zone) counted from Monday 2024-01-01 00:00, ISO week 2024-W01.
Accounts named ``op…`` are operators, ``bot…`` bots.
"""

from __future__ import annotations

from collections.abc import Iterable

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
from shequn.store import Store
from shequn.store.writer import ArchiveWriter

T0 = 1704038400.0  # 2024-01-01T00:00:00+08:00, a Monday
DAY = 86400.0


def at(day: float, hour: float = 0, minute: float = 0) -> float:
    """Epoch seconds of local (UTC+8) ``hour:minute`` on day ``day`` after 2024-01-01."""
    return T0 + day * DAY + hour * 3600 + minute * 60


class Chat:
    """Events for a hand-made archive; ``write`` feeds them to :class:`ArchiveWriter`."""

    platform = "test"

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._n = 0

    def ref(self, who: str) -> MemberRef:
        return MemberRef(who, who, is_bot=who.startswith("bot"), is_operator=who.startswith("op"))

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def group(self, group: str, name: str | None = None) -> None:
        self.events.append(GroupSeen(self.platform, group, name or group))

    def say(
        self,
        group: str,
        who: str,
        ts: float,
        text: str | None = None,
        *,
        kind: MessageKind = MessageKind.TEXT,
        reply: str | None = None,
        mentions: Iterable[str] = (),
        forwarded: bool = False,
    ) -> str:
        mid = self._id("m")
        if text is None:
            text = f"message number {mid}"  # unique: repeated texts look like ads
        self.events.append(
            MessagePosted(
                self.platform,
                group,
                mid,
                ts,
                self.ref(who),
                text,
                kind,
                reply,
                tuple(self.ref(m) for m in mentions),
                forwarded,
            )
        )
        return mid

    def system(self, group: str, who: str, ts: float, text: str = "pin_message") -> str:
        return self.say(group, who, ts, text, kind=MessageKind.SYSTEM)

    def join(self, group: str, who: str, ts: float, inviter: str | None = None) -> None:
        method = JoinMethod.INVITED if inviter else JoinMethod.LINK
        inv = self.ref(inviter) if inviter else None
        self.events.append(
            MemberJoined(self.platform, group, self._id("j"), ts, self.ref(who), inv, method)
        )

    def leave(self, group: str, who: str, ts: float, by: str | None = None) -> None:
        remover = self.ref(by) if by else None
        self.events.append(
            MemberLeft(self.platform, group, self._id("l"), ts, self.ref(who), remover)
        )

    def react(self, group: str, message_id: str, who: str, emoji: str = "👍") -> None:
        self.events.append(ReactionAdded(self.platform, group, message_id, emoji, 1, self.ref(who)))

    def write(self, store: Store) -> None:
        with store.engine.begin() as conn:
            ArchiveWriter(conn).add_all(self.events)


def member_ids(store: Store) -> dict[str, int]:
    """``{platform_id: archive id}`` of every member."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT platform_id, id FROM members").all()
    return {pid: mid for pid, mid in rows}


def group_ids(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT platform_id, id FROM groups").all()
    return {pid: gid for pid, gid in rows}
