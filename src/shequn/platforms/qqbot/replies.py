"""The passive-reply window: which received message a post may answer, with which seq.

QQ lets a bot answer a message (``msg_id``) for five minutes after it was posted,
at most five times, each answer numbered by ``msg_seq`` (1, 2, ...; a repeated
number is dropped as a duplicate). Outside that, a post is an *active* message:
in a QQ group that is refused unless the group owner allowed active pushes (and
then counted against a small monthly quota); in a guild channel it is allowed
within the guild's daily limit.

So every post looks for an *anchor*: the message it answers when that is still
fresh, else the newest fresh message of the same group (a warning after an ad
answers the ad). :data:`WINDOW` keeps 15 s of the five minutes back for clock skew
and the time the call takes. The bookkeeping lives in memory: after a restart no
anchor is known, and group posts become human tasks until someone speaks again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["MAX_REPLIES", "PASSIVE_SECONDS", "WINDOW", "Anchor", "ReplyWindow"]

PASSIVE_SECONDS = 300.0  # QQ's window for group and guild passive replies
WINDOW = PASSIVE_SECONDS - 15.0
MAX_REPLIES = 5
_KEEP = 4096  # messages remembered; far more than five minutes of any group


@dataclass
class Anchor:
    group_id: str
    message_id: str
    ts: float
    replies: int = 0


class ReplyWindow:
    """Received messages still open for a passive reply, per group."""

    def __init__(self) -> None:
        self._by_id: OrderedDict[str, Anchor] = OrderedDict()
        self._latest: dict[str, str] = {}

    def seen(self, group_id: str, message_id: str, ts: float) -> None:
        self._by_id[message_id] = Anchor(group_id, message_id, ts)
        self._by_id.move_to_end(message_id)
        self._latest[group_id] = message_id
        while len(self._by_id) > _KEEP:
            self._by_id.popitem(last=False)

    def _open(self, anchor: Anchor | None, group_id: str, now: float) -> bool:
        return (
            anchor is not None
            and anchor.group_id == group_id
            and now - anchor.ts <= WINDOW
            and anchor.replies < MAX_REPLIES
        )

    def take(self, group_id: str, reply_to: str | None, now: float) -> tuple[str, int] | None:
        """``(msg_id, msg_seq)`` for the next passive post in ``group_id``, or None."""
        for mid in (reply_to, self._latest.get(group_id)):
            anchor = self._by_id.get(mid) if mid else None
            if anchor is not None and self._open(anchor, group_id, now):
                anchor.replies += 1
                return anchor.message_id, anchor.replies
        return None
