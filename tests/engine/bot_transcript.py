"""Helpers for the bot-engine transcripts: a chat, a clock and a stand-in moderator."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from shequn.botconfig import GroupSettings
from shequn.events import MemberJoined, MemberRef, MessagePosted
from shequn.features.moderation.verdict import Reason, Verdict
from shequn.pipeline import Pipeline
from shequn.platforms.port import Call, FakePlatform
from shequn.store import Store, schema

T0 = 1_790_000_000.0  # 2026-09-21, a fixed start for every transcript
GROUP = "g1"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def stand_in_moderate(text: str, kind: str, mentions: int, allow: Any = None) -> Verdict:
    """Ads mention WeChat ids or links; ``maybe`` is unsure; 傻逼 is abuse."""
    if allow and any(a in text for a in allow):
        return Verdict(text, "ok", 0.99)
    if "加微信" in text or "http" in text:
        return Verdict(text, "ad", 0.95, (Reason("lexicon", "加微信", 0.9),))
    if "maybe" in text:
        return Verdict(text, "ad", 0.55, (Reason("classifier", "p=0.55", 0.55),), uncertain=True)
    if "傻逼" in text:
        return Verdict(text, "abuse", 0.6)  # below the act threshold: quarrels alert only
    return Verdict(text, "ok", 0.9)


def user(pid: str, name: str = "", **kw: Any) -> MemberRef:
    return MemberRef(pid, name or pid, **kw)


@dataclass
class Chat:
    """One group's transcript: builds events with increasing times and ids."""

    pipeline: Pipeline
    platform: FakePlatform
    clock: Clock
    group: str = GROUP
    _n: int = 0
    sent: list[Any] = field(default_factory=list)

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def say(self, who: MemberRef, text: str, **kw: Any) -> MessagePosted:
        n = self._next()
        ev = MessagePosted("fake", self.group, f"m{n}", self.clock.advance(1), who, text, **kw)
        await self.pipeline.handle(ev, self.platform)
        self.sent.append(ev)
        return ev

    async def join(self, who: MemberRef) -> MemberJoined:
        n = self._next()
        ev = MemberJoined("fake", self.group, f"j{n}", self.clock.advance(1), who)
        await self.pipeline.handle(ev, self.platform)
        self.sent.append(ev)
        return ev

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [(c.name, c.args) for c in self.platform.calls]

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        """The calls since the last take."""
        out = self.calls()
        self.platform.calls.clear()
        return out


def make_pipeline(
    store: Store,
    settings: GroupSettings | None = None,
    clock: Clock | None = None,
    moderate: Callable[..., Verdict] = stand_in_moderate,
    **kw: Any,
) -> Pipeline:
    s = settings or GroupSettings()
    return Pipeline(store, moderate, lambda _p, _g: s, clock or Clock(), rng=random.Random(7), **kw)


def make_chat(
    store: Store,
    settings: GroupSettings | None = None,
    platform: FakePlatform | None = None,
    **kw: Any,
) -> Chat:
    clock = Clock()
    pipeline = make_pipeline(store, settings, clock, **kw)
    return Chat(pipeline, platform or FakePlatform(), clock)


def rows(store: Store, table: Any, *order: Any) -> list[Any]:
    with store.engine.connect() as conn:
        q = select(table)
        q = q.order_by(*order) if order else q
        return list(conn.execute(q).all())


def audit(store: Store) -> list[tuple[str, str, str, str]]:
    """(kind, status, reason, params) of every bot action, oldest first."""
    t = schema.bot_actions
    return [(r.kind, r.status, r.reason, r.params) for r in rows(store, t, t.c.id)]


def params(**kw: Any) -> str:
    return json.dumps(kw, ensure_ascii=False, sort_keys=True)


__all__ = ["GROUP", "T0", "Call", "Chat", "Clock", "Deployment", "audit", "make_chat", "make_pipeline",
           "params", "rows", "stand_in_moderate", "user"]  # fmt: skip


class Deployment:
    """One pipeline and one platform running several groups, each with its settings."""

    def __init__(self, store: Store, settings: dict[str, GroupSettings] | None = None,
                 platform: FakePlatform | None = None) -> None:  # fmt: skip
        self.store = store
        self.clock = Clock()
        self.settings = settings or {}
        self.platform = platform or FakePlatform()
        self.pipeline = Pipeline(
            store, stand_in_moderate, self.setting, self.clock, rng=random.Random(7)
        )
        self.pipeline.attach(self.platform)
        self.chats: dict[str, Chat] = {}

    def setting(self, _platform: str, group: str) -> GroupSettings:
        return self.settings.get(group, GroupSettings())

    def chat(self, group: str) -> Chat:
        if group not in self.chats:
            self.chats[group] = Chat(self.pipeline, self.platform, self.clock, group=group)
        return self.chats[group]

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        out = [(c.name, c.args) for c in self.platform.calls]
        self.platform.calls.clear()
        return out

    async def say_times(self, n: int, group: str, who: MemberRef, text: str) -> None:
        for _ in range(n):
            await self.chat(group).say(who, text)
