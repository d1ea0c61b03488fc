"""Flood and cross-group duplicates: the stateful checks text moderation cannot make.

A member posting ``flood_messages`` messages within ``flood_seconds`` in one group is
flooding (刷屏); the same text — equal after normalisation, so spacing, width and
script tricks do not help — posted by one member in ``duplicate_groups`` groups within
``duplicate_seconds`` is a spam run across the community (群发广告). Both give a
``spam`` verdict with the evidence, which the strike ladder then handles like any
other violation.

State is kept in memory per bot process (bounded: old entries are dropped as time
moves on); after a restart the windows start empty, which at worst lets one more
burst through.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shequn.features.moderation.fingerprint import TextFingerprint
from shequn.features.moderation.verdict import Reason, Verdict

__all__ = ["FloodWatch"]

#: Texts shorter than this (after normalisation) are not compared across groups:
#: "好的", "+1" and "谢谢" are posted everywhere by everyone.
MIN_DUPLICATE_CHARS = 8


@dataclass
class FloodWatch:
    """Feed every member message; get a ``spam`` verdict back when a limit is crossed."""

    _posts: dict[tuple[str, str, str], deque[float]] = field(default_factory=dict)
    _texts: dict[tuple[str, str, str], deque[tuple[float, str]]] = field(default_factory=dict)

    def feed(
        self,
        platform: str,
        group_id: str,
        member_id: str,
        ts: float,
        text: str,
        *,
        flood_messages: int,
        flood_seconds: float,
        duplicate_groups: int,
        duplicate_seconds: float,
    ) -> Verdict | None:
        reasons: list[Reason] = []
        if flood_messages > 0:
            recent = self._posts.setdefault((platform, group_id, member_id), deque())
            recent.append(ts)
            while recent and recent[0] <= ts - flood_seconds:
                recent.popleft()
            if len(recent) >= flood_messages:
                detail = f"{len(recent)} messages in {flood_seconds:g} s"
                reasons.append(Reason("flood", detail, 0.95))
        if duplicate_groups > 1 and text:
            fp = TextFingerprint.of(text)
            if fp.length >= MIN_DUPLICATE_CHARS:
                seen = self._texts.setdefault((platform, member_id, fp.digest), deque())
                seen.append((ts, group_id))
                while seen and seen[0][0] <= ts - duplicate_seconds:
                    seen.popleft()
                groups = {g for _, g in seen}
                if len(groups) >= duplicate_groups:
                    detail = f"same text in {len(groups)} groups within {duplicate_seconds:g} s"
                    reasons.append(Reason("cross_group", detail, 0.95))
        self._forget(ts, max(flood_seconds, duplicate_seconds))
        if not reasons:
            return None
        return Verdict(text=text, verdict="spam", score=0.95, reasons=tuple(reasons))

    def _forget(self, now: float, horizon: float) -> None:
        """Drop members and texts with nothing inside the windows (bounded memory)."""
        if len(self._posts) + len(self._texts) < 10_000:
            return
        cutoff = now - horizon
        for store in (self._posts, self._texts):
            stale = [k for k, q in store.items() if not q or _last(q) <= cutoff]
            for k in stale:
                del store[k]


def _last(q: deque[float] | deque[tuple[float, str]]) -> float:
    item = q[-1]
    return item[0] if isinstance(item, tuple) else item
