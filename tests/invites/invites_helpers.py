"""Helpers for the invites tests: a pipeline on a real store with a settable clock."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from shequn.botconfig import GroupSettings
from shequn.events import MemberJoined, MemberLeft, MemberRef
from shequn.features.gate import GateSettings
from shequn.features.invites import InvitesSettings
from shequn.features.moderation.verdict import Verdict
from shequn.pipeline import Pipeline
from shequn.platforms.port import FakePlatform
from shequn.store import Store

T0 = 1_760_000_000.0
DAY = 86400.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(gate: GateSettings | None = None, **kw: Any) -> GroupSettings:
    return dataclasses.replace(
        GroupSettings(), invites=InvitesSettings(**kw), gate=gate or GateSettings()
    )


def pipeline(store: Store, clock: Clock, s: GroupSettings | None = None) -> Pipeline:
    gs = s or settings()
    ok = lambda text, *a, **k: Verdict(text, "ok", 0.9)  # noqa: E731
    return Pipeline(store, ok, lambda _p, _g: gs, clock)


def join(
    group: str, member: str, ts: float, *, name: str = "", invite: str | None = None,
    inviter: str | None = None, platform: str = "telegram",
) -> MemberJoined:  # fmt: skip
    return MemberJoined(
        platform, group, f"{member}:{ts}", ts, MemberRef(member, name or f"m{member}"),
        inviter=MemberRef(inviter, f"m{inviter}") if inviter else None, invite=invite,
    )  # fmt: skip


def leave(group: str, member: str, ts: float, platform: str = "telegram") -> MemberLeft:
    return MemberLeft(platform, group, f"{member}:left:{ts}", ts, MemberRef(member))


def rows(store: Store, table: Any, *where: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(table).where(*where).order_by(*table.primary_key)).all())


def fake(name: str = "telegram") -> FakePlatform:
    return FakePlatform(name=name)
