"""Early warning to humans (人工预警): questions left unanswered and heated quarrels.

Heuristics, deliberately simple and cheap per message; they raise alerts for a
person to judge, they never act on a member.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

__all__ = ["QuarrelWatch", "is_abusive", "is_question"]

_ENDS_AS_QUESTION = re.compile(r"(?:[?？]|[吗呢么][\s。.!！~～]*)\s*$")
_ASKS = re.compile(r"怎么|如何|为什么|为啥|哪里|哪儿|哪个|多少|能不能|可不可以|有没有|是不是")

#: A small seed list; the moderation classifier's ``abuse`` label counts too.
ABUSE_WORDS: tuple[str, ...] = (
    "傻逼", "傻b", "sb", "滚", "废物", "去死", "脑残", "白痴", "垃圾人", "闭嘴", "你妈",
    "idiot", "stupid", "moron", "shut up", "fuck",
)  # fmt: skip
_ABUSE = re.compile("|".join(re.escape(w) for w in ABUSE_WORDS), re.I)


def is_question(text: str) -> bool:
    """A question mark at the end, a closing 吗/呢, or an asking word (怎么, 如何 ...)."""
    t = text.strip()
    if len(t) < 3:
        return False
    return bool(_ENDS_AS_QUESTION.search(t) or _ASKS.search(t))


def is_abusive(text: str) -> bool:
    return bool(_ABUSE.search(text))


@dataclass(slots=True)
class _Said:
    ts: float
    sender: str
    message_id: str
    abusive: bool


class QuarrelWatch:
    """Spots a rapid back-and-forth between two members with abusive words in it.

    Kept in memory per group: an alert is advice, and after a restart the next few
    messages rebuild the picture.
    """

    def __init__(self, keep: int = 12) -> None:
        self._recent: dict[tuple[str, str], deque[_Said]] = {}
        self._keep = keep

    def feed(
        self,
        group: tuple[str, str],
        ts: float,
        sender: str,
        message_id: str,
        abusive: bool,
        *,
        window: float,
        need: int,
    ) -> list[str] | None:
        """Add one message; the quarrel's message ids when this one completes a quarrel."""
        recent = self._recent.setdefault(group, deque(maxlen=self._keep))
        recent.append(_Said(ts, sender, message_id, abusive))
        run: list[_Said] = []
        for said in reversed(recent):  # newest first: the unbroken alternating tail
            if ts - said.ts > window:
                break
            if run and said.sender == run[-1].sender:
                break
            if len({s.sender for s in run} | {said.sender}) > 2:
                break
            run.append(said)
        if len(run) >= need and sum(s.abusive for s in run) >= 2:
            recent.clear()  # one alert per quarrel, not one per further message
            return [s.message_id for s in reversed(run)]
        return None
