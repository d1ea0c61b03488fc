"""Likely buyers for the CRM: the report's purchase-intent scoring, keyed by account.

The scoring itself is :func:`shequn.analytics.buyers.likely_buyers` (playbook §5.1),
run over the archive as the report runs it. Reading the archive costs about 2 s per
million messages, so the result is kept until the archive changes (its message count
and newest id) or for :data:`TTL` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from shequn.analytics import buyers as scoring
from shequn.analytics.frame import load
from shequn.analytics.settings import AnalyticsSettings
from shequn.features.crm.identities import Account
from shequn.store import Store, schema

__all__ = ["TTL", "Buyer", "likely_buyers"]

TTL = 600.0
_TOP = 100_000  # every member above the threshold, not a top list


@dataclass(frozen=True, slots=True)
class Buyer:
    account: Account
    name: str
    score: float
    signals: dict[str, int]
    last: str | None
    # each {ts, group: (platform, group id), text, signals, question, score}
    evidence: list[dict[str, Any]] = field(default_factory=list)


_cache: dict[str, tuple[tuple[int, int], float, dict[Account, Buyer]]] = {}
_lock = threading.Lock()


def _stamp(store: Store) -> tuple[int, int]:
    m = schema.messages
    with store.engine.connect() as conn:
        n, top = conn.execute(select(func.count(), func.coalesce(func.max(m.c.id), 0))).one()
    return int(n), int(top)


def likely_buyers(store: Store, settings: AnalyticsSettings | None = None) -> dict[Account, Buyer]:
    """``{account: Buyer}`` for every member whose messages score as a likely buyer."""
    stamp = _stamp(store)
    key = store.engine.url.render_as_string(hide_password=True)
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == stamp and time.monotonic() - hit[1] < TTL and settings is None:
            return hit[2]
    s = settings or AnalyticsSettings()
    f = load(store, tz=s.tz)
    members = {
        r["member_id"]: (r["platform"], r["platform_id"])
        for r in f.members.select("member_id", "platform", "platform_id").iter_rows(named=True)
    }
    groups = {
        r["group_id"]: (r["platform"], r["platform_id"])
        for r in f.groups.select("group_id", "platform", "platform_id").iter_rows(named=True)
    }
    out: dict[Account, Buyer] = {}
    for b in scoring.likely_buyers(f, s, top=_TOP):
        account = members[b["member_id"]]
        evidence = [{**e, "group": groups.get(e["group_id"], ("", ""))} for e in b["evidence"]]
        out[account] = Buyer(
            account, b["name"] or account[1], float(b["score"]), dict(b["signals"]),
            b["last_ts"], evidence,
        )  # fmt: skip
    if settings is None:
        with _lock:
            _cache[key] = (stamp, time.monotonic(), out)
    return out
