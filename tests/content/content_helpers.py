"""Helpers for the content tests: a pipeline on a real store with a settable clock."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from shequn.botconfig import GroupSettings
from shequn.features.content import ContentSettings
from shequn.features.moderation.verdict import Verdict
from shequn.pipeline import Pipeline
from shequn.store import Store


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(**kw: Any) -> GroupSettings:
    return dataclasses.replace(GroupSettings(), content=ContentSettings(**kw))


def pipeline(store: Store, clock: Clock, s: GroupSettings | None = None) -> Pipeline:
    gs = s or settings()
    return Pipeline(store, lambda text, *a, **k: Verdict(text, "ok", 0.9), lambda _p, _g: gs, clock)


def rows(store: Store, table: Any, *where: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(table).where(*where).order_by(*table.primary_key)).all())
